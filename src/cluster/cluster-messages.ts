import type { LoadedConfig } from '../config/load-config.js';
import type { RateLimitConfig } from '../config/config-types.js';
import type { TakeResult } from '../ratelimit/bucket-store.js';
import type { BcryptPoolErrorCode } from '../auth/bcrypt-pool.js';
import type { ConfigDelta } from './config-delta.js';

/** The last health check of a target as the supervisor found it. */
export interface HealthReport {
  readonly upstream: string;
  readonly url: string;
  readonly healthy: boolean;
  readonly lastCheck: { readonly at: number; readonly ok: boolean } | undefined;
}

/** Requests in flight to a target and its keep-alive pool, summed over states or workers. */
export interface TargetLoad {
  inFlight: number;
  active: number;
  idle: number;
  queued: number;
}

/** Adds one count to a running sum by target key (`upstream|url`). */
export function addTargetLoad(sums: Map<string, TargetLoad>, key: string, inFlight: number, pool: Omit<TargetLoad, 'inFlight'>): void {
  const sum = sums.get(key) ?? { inFlight: 0, active: 0, idle: 0, queued: 0 };
  sum.inFlight += inFlight;
  sum.active += pool.active;
  sum.idle += pool.idle;
  sum.queued += pool.queued;
  sums.set(key, sum);
}

/** What a worker reports of its own traffic when the supervisor asks (admin requests only). */
export interface WorkerStats {
  /** prom-client's `getMetricsAsJSON()` of the worker's registry (scope `all`). */
  readonly metrics: unknown;
  /** Requests per configured host by status class, since the worker started (scope `all`). */
  readonly requestCounts: Array<[string, readonly number[]]>;
  /** Per target (`upstream|url`): requests in flight and the keep-alive pool. */
  readonly targets: Array<[string, TargetLoad]>;
}

/** Messages the supervisor sends a worker. `id`: the worker answers with a `reply` of that id. */
export type ToWorker =
  | { readonly type: 'init'; readonly loaded: LoadedConfig; readonly health: readonly HealthReport[]; readonly drained: ReadonlyArray<readonly [string, string]>; readonly blocked: ReadonlyArray<readonly [string, number]> }
  | { readonly type: 'apply'; readonly id: number; readonly delta: ConfigDelta }
  | { readonly type: 'health'; readonly report: HealthReport }
  | { readonly type: 'drain'; readonly upstream: string; readonly url: string; readonly draining: boolean }
  | { readonly type: 'auth-blocked'; readonly ip: string; readonly until: number }
  | { readonly type: 'certificate'; readonly host: string }
  /** `targets`: in-flight counts and pools only (drain waits poll this); `all`: metrics too. */
  | { readonly type: 'stats'; readonly id: number; readonly scope: 'targets' | 'all' }
  | { readonly type: 'shutdown' }
  | { readonly type: 'reply'; readonly id: number; readonly value: unknown }
  | { readonly type: 'taken'; readonly items: ReadonlyArray<readonly [id: number, result: TakeResult]> };

/** Messages a worker sends its supervisor. */
export type FromWorker =
  | { readonly type: 'hello' }
  | { readonly type: 'ready'; readonly ports: { readonly http: number; readonly https: number } }
  /** Bucket takes of one turn of the worker's event loop, answered by one `taken`. */
  | { readonly type: 'take'; readonly items: ReadonlyArray<readonly [id: number, key: string, limit: RateLimitConfig]> }
  | { readonly type: 'refund'; readonly key: string; readonly limit: RateLimitConfig }
  | { readonly type: 'auth-begin'; readonly id: number; readonly ip: string }
  /** A bcrypt comparison, run (once per password and hash) in the supervisor; answered by a CompareReply. */
  | { readonly type: 'compare'; readonly id: number; readonly password: string; readonly hash: string }
  | { readonly type: 'auth-end'; readonly ip: string; readonly wrong: boolean }
  | { readonly type: 'auth-failure'; readonly ip: string }
  | { readonly type: 'challenge'; readonly id: number; readonly token: string }
  | { readonly type: 'reply'; readonly id: number; readonly value: unknown };

/** The answer to `apply`. */
export type ApplyReply = { readonly ok: true; readonly version: number; readonly hostsCompiled: number } | { readonly ok: false; readonly message: string };

/** The verdict of a `compare`, or why there is none (a BcryptPoolError's code and message). */
export type CompareReply = { readonly ok: boolean } | { readonly error: BcryptPoolErrorCode; readonly message: string };

export type { TakeResult };

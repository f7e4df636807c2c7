import type { RateLimitConfig } from '../config/config-types.js';
import type { Logger } from '../observability/logger.js';
import type { BucketStore, TakeResult } from './bucket-store.js';

/** What the fallback store wraps and how it notices recovery. */
export interface FallbackBucketStoreOptions {
  /** The shared store (Redis); its failures never reach the caller. */
  readonly primary: BucketStore;
  /** Answers while the primary is down; owned (closed) by the fallback store. */
  readonly local: BucketStore;
  /** Resolves once the primary is reachable again, e.g. `() => conn.client.ping()`. */
  readonly probe: () => Promise<unknown>;
  readonly log: Logger;
  readonly probeIntervalMs?: number;
}

/** A BucketStore that survives outages of its primary; `usingFallback()` feeds a gauge. */
export interface FallbackBucketStore extends BucketStore {
  usingFallback(): boolean;
  close(): void;
}

/**
 * Redis first, local buckets while Redis is unreachable (SPEC §3: each instance keeps serving,
 * logged, and goes back when Redis returns). A failed Redis take is answered from the local
 * store at once, so no request fails; the client's short command timeout bounds the wait.
 * Traefik answers 500 here instead, which STYLE lists as a thing to avoid.
 *
 * The body is the store: the outage state and its probe timer, closed over by take and refund.
 */
export function createFallbackBucketStore(opts: FallbackBucketStoreOptions): FallbackBucketStore {
  const { primary, local, log } = opts;
  const probeIntervalMs = opts.probeIntervalMs ?? 1_000;
  let down = false;
  let probeTimer: NodeJS.Timeout | undefined;
  let probing = false;
  let closed = false;

  const markUp = (): void => {
    if (!down) return;
    down = false;
    stopProbing();
    log.info({ event: 'ratelimit_store', state: 'redis' });
  };

  const probeOnce = (): void => {
    if (probing) return;
    probing = true;
    opts.probe().then(
      () => {
        probing = false;
        if (!closed) markUp();
      },
      (err: unknown) => {
        probing = false;
        // Expected on every tick of an outage; the outage itself was logged once at warn.
        log.debug({ event: 'ratelimit_store', state: 'probe_failed', err: errorMessage(err) });
      },
    );
  };

  const stopProbing = (): void => {
    if (probeTimer !== undefined) clearInterval(probeTimer);
    probeTimer = undefined;
  };

  const markDown = (err: unknown): void => {
    if (down) return;
    down = true;
    log.warn({
      event: 'ratelimit_store',
      state: 'local',
      code: 'PORTICO_STORE_UNAVAILABLE',
      err: errorMessage(err),
    });
    if (closed) return;
    probeTimer = setInterval(probeOnce, probeIntervalMs);
    probeTimer.unref();
  };

  return {
    take(key: string, limit: RateLimitConfig): TakeResult | Promise<TakeResult> {
      if (down) return local.take(key, limit);
      let pending: TakeResult | Promise<TakeResult>;
      try {
        pending = primary.take(key, limit);
      } catch (err) {
        markDown(err);
        return local.take(key, limit);
      }
      if (!isPromiseLike(pending)) return pending;
      return Promise.resolve(pending).then(undefined, (err: unknown) => {
        markDown(err);
        return local.take(key, limit);
      });
    },
    refund(key: string, limit: RateLimitConfig): void {
      if (down) return local.refund?.(key, limit);
      // The primary's refund may be a Promise (Redis); losing one refund only costs one token.
      const pending: unknown = primary.refund?.(key, limit);
      if (isPromiseLike(pending)) {
        pending.then(undefined, (err: unknown) => log.debug({ event: 'ratelimit_store', state: 'refund_failed', err: errorMessage(err) }));
      }
    },
    usingFallback: () => down,
    close(): void {
      closed = true;
      stopProbing();
      local.close?.();
    },
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T>).then === 'function';
}

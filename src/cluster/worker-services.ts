import type { AuthFailureThrottle } from '../auth/auth-failure-throttle.js';
import type { PasswordCompare } from '../auth/basic-auth-verifier.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { BucketStore } from '../ratelimit/bucket-store.js';

/**
 * What a worker process gets from its supervisor instead of owning it (SPEC §4 Workers): the
 * config, validated once; the rate-limit buckets, the auth throttle and bcrypt comparisons,
 * kept in one place so they are exact across workers; the answers to ACME challenges its supervisor orders.
 */
export interface WorkerServices {
  readonly loaded: LoadedConfig;
  readonly buckets: BucketStore;
  readonly throttle: AuthFailureThrottle;
  /** bcrypt comparisons, run once per credential for the whole instance. */
  readonly compare: PasswordCompare;
  challengeResponse(token: string): Promise<string | undefined>;
}

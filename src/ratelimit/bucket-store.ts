import type { RateLimitConfig } from '../config/config-types.js';

/** The answer of one token-bucket take. */
export interface TakeResult {
  readonly allowed: boolean;
  /** Whole tokens left after this take (0 when rejected). */
  readonly remaining: number;
  /** Milliseconds until one token is available again (0 when allowed). */
  readonly retryAfterMs: number;
}

/**
 * Where token buckets live (memory or Redis). A store answers synchronously when it can, so the
 * request pipeline only allocates a Promise when it really has to wait (STYLE §2.5 step 4).
 */
export interface BucketStore {
  take(key: string, limit: RateLimitConfig): TakeResult | Promise<TakeResult>;
  /**
   * Gives back one token taken by a request that a later limit then rejected (a host limit
   * followed by a route limit): SPEC §3 says rejected requests do not consume tokens.
   * Best effort and never throws; a store that must wait (Redis) may return a Promise, which
   * only the fallback store sees and whose failure it logs.
   */
  refund?(key: string, limit: RateLimitConfig): void;
  close?(): void;
}

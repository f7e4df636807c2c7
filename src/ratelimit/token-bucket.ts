import type { TakeResult } from './bucket-store.js';

/** The mutable state of one bucket: tokens held at time `last` (ms). */
export interface TokenBucketState {
  tokens: number;
  last: number;
}

/** The two numbers that define a bucket's shape. */
export interface TokenBucketLimit {
  readonly ratePerSec: number;
  readonly burst: number;
}

// Refill is computed in floating point; without a little slack, 0.1 s at 10/s could leave
// 0.9999999 tokens and reject a request the spec says must be admitted.
const EPSILON = 1e-9;
// Likewise 1.0000000000000009 ms of waiting must round up to 1 ms, not 2.
const EPSILON_MS = 1e-6;

/** A fresh bucket is full: a new client may send `burst` requests at once (SPEC §3). */
export function fullTokenBucket(limit: TokenBucketLimit, now: number): TokenBucketState {
  return { tokens: limit.burst, last: now };
}

/**
 * Refills `state` up to `now`, then takes one token if there is one. Mutates `state`.
 * A rejected take only refills: rejected requests do not consume tokens (SPEC §3).
 * `now` is injected (STYLE §3.14) so tests are exact and instant.
 */
export function takeToken(state: TokenBucketState, limit: TokenBucketLimit, now: number): TakeResult {
  const elapsed = now - state.last;
  // A clock that goes backwards (NTP step) must neither add nor remove tokens.
  if (elapsed > 0) {
    state.tokens = Math.min(limit.burst, state.tokens + (elapsed * limit.ratePerSec) / 1000);
    state.last = now;
  }
  if (state.tokens + EPSILON >= 1) {
    state.tokens = Math.max(0, state.tokens - 1);
    return { allowed: true, remaining: Math.floor(state.tokens + EPSILON), retryAfterMs: 0 };
  }
  const retryAfterMs = Math.max(1, Math.ceil(((1 - state.tokens) * 1000) / limit.ratePerSec - EPSILON_MS));
  return { allowed: false, remaining: 0, retryAfterMs };
}

/** Milliseconds from `now` until the bucket is full again, i.e. indistinguishable from no bucket. */
export function msUntilFull(state: TokenBucketState, limit: TokenBucketLimit, now: number): number {
  const missing = limit.burst - state.tokens;
  if (missing <= 0) return 0;
  return Math.max(0, state.last + (missing * 1000) / limit.ratePerSec - now);
}

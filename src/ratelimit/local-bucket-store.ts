import type { RateLimitConfig } from '../config/config-types.js';
import type { BucketStore, TakeResult } from './bucket-store.js';
import { msUntilFull, takeToken, type TokenBucketState } from './token-bucket.js';

/** Options of the in-memory store; all have production defaults. */
export interface LocalBucketStoreOptions {
  /** Clock in ms (STYLE §3.14). */
  readonly now?: () => number;
  /** Most buckets kept at once; the least recently used is evicted beyond it. */
  readonly maxKeys?: number;
  readonly sweepIntervalMs?: number;
}

/** An in-memory BucketStore whose `take` never allocates a Promise. */
export interface LocalBucketStore extends BucketStore {
  take(key: string, limit: RateLimitConfig): TakeResult;
  refund(key: string, limit: RateLimitConfig): void;
  /** Drops every bucket that has refilled to full; runs on a timer, exposed for tests. */
  sweep(): void;
  readonly size: number;
  close(): void;
}

interface Entry extends TokenBucketState {
  /** When the bucket will be full again: from then on it equals an absent bucket. */
  fullAt: number;
}

// Traefik caps its in-memory limiter at 65,536 buckets; a flood of distinct keys
// (e.g. random header values) must not grow memory without bound.
const DEFAULT_MAX_KEYS = 65_536;
const DEFAULT_SWEEP_MS = 10_000;

/** Creates a Map-based token-bucket store with a periodic sweep and a size cap (STYLE §2.8). */
export function createLocalBucketStore(opts: LocalBucketStoreOptions = {}): LocalBucketStore {
  const now = opts.now ?? Date.now;
  const maxKeys = opts.maxKeys ?? DEFAULT_MAX_KEYS;
  const buckets = new Map<string, Entry>();

  const sweep = (): void => {
    const t = now();
    for (const [key, entry] of buckets) {
      if (entry.fullAt <= t) buckets.delete(key);
    }
  };
  const timer = setInterval(sweep, opts.sweepIntervalMs ?? DEFAULT_SWEEP_MS);
  timer.unref();

  const take = (key: string, limit: RateLimitConfig): TakeResult => {
    const t = now();
    let entry = buckets.get(key);
    if (entry === undefined) {
      if (buckets.size >= maxKeys) evictOldest(buckets);
      // One literal, so every bucket has the same hidden class and no temporary object is
      // made (a spread gave thousands of buckets shapes of their own).
      entry = { tokens: limit.burst, last: t, fullAt: t };
    } else {
      // Re-insert so Map order is least-recently-used first; an active abuser's bucket is
      // then never the one evicted by a flood of new keys.
      buckets.delete(key);
    }
    buckets.set(key, entry);
    const result = takeToken(entry, limit, t);
    entry.fullAt = t + msUntilFull(entry, limit, t);
    return result;
  };

  const refund = (key: string, limit: RateLimitConfig): void => {
    const entry = buckets.get(key);
    // An absent bucket is a full one: there is nothing to give back.
    if (entry === undefined) return;
    const t = now();
    entry.tokens = Math.min(limit.burst, entry.tokens + 1);
    entry.fullAt = t + msUntilFull(entry, limit, t);
  };

  return {
    take,
    refund,
    sweep,
    get size() {
      return buckets.size;
    },
    close: () => clearInterval(timer),
  };
}

function evictOldest(buckets: Map<string, Entry>): void {
  const oldest = buckets.keys().next();
  if (oldest.done !== true) buckets.delete(oldest.value);
}

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
  /** Drops every bucket that has been full for a sweep interval; runs on a timer, exposed for tests. */
  sweep(): void;
  readonly size: number;
  close(): void;
}

interface Entry extends TokenBucketState {
  /** When the bucket will be full again: from then on it equals an absent bucket. */
  fullAt: number;
  /** The key it is stored under: the string kept is the first request's, never a later one's. */
  readonly key: string;
  /** Neighbours in least-recently-used order (`older` of the oldest is null). */
  older: Entry | null;
  newer: Entry | null;
}

// Traefik caps its in-memory limiter at 65,536 buckets; a flood of distinct keys
// (e.g. random header values) must not grow memory without bound.
const DEFAULT_MAX_KEYS = 65_536;
const DEFAULT_SWEEP_MS = 10_000;

/**
 * Creates a Map-based token-bucket store with a periodic sweep and a size cap (STYLE §2.8).
 *
 * A take on a known key changes numbers and two links in objects that already exist: the Map
 * is not touched and the request's key string is not kept. Re-inserting into the Map on every
 * take (the easy way to keep it in LRU order) stored a new key string per request and left
 * holes that made V8 rebuild the whole table every few thousand requests; with thousands of
 * clients or hosts that garbage outlived the young generation and grew the process by
 * megabytes a minute between full collections (docs/performance.md, Configuration at scale).
 */
export function createLocalBucketStore(opts: LocalBucketStoreOptions = {}): LocalBucketStore {
  const now = opts.now ?? Date.now;
  const maxKeys = opts.maxKeys ?? DEFAULT_MAX_KEYS;
  const sweepMs = opts.sweepIntervalMs ?? DEFAULT_SWEEP_MS;
  const buckets = new Map<string, Entry>();
  let oldest: Entry | null = null;
  let newest: Entry | null = null;

  const unlink = (e: Entry): void => {
    if (e.older === null) oldest = e.newer;
    else e.older.newer = e.newer;
    if (e.newer === null) newest = e.older;
    else e.newer.older = e.older;
    e.older = e.newer = null;
  };
  const append = (e: Entry): void => {
    e.older = newest;
    if (newest === null) oldest = e;
    else newest.newer = e;
    newest = e;
  };
  const remove = (e: Entry): void => {
    unlink(e);
    buckets.delete(e.key);
  };

  // A bucket that refilled to full equals an absent one. Only buckets full for a whole sweep
  // interval go: a client that comes back every few seconds keeps its bucket instead of
  // having it dropped and made again on each sweep.
  const sweep = (): void => {
    const before = now() - sweepMs;
    for (let e = oldest; e !== null; ) {
      const next: Entry | null = e.newer;
      if (e.fullAt <= before) remove(e);
      e = next;
    }
  };
  const timer = setInterval(sweep, sweepMs);
  timer.unref();

  const take = (key: string, limit: RateLimitConfig): TakeResult => {
    const t = now();
    let entry = buckets.get(key);
    if (entry === undefined) {
      if (buckets.size >= maxKeys && oldest !== null) remove(oldest);
      // One literal, so every bucket has the same hidden class and no temporary object is
      // made (a spread gave thousands of buckets shapes of their own).
      entry = { tokens: limit.burst, last: t, fullAt: t, key, older: null, newer: null };
      buckets.set(key, entry);
      append(entry);
    } else if (entry !== newest) {
      // Most recently used last: an active abuser's bucket is never the one evicted by a
      // flood of new keys.
      unlink(entry);
      append(entry);
    }
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

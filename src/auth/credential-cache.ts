import * as crypto from 'node:crypto';
import { createHash, timingSafeEqual } from 'node:crypto';

/** Options of the credential cache; all have production defaults. */
export interface CredentialCacheOptions {
  /** Clock in ms (STYLE §3.14). */
  readonly now?: () => number;
  /** How long a verified credential is trusted; capped at 5 minutes (SPEC §3). */
  readonly ttlMs?: number;
  readonly maxEntries?: number;
}

/** Remembers verified credentials so authenticated traffic does not pay bcrypt per request. */
export interface CredentialCache {
  /** The cache key of an Authorization header value: its SHA-256, never the password. */
  keyOf(authorization: string): string;
  /** True when this key was verified for `user` against `currentHash` and has not expired. */
  lookup(key: string, user: string, currentHash: string): boolean;
  /** The check already running for this key and hash, if any: joining it costs no bcrypt. */
  pending(key: string, hash: string): Promise<boolean> | undefined;
  /**
   * Runs `check` once for concurrent callers with the same key and hash (singleflight), and
   * caches a success.
   */
  verify(key: string, user: string, hash: string, check: () => Promise<boolean>): Promise<boolean>;
}

interface Entry {
  readonly user: string;
  /** The hash the password was verified against: a changed hash in the config invalidates. */
  readonly hash: Buffer;
  readonly expiresAt: number;
}

const MAX_TTL_MS = 5 * 60_000;
const DEFAULT_MAX_ENTRIES = 10_000;

/**
 * Creates the credential cache (STYLE §2.9). Entries store only "valid for user X with hash H
 * until T"; keys are SHA-256 digests of the header, unlike Caddy's basicauth, which keys its
 * cache by the plaintext password. One instance can serve every host: an entry only counts for
 * a host whose user has the very hash it was verified against.
 */
export function createCredentialCache(opts: CredentialCacheOptions = {}): CredentialCache {
  const now = opts.now ?? Date.now;
  const ttlMs = Math.min(opts.ttlMs ?? MAX_TTL_MS, MAX_TTL_MS);
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const entries = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<boolean>>();

  const remember = (key: string, user: string, hash: string): void => {
    entries.delete(key);
    // Map order is insertion order; lookups re-insert, so the first key is the least recent.
    if (entries.size >= maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done !== true) entries.delete(oldest.value);
    }
    entries.set(key, { user, hash: Buffer.from(hash), expiresAt: now() + ttlMs });
  };

  return {
    keyOf: sha256Base64,

    lookup(key, user, currentHash) {
      const entry = entries.get(key);
      if (entry === undefined) return false;
      if (entry.expiresAt <= now()) {
        entries.delete(key);
        return false;
      }
      if (entry.user !== user || !sameSecret(entry.hash, currentHash)) return false;
      entries.delete(key);
      entries.set(key, entry);
      return true;
    },

    pending: (key, hash) => inFlight.get(flightKeyOf(key, hash)),

    verify(key, user, hash, check) {
      const flightKey = flightKeyOf(key, hash);
      const pending = inFlight.get(flightKey);
      if (pending !== undefined) return pending;
      const flight = check().then(
        (ok) => {
          inFlight.delete(flightKey);
          if (ok) remember(key, user, hash);
          return ok;
        },
        (err: unknown) => {
          inFlight.delete(flightKey);
          throw err;
        },
      );
      inFlight.set(flightKey, flight);
      return flight;
    },
  };
}

/**
 * The hash is part of the flight key: two hosts may give the same user different hashes, and one
 * comparison must not answer for the other.
 */
function flightKeyOf(key: string, hash: string): string {
  return `${key}\n${hash}`;
}

/**
 * SHA-256 of a header value, base64. The one-shot crypto.hash (Node >= 20.12) is a third of the
 * cost of a Hash object, and this runs on every authenticated request.
 */
const sha256Base64: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'base64')
    : (text) => createHash('sha256').update(text).digest('base64');

/** Constant-time equality, so comparing a stored hash leaks nothing through timing. */
function sameSecret(stored: Buffer, candidate: string): boolean {
  const other = Buffer.from(candidate);
  return other.length === stored.length && timingSafeEqual(other, stored);
}

import { createHash } from 'node:crypto';
import type { PasswordCompare } from './basic-auth-verifier.js';

/** Options of a shared compare; all have production defaults. */
export interface SharedCompareOptions {
  /** Clock in ms (STYLE §3.14). */
  readonly now?: () => number;
  /** How long a match is remembered; as the credential cache, at most 5 minutes (SPEC §3). */
  readonly ttlMs?: number;
  readonly maxEntries?: number;
}

const MAX_TTL_MS = 5 * 60_000;
const DEFAULT_MAX_ENTRIES = 10_000;

/**
 * A password comparison for every worker of an instance (SPEC §4 Workers), run where the
 * supervisor keeps it: a password that matched a hash is remembered (as a SHA-256 digest of the
 * pair, never the password) for the credential cache's lifetime, and concurrent comparisons of
 * the same pair run bcrypt once. So a credential costs one bcrypt run per instance, not one per
 * worker; each worker's own credential cache still answers its repeat requests without asking.
 * Mismatches are not remembered: the auth-failure throttle, not a cache, limits guessing.
 */
export function createSharedCompare(compare: PasswordCompare, opts: SharedCompareOptions = {}): PasswordCompare {
  const now = opts.now ?? Date.now;
  const ttlMs = Math.min(opts.ttlMs ?? MAX_TTL_MS, MAX_TTL_MS);
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  /** Digest of a matching pair → when the match stops counting; oldest first. */
  const matched = new Map<string, number>();
  const inFlight = new Map<string, Promise<boolean>>();

  return (password, hash) => {
    const key = createHash('sha256').update(hash).update('\0').update(password).digest('base64');
    const until = matched.get(key);
    if (until !== undefined) {
      if (until > now()) return Promise.resolve(true);
      matched.delete(key);
    }
    const running = inFlight.get(key);
    if (running !== undefined) return running;
    const run = compare(password, hash).then(
      (ok) => {
        inFlight.delete(key);
        if (ok) {
          if (matched.size >= maxEntries) matched.delete(matched.keys().next().value!);
          matched.set(key, now() + ttlMs);
        }
        return ok;
      },
      (err: unknown) => {
        inFlight.delete(key);
        throw err;
      },
    );
    inFlight.set(key, run);
    return run;
  };
}

import type { PasswordCompare } from './basic-auth-verifier.js';
import { createCredentialCache, type CredentialCacheOptions } from './credential-cache.js';

/**
 * A password comparison for every worker of an instance (SPEC §4 Workers), run where the
 * supervisor keeps it. It is the credential cache a single process uses, keyed by a digest of
 * the password and hash instead of a header: a match is remembered (never the password) for
 * the cache's lifetime, and concurrent comparisons of one pair run bcrypt once. So a
 * credential costs one bcrypt run per instance, not one per worker; each worker's own
 * credential cache still answers its repeat requests without asking. Mismatches are not
 * remembered: the auth-failure throttle, not a cache, limits guessing.
 */
export function createSharedCompare(compare: PasswordCompare, opts: CredentialCacheOptions = {}): PasswordCompare {
  const cache = createCredentialCache(opts);
  return (password, hash) => {
    const key = cache.keyOf(`${hash}\0${password}`);
    if (cache.lookup(key, '', hash)) return Promise.resolve(true);
    return cache.verify(key, '', hash, () => compare(password, hash));
  };
}

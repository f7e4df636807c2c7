import type { ChallengeStore } from './challenge-store.js';

/** A ChallengeStore for a single instance: a Map in this process. */
export function createMemoryChallengeStore(): ChallengeStore {
  const tokens = new Map<string, string>();
  return {
    async set(token, keyAuthorization) {
      tokens.set(token, keyAuthorization);
    },
    async get(token) {
      return tokens.get(token);
    },
    async remove(token) {
      tokens.delete(token);
    },
  };
}

import type { Redis } from 'ioredis';
import type { ChallengeStore } from './challenge-store.js';

// The CA validates within minutes; the TTL only bounds what a crashed order leaves behind.
const DEFAULT_TTL_MS = 3_600_000;

/**
 * A ChallengeStore in Redis (`PREFIX acme-challenge:TOKEN`), so whichever instance the CA's
 * validation request reaches can answer, not only the one that placed the order.
 */
export class RedisChallengeStore implements ChallengeStore {
  private readonly client: Redis;
  private readonly prefix: string;
  private readonly ttlMs: number;

  constructor(opts: { client: Redis; prefix: string; ttlMs?: number }) {
    this.client = opts.client;
    this.prefix = opts.prefix;
    this.ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
  }

  async set(token: string, keyAuthorization: string): Promise<void> {
    await this.client.set(this.key(token), keyAuthorization, 'PX', this.ttlMs);
  }

  async get(token: string): Promise<string | undefined> {
    return (await this.client.get(this.key(token))) ?? undefined;
  }

  async remove(token: string): Promise<void> {
    await this.client.del(this.key(token));
  }

  private key(token: string): string {
    return `${this.prefix}acme-challenge:${token}`;
  }
}

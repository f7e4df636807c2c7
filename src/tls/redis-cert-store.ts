import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CertStore, CertStoreLock } from './cert-store.js';

// Compare-and-delete: a holder whose lock expired must not delete the next holder's lock.
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
// Compare-and-extend, for the same reason.
const REFRESH_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * A CertStore in Redis, shared by every Portico instance using the same Redis and prefix.
 * Values live at `PREFIX certs:KEY`; locks at `PREFIX certlocks:KEY` (SET NX PX, owner token).
 */
export class RedisCertStore implements CertStore {
  private readonly client: Redis;
  private readonly prefix: string;

  constructor(opts: { client: Redis; prefix: string }) {
    this.client = opts.client;
    this.prefix = opts.prefix;
  }

  async load(key: string): Promise<Buffer | undefined> {
    return (await this.client.getBuffer(this.valueKey(key))) ?? undefined;
  }

  async store(key: string, value: Buffer): Promise<void> {
    // A single SET replaces the value atomically.
    await this.client.set(this.valueKey(key), value);
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.valueKey('');
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.client.scan(cursor, 'MATCH', `${escapeGlob(base + prefix)}*`, 'COUNT', 200);
      cursor = next;
      for (const key of batch) keys.push(key.slice(base.length));
    } while (cursor !== '0');
    return [...new Set(keys)].sort();
  }

  async lock(key: string, ttlMs: number): Promise<CertStoreLock | undefined> {
    const lockKey = `${this.prefix}certlocks:${key}`;
    const token = randomUUID();
    const ok = await this.client.set(lockKey, token, 'PX', ttlMs, 'NX');
    if (ok !== 'OK') return undefined;
    return {
      refresh: async (ttl) => (await this.client.eval(REFRESH_SCRIPT, 1, lockKey, token, String(ttl))) === 1,
      release: async () => {
        await this.client.eval(RELEASE_SCRIPT, 1, lockKey, token);
      },
    };
  }

  private valueKey(key: string): string {
    return `${this.prefix}certs:${key}`;
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

import { Redis } from 'ioredis';
import type { RedisConfig } from '../config/config-types.js';
import type { Logger } from '../observability/logger.js';

/** The process's one Redis client plus the key prefix every Portico key lives under. */
export interface RedisConnection {
  readonly client: Redis;
  /** `redis.prefix` from the config, e.g. `portico:`; callers prepend it to their own keys. */
  readonly prefix: string;
  close(): Promise<void>;
}

/** Budget of one command on the request path: a slow Redis must not hold requests (STYLE §2.8). */
export const REDIS_COMMAND_TIMEOUT_MS = 200;
const MAX_RECONNECT_DELAY_MS = 2_000;

/**
 * Creates the shared ioredis client, configured so that an outage fails fast instead of
 * queueing: no offline queue, one retry per request, a short command timeout, and capped
 * reconnect backoff that never gives up (STYLE §2.14). Connection state changes are logged
 * once per transition, not once per reconnect attempt.
 */
export function createRedisConnection(cfg: RedisConfig, log: Logger): RedisConnection {
  const client = new Redis(cfg.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: 2_000,
    retryStrategy: (times: number) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
  });

  let state: 'starting' | 'up' | 'down' = 'starting';
  const markDown = (err?: Error): void => {
    if (state === 'down') return;
    state = 'down';
    // The URL may embed a password (redis://:secret@host), so it is never logged.
    log.warn({ event: 'redis', state: 'down', code: 'PORTICO_STORE_UNAVAILABLE', err: err?.message });
  };
  // Without an 'error' listener, ioredis re-emits connection errors as unhandled and the
  // process would crash on the first refused connection.
  client.on('error', (err: Error) => markDown(err));
  client.on('close', () => {
    if (state === 'up') markDown();
  });
  client.on('ready', () => {
    if (state === 'up') return;
    state = 'up';
    log.info({ event: 'redis', state: 'up' });
  });

  let closed = false;
  return {
    client,
    prefix: cfg.prefix,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (client.status === 'ready') {
        try {
          await client.quit();
          return;
        } catch (err) {
          log.debug({ event: 'redis', state: 'closing', err: (err as Error).message });
        }
      }
      // Not connected (or QUIT failed): stop the reconnect loop without waiting for Redis.
      client.disconnect();
    },
  };
}

import type { Config } from '../config/config-types.js';
import type { Logger } from '../observability/logger.js';
import type { RedisConnection } from './redis-connection.js';

/**
 * The Redis connection when the config has `redis:`. ioredis takes about 13 MiB of memory once
 * loaded, so it is only loaded for a config that uses it.
 */
export async function connectRedis(config: Config, log: Logger): Promise<RedisConnection | undefined> {
  if (!config.redis) return undefined;
  const { createRedisConnection } = await import('./redis-connection.js');
  return createRedisConnection(config.redis, log.child({ module: 'redis' }));
}

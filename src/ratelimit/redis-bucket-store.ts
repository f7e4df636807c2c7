import type { Redis } from 'ioredis';
import type { RateLimitConfig } from '../config/config-types.js';
import type { RedisConnection } from '../store/redis-connection.js';
import type { BucketStore, TakeResult } from './bucket-store.js';

/**
 * The token bucket as one atomic script. The time comes from `redis.call('TIME')`, never from
 * the caller, so every Portico instance shares one clock (STYLE §2.8; Traefik's
 * redis_limiter.go trusts the caller's clock, which skews across hosts). Redis ≥ 5 replicates
 * script effects, so a non-deterministic TIME call is allowed.
 * KEYS[1] bucket hash; ARGV[1] rate per second; ARGV[2] burst.
 * Returns { allowed (0|1), remaining whole tokens, retryAfterMs }.
 */
const TAKE_TOKEN_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'last')
local tokens = tonumber(stored[1])
local last = tonumber(stored[2])
if tokens == nil or last == nil then
  tokens = burst
  last = now
end
if now > last then
  tokens = math.min(burst, tokens + (now - last) * rate / 1000)
  last = now
end
if tokens + 1e-9 < 1 then
  -- Rejected requests do not consume tokens, so nothing is written (SPEC §3).
  return { 0, 0, math.max(1, math.ceil((1 - tokens) * 1000 / rate - 1e-6)) }
end
tokens = math.max(0, tokens - 1)
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'last', tostring(last))
-- A full bucket equals an absent one, so the key only needs to live until it has refilled.
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((burst - tokens) * 1000 / rate)))
return { 1, math.floor(tokens + 1e-9), 0 }
`;

/**
 * Gives one token back (capped at burst) to a bucket that still exists; `last` is kept, so the
 * refill arithmetic of the take script is unchanged. KEYS[1] bucket hash; ARGV[1] burst.
 */
const REFUND_TOKEN_LUA = `
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
if tokens == nil then return 0 end
redis.call('HSET', KEYS[1], 'tokens', tostring(math.min(tonumber(ARGV[1]), tokens + 1)))
return 1
`;

const COMMAND_NAME = 'porticoTakeToken';
const REFUND_COMMAND_NAME = 'porticoRefundToken';

type TakeTokenReply = [number, number, number];
type ScriptedRedis = Redis & {
  porticoTakeToken(key: string, ratePerSec: string, burst: string): Promise<TakeTokenReply>;
  porticoRefundToken(key: string, burst: string): Promise<number>;
};

/** A BucketStore whose every answer comes from Redis, so `take` is always asynchronous. */
export interface RedisBucketStore extends BucketStore {
  take(key: string, limit: RateLimitConfig): Promise<TakeResult>;
  /** Rejects like `take` when Redis is unreachable; the fallback store logs that. */
  refund(key: string, limit: RateLimitConfig): Promise<void>;
}

/**
 * A BucketStore shared by every instance that uses the same Redis. `take` rejects when Redis
 * is unreachable or slow; wrap it in the fallback store on the request path.
 */
export function createRedisBucketStore(conn: RedisConnection): RedisBucketStore {
  const client = conn.client as ScriptedRedis;
  // defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT (e.g. after a Redis restart).
  // Registered once per client: the TLS stores share this connection.
  if (typeof client.porticoTakeToken !== 'function') {
    client.defineCommand(COMMAND_NAME, { numberOfKeys: 1, lua: TAKE_TOKEN_LUA });
  }
  if (typeof client.porticoRefundToken !== 'function') {
    client.defineCommand(REFUND_COMMAND_NAME, { numberOfKeys: 1, lua: REFUND_TOKEN_LUA });
  }
  const keyPrefix = `${conn.prefix}rl:`;

  return {
    async take(key: string, limit: RateLimitConfig): Promise<TakeResult> {
      const [allowed, remaining, retryAfterMs] = await client.porticoTakeToken(
        keyPrefix + key,
        String(limit.ratePerSec),
        String(limit.burst),
      );
      return { allowed: allowed === 1, remaining, retryAfterMs };
    },
    async refund(key: string, limit: RateLimitConfig): Promise<void> {
      await client.porticoRefundToken(keyPrefix + key, String(limit.burst));
    },
  };
}

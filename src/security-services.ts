import type { Metrics } from './admin/metrics.js';
import { createAuthFailureThrottle, type AuthFailureThrottle } from './auth/auth-failure-throttle.js';
import type { PasswordCompare } from './auth/basic-auth-verifier.js';
import { createMeteredBcryptPool } from './auth/metered-bcrypt-pool.js';
import { createCredentialCache } from './auth/credential-cache.js';
import type { BasicAuthConfig, RateLimitConfig } from './config/config-types.js';
import type { Logger } from './observability/logger.js';
import type { Step } from './pipeline/step.js';
import { createBasicAuthStep } from './pipeline/steps/basic-auth.js';
import { createRateLimitStep } from './pipeline/steps/rate-limit.js';
import type { BucketStore } from './ratelimit/bucket-store.js';
import { createFallbackBucketStore } from './ratelimit/fallback-bucket-store.js';
import { createLocalBucketStore } from './ratelimit/local-bucket-store.js';
import { createRedisBucketStore } from './ratelimit/redis-bucket-store.js';
import type { RedisConnection } from './store/redis-connection.js';

/** Long-lived auth and rate-limit state, and the step factories the route compiler uses. */
export interface SecurityServices {
  readonly steps: {
    createRateLimitStep(scope: string, limit: RateLimitConfig): Step;
    createBasicAuthStep(config: BasicAuthConfig): Step;
  };
  close(): Promise<void>;
}

/**
 * Builds the bucket store (local, or Redis with a local fallback), the credential cache, the
 * auth-failure throttle and the bcrypt worker pool. They live as long as the process: buckets of
 * unchanged limits and verified credentials survive reloads because they are keyed by identity,
 * not by config version; the pool's threads are stopped by close(), after the listeners drained.
 */
export function createSecurityServices(
  redis: RedisConnection | undefined,
  log: Logger,
  metrics: Metrics,
  shared?: { readonly buckets: BucketStore; readonly throttle: AuthFailureThrottle; readonly compare?: PasswordCompare },
): SecurityServices {
  // In a worker process the buckets and the throttle live in the supervisor, so that limits
  // hold across workers (SPEC §4 Workers); Redis, when configured, stays the first choice.
  const local = shared?.buckets ?? createLocalBucketStore();
  let store: BucketStore = local;
  if (redis) {
    const fallback = createFallbackBucketStore({
      primary: createRedisBucketStore(redis),
      local,
      probe: () => redis.client.ping(),
      log: log.child({ module: 'ratelimit' }),
    });
    store = fallback;
    metrics.usingLocalFallback = () => fallback.usingFallback();
  }
  const cache = createCredentialCache();
  const throttle = shared?.throttle ?? createAuthFailureThrottle();
  // A worker process compares in its supervisor (one bcrypt run per credential per instance).
  const pool = shared?.compare ? undefined : createMeteredBcryptPool(metrics, log);
  const compare: PasswordCompare = shared?.compare ?? ((password, hash) => pool!.compare(password, hash));
  const onLimited = (scope: string) => metrics.rateLimited.labels(scope).inc();
  const onResult = (ok: boolean) => {
    if (!ok) metrics.authFailures.inc();
  };
  return {
    steps: {
      createRateLimitStep: (scope, limit) => createRateLimitStep({ scope, limit, store, onLimited }),
      createBasicAuthStep: (basicAuth) => createBasicAuthStep({ config: basicAuth, cache, throttle, onResult, compare }),
    },
    async close() {
      store.close?.();
      local.close?.();
      throttle.close();
      await pool?.close();
    },
  };
}

import type { RateLimitConfig } from '../../config/config-types.js';
import type { BucketStore, TakeResult } from '../../ratelimit/bucket-store.js';
import { compileRateLimitKey } from '../../ratelimit/rate-limit-key.js';
import type { RequestContext } from '../request-context.js';
import { tooManyRequests } from '../local-replies.js';
import type { Step, StepResult } from '../step.js';

/** What one rate-limit step needs: where it applies, its limit, and the long-lived store. */
export interface RateLimitStepOptions {
  /** `host` or `host|route`; part of the bucket key so host and route limits never share. */
  readonly scope: string;
  readonly limit: RateLimitConfig;
  readonly store: BucketStore;
  /** Called for each rejected request, for the rate-limited metric. */
  readonly onLimited?: (scope: string) => void;
}

/**
 * Builds the step that admits a request or answers 429 (SPEC §3 Rate limiting). The bucket key
 * is `scope|limit.id|client`, so an unchanged limit finds its buckets again after a reload.
 * With a synchronous store the step stays synchronous; it returns a Promise only when the
 * store did (STYLE §2.5 step 4).
 */
export function createRateLimitStep(opts: RateLimitStepOptions): Step {
  const { scope, limit, store, onLimited } = opts;
  const clientKey = compileRateLimitKey(limit.key);
  const keyPrefix = `${scope}|${limit.id}|`;
  const limitHeader = String(limit.burst);

  // Tokens this request took from earlier limits (the host's, before the route's) are given
  // back when a later limit rejects it: SPEC §3 says a rejected request consumes no tokens, so
  // hammering a tight route must not drain the client's budget for the whole host (nginx
  // limit_req likewise only accounts a request once every zone has admitted it). The refund
  // lives on the request's own context and dies with it: a WeakMap keyed by the context would
  // keep every context alive until a full collection, which at thousands of requests a
  // second grows the old generation by megabytes (docs/performance.md, Configuration at scale).
  const decide = (ctx: RequestContext, key: string, result: TakeResult): StepResult => {
    const refundEarlier = ctx.refundTokens;
    if (result.allowed) {
      if (store.refund !== undefined) {
        ctx.refundTokens = () => {
          store.refund?.(key, limit);
          refundEarlier?.();
        };
      }
      return undefined;
    }
    refundEarlier?.();
    ctx.refundTokens = undefined;
    onLimited?.(scope);
    // draft-ietf-httpapi-ratelimit-headers: quota, what is left, seconds until it is usable.
    const reset = String(Math.max(1, Math.ceil(result.retryAfterMs / 1000)));
    return tooManyRequests(result.retryAfterMs, { 'RateLimit-Limit': limitHeader, 'RateLimit-Remaining': '0', 'RateLimit-Reset': reset });
  };

  return (ctx: RequestContext) => {
    const key = keyPrefix + clientKey(ctx);
    const result = store.take(key, limit);
    return result instanceof Promise ? result.then((r) => decide(ctx, key, r)) : decide(ctx, key, result);
  };
}

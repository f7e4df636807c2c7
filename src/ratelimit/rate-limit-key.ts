import { createHash } from 'node:crypto';
import type { RateLimitKey } from '../config/config-types.js';
import type { RequestContext } from '../pipeline/request-context.js';

// Header values come from the client; past this length they are hashed so one request
// cannot make a 16 KB bucket key (in memory and in Redis).
const MAX_RAW_HEADER_KEY = 128;

/**
 * Compiles a `key:` setting into the function that names a request's bucket (STYLE §3.3).
 * `ip` → the client IP; `header:<Name>` → that header's value, or the client IP when the header
 * is absent or empty (SPEC §3). Values carry an `ip:` or `h:` prefix so that a header value of
 * "10.0.0.1" can never share a bucket with the client 10.0.0.1.
 */
export function compileRateLimitKey(key: RateLimitKey): (ctx: RequestContext) => string {
  const byIp = (ctx: RequestContext): string => `ip:${ctx.clientIp}`;
  if (key.kind === 'ip') return byIp;

  // Node lower-cases incoming header names, so the lookup name is computed once here.
  const name = key.name.toLowerCase();
  return (ctx) => {
    const raw = ctx.req.headers[name];
    const value = Array.isArray(raw) ? raw.join(', ') : raw;
    if (value === undefined || value === '') return byIp(ctx);
    if (value.length <= MAX_RAW_HEADER_KEY) return `h:${value}`;
    return `h#${createHash('sha256').update(value).digest('base64url')}`;
  };
}

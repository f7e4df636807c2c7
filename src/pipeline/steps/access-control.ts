import type { AccessConfig } from '../../config/config-types.js';
import { compileAddressMatcher } from '../../server/address-matcher.js';
import type { RequestContext } from '../request-context.js';
import type { LocalReply, Step } from '../step.js';

const FORBIDDEN: LocalReply = Object.freeze({ status: 403, body: 'Forbidden\n' });

/**
 * Builds the step that refuses a client IP by `deny`, then by `allow` when present (SPEC §4
 * Access control), with 403. It runs first on every route, so a refused client never spends a
 * rate-limit token, never makes Basic Auth run bcrypt and never reaches the upstream. The lists
 * are compiled here, once per config; a request costs one memoised lookup per list.
 */
export function createAccessControlStep(access: AccessConfig): Step {
  const denied = compileAddressMatcher(access.deny);
  const allowed = access.allow === undefined ? undefined : compileAddressMatcher(access.allow);
  if (allowed === undefined) return (ctx: RequestContext) => (denied(ctx.clientIp) ? FORBIDDEN : undefined);
  return (ctx: RequestContext) => (denied(ctx.clientIp) || !allowed(ctx.clientIp) ? FORBIDDEN : undefined);
}

import type { BasicAuthConfig } from '../../config/config-types.js';
import type { AuthFailureThrottle } from '../../auth/auth-failure-throttle.js';
import { BcryptPoolError } from '../../auth/bcrypt-pool.js';
import { ERROR_CATALOGUE } from '../../errors.js';
import { tooManyRequests } from '../local-replies.js';
import {
  createBasicAuthVerifier,
  parseBasicCredentials,
  type BasicCredentials,
  type PasswordCompare,
} from '../../auth/basic-auth-verifier.js';
import type { CredentialCache } from '../../auth/credential-cache.js';
import type { RequestContext } from '../request-context.js';
import type { LocalReply, Step, StepResult } from '../step.js';

/** What one host's basic-auth step needs; cache and throttle are gateway-wide and long-lived. */
export interface BasicAuthStepOptions {
  readonly config: BasicAuthConfig;
  readonly cache: CredentialCache;
  readonly throttle: AuthFailureThrottle;
  /** Called once per checked credential (a cache hit counts as ok); not for missing ones. */
  readonly onResult?: (ok: boolean) => void;
  /** The bcrypt comparison: the gateway's worker pool; tests pass a counting one. */
  readonly compare: PasswordCompare;
}

/**
 * Builds the step that guards a host with HTTP Basic Auth (SPEC §3 Basic Auth): 401 with a
 * challenge on missing or wrong credentials, 429 while the client IP is throttled or already has
 * its 10 verifications running, 503 when the bcrypt pool's queue is full. A cached credential is
 * answered synchronously; only a cache miss waits for bcrypt, and a miss identical to a check
 * already running joins it without a bcrypt run (or a throttle slot) of its own.
 */
export function createBasicAuthStep(opts: BasicAuthStepOptions): Step {
  const { cache, throttle, onResult } = opts;
  const verifier = createBasicAuthVerifier(opts.config, opts.compare);
  const unauthorized: LocalReply = Object.freeze({
    status: 401,
    headers: Object.freeze({
      'WWW-Authenticate': `Basic realm="${quoteRealm(opts.config.realm)}"`,
      'Content-Type': 'text/plain; charset=utf-8',
    }),
    body: 'Unauthorized\n',
  });
  const verdict = (ok: boolean): StepResult => {
    onResult?.(ok);
    return ok ? undefined : unauthorized;
  };

  /** Runs the bcrypt comparison a granted throttle slot allows, and ends the slot. */
  const check = (ip: string, key: string, credentials: BasicCredentials, hash: string): Promise<StepResult> =>
    cache.verify(key, credentials.user, hash, () => verifier.verify(credentials, hash)).then(
      (ok) => {
        throttle.end(ip, !ok);
        return verdict(ok);
      },
      (err: unknown) => {
        // No verdict, so no failure: the client did nothing wrong when the pool is full.
        throttle.end(ip, false);
        return poolBusy(err);
      },
    );

  return (ctx: RequestContext): StepResult | Promise<StepResult> => {
    const ip = ctx.clientIp;
    const blockedMs = throttle.blockedForMs(ip);
    if (blockedMs > 0) return tooManyRequests(blockedMs);

    const header = ctx.req.headers.authorization;
    const credentials = parseBasicCredentials(header);
    if (header === undefined || credentials === undefined) return unauthorized;

    const hash = verifier.expectedHash(credentials.user);
    const key = cache.keyOf(header);
    if (cache.lookup(key, credentials.user, hash)) return verdict(true);

    const joined = cache.pending(key, hash);
    if (joined !== undefined) {
      return joined.then((ok) => {
        if (!ok) throttle.recordFailure(ip);
        return verdict(ok);
      }, poolBusy);
    }
    const verify = (waitMs: number): StepResult | Promise<StepResult> => {
      if (waitMs > 0) return tooManyRequests(waitMs);
      return check(ip, key, credentials, hash);
    };
    const waitMs = throttle.begin(ip);
    return typeof waitMs === 'number' ? verify(waitMs) : waitMs.then(verify);
  };
}

const SERVICE_UNAVAILABLE: LocalReply = Object.freeze({
  status: ERROR_CATALOGUE.PORTICO_AUTH_BUSY.status,
  headers: Object.freeze({ 'Retry-After': '1' }),
  body: ERROR_CATALOGUE.PORTICO_AUTH_BUSY.body,
});

/**
 * A full bcrypt queue is the gateway's capacity, not this client's fault: 503 with Retry-After,
 * as nginx answers when limit_conn is exceeded. Any other error reaches the request handler,
 * which logs it with its code and answers 500.
 */
function poolBusy(err: unknown): StepResult {
  if (err instanceof BcryptPoolError && err.code === 'PORTICO_AUTH_BUSY') return SERVICE_UNAVAILABLE;
  throw err;
}

/**
 * RFC 7235 §2.2 quoted-string: backslash and double quote are escaped; control characters
 * cannot appear in a header at all, so they are dropped rather than let Node reject the reply.
 */
function quoteRealm(realm: string): string {
  // eslint-disable-next-line no-control-regex
  return realm.replace(/[\u0000-\u001f\u007f]/g, '').replace(/["\\]/g, '\\$&');
}

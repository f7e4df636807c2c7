import type { BasicAuthConfig } from '../../config/config-types.js';
import type { AuthFailureThrottle } from '../../auth/auth-failure-throttle.js';
import {
  createBasicAuthVerifier,
  parseBasicCredentials,
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
  /** The bcrypt comparison; injectable so tests can count calls. */
  readonly compare?: PasswordCompare;
}

/**
 * Builds the step that guards a host with HTTP Basic Auth (SPEC §3 Basic Auth): 401 with a
 * challenge on missing or wrong credentials, 429 while the client IP is throttled. A cached
 * credential is answered synchronously; only a cache miss waits for bcrypt.
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

  return (ctx: RequestContext): StepResult | Promise<StepResult> => {
    const blockedMs = throttle.blockedForMs(ctx.clientIp);
    if (blockedMs > 0) return tooManyFailures(blockedMs);

    const header = ctx.req.headers.authorization;
    const credentials = parseBasicCredentials(header);
    if (header === undefined || credentials === undefined) return unauthorized;

    const hash = verifier.expectedHash(credentials.user);
    const key = cache.keyOf(header);
    if (cache.lookup(key, credentials.user, hash)) {
      onResult?.(true);
      return undefined;
    }
    const check = (): Promise<boolean> => verifier.verify(credentials, hash);
    return cache.verify(key, credentials.user, hash, check).then((ok) => {
      onResult?.(ok);
      if (ok) return undefined;
      throttle.recordFailure(ctx.clientIp);
      return unauthorized;
    });
  };
}

/**
 * RFC 7235 §2.2 quoted-string: backslash and double quote are escaped; control characters
 * cannot appear in a header at all, so they are dropped rather than let Node reject the reply.
 */
function quoteRealm(realm: string): string {
  // eslint-disable-next-line no-control-regex
  return realm.replace(/[\u0000-\u001f\u007f]/g, '').replace(/["\\]/g, '\\$&');
}

function tooManyFailures(blockedMs: number): LocalReply {
  return {
    status: 429,
    headers: {
      'Retry-After': String(Math.max(1, Math.ceil(blockedMs / 1000))),
      'Content-Type': 'text/plain; charset=utf-8',
    },
    body: 'Too Many Requests\n',
  };
}

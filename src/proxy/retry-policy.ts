import type { Exchange } from './exchange.js';

const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const MAX_ATTEMPTS = 3;

/**
 * Whether a failed request may be sent again: idempotent and without a body, which may have
 * reached the upstream already and cannot be read a second time.
 */
export function isRetryable(method: string | undefined, hasBody: boolean): boolean {
  return !hasBody && IDEMPOTENT.has(method ?? '');
}

/**
 * A pooled keep-alive connection the upstream closed while it idled (Node closes idle
 * connections after 5 s, gunicorn after 2 s) fails the next request written on it. That says
 * nothing about the target: the request is replayed once on a new connection, even with one
 * target, as nginx and Go's transport do — when it can be replayed.
 */
export function replaysOnFreshConnection(ex: Exchange, code: string | undefined): boolean {
  return ex.proxyReq?.reusedSocket === true && (code === 'ECONNRESET' || code === 'EPIPE') && ex.retryable && !ex.freshRetried && !ex.res.headersSent;
}

/**
 * After a connection failure, a retryable request goes to another target it has not tried,
 * at most MAX_ATTEMPTS in all, while nothing has been sent to the client.
 */
export function triesAnotherTarget(ex: Exchange, tried: ReadonlySet<unknown>): boolean {
  return ex.retryable && !ex.res.headersSent && tried.size < Math.min(MAX_ATTEMPTS, ex.pool.targets.length + 1);
}

import { ERROR_CATALOGUE, PorticoError } from '../errors.js';

/**
 * Connection-level failures: the target was not reached, so the failure counts against its
 * health and the request may go to another target. A reset or broken pipe is not one: it can
 * come after the request was written (a pooled connection the target closed is handled as such
 * in proxy-engine.ts, by a replay on a new connection).
 */
const CONNECT_FAILURES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT']);

/** True when the error means the target could not be reached (counts against its health). */
export function isConnectFailure(err: unknown): boolean {
  if (err instanceof PorticoError) return err.code === 'PORTICO_UPSTREAM_UNREACHABLE';
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && CONNECT_FAILURES.has(code);
}

/**
 * The one place that maps errors to HTTP statuses, as Caddy's statusError: a Portico error
 * answers with its catalogue status, anything else between Portico and the target is a 502.
 */
export function proxyErrorStatus(err: unknown): 502 | 504 | 413 {
  if (err instanceof PorticoError) {
    const entry = ERROR_CATALOGUE[err.code];
    if ('status' in entry && (entry.status === 504 || entry.status === 413)) return entry.status;
  }
  return 502;
}

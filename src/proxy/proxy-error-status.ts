import { PorticoError } from '../errors.js';

/** Connection-level failures: nothing was received from the target. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/** True when the error means the target could not be reached (counts against its health). */
export function isConnectFailure(err: unknown): boolean {
  if (err instanceof PorticoError) return err.code === 'PORTICO_UPSTREAM_UNREACHABLE';
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && CONNECT_FAILURES.has(code) && code !== 'ECONNRESET' && code !== 'EPIPE';
}

/**
 * The one place that maps errors to HTTP statuses, as Caddy's statusError: no first byte in
 * time → 504, anything else between Portico and the target → 502.
 */
export function proxyErrorStatus(err: unknown): number {
  if (err instanceof PorticoError && err.code === 'PORTICO_UPSTREAM_TIMEOUT') return 504;
  return 502;
}

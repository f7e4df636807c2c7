import { ERROR_CATALOGUE } from '../errors.js';
import type { LocalReply } from './step.js';

/** The replies Portico writes itself, frozen once: nothing is allocated to refuse a request. */
export const BAD_REQUEST: LocalReply = Object.freeze({ status: 400, body: 'Bad Request\n' });
export const UNKNOWN_HOST: LocalReply = Object.freeze({ status: 404, body: 'unknown host\n' });
export const NOT_FOUND: LocalReply = Object.freeze({ status: 404, body: 'Not Found\n' });
// RFC 9110 §15.5.6: a 405 lists the methods the target supports; Portico forwards all but CONNECT.
export const METHOD_NOT_ALLOWED: LocalReply = Object.freeze({
  status: 405,
  headers: Object.freeze({ allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS' }),
  body: 'Method Not Allowed\n',
});
export const TOO_LARGE: LocalReply = Object.freeze({ status: 431, body: 'Request Header Fields Too Large\n' });
export const BAD_VERSION: LocalReply = Object.freeze({ status: 505, body: 'HTTP Version Not Supported\n' });
export const INTERNAL_ERROR: LocalReply = Object.freeze({ status: 500, body: 'Internal Server Error\n' });
/** 413: the rest of the body is unread, so the connection cannot be reused. */
export const PAYLOAD_TOO_LARGE: LocalReply = Object.freeze({
  status: ERROR_CATALOGUE.PORTICO_BODY_TOO_LARGE.status,
  body: ERROR_CATALOGUE.PORTICO_BODY_TOO_LARGE.body,
  headers: Object.freeze({ connection: 'close' }),
});
export const BAD_GATEWAY: LocalReply = Object.freeze({ status: 502, body: ERROR_CATALOGUE.PORTICO_UPSTREAM_UNREACHABLE.body });
export const GATEWAY_TIMEOUT: LocalReply = Object.freeze({ status: 504, body: ERROR_CATALOGUE.PORTICO_UPSTREAM_TIMEOUT.body });

/** Portico's reply for a proxy failure status (proxy-error-status.ts decides which). */
export function proxyFailureReply(status: 502 | 504 | 413): LocalReply {
  return status === 504 ? GATEWAY_TIMEOUT : status === 413 ? PAYLOAD_TOO_LARGE : BAD_GATEWAY;
}

/**
 * 429 with `Retry-After` in whole seconds, at least 1 (SPEC §3: a 0 would invite an immediate
 * retry storm), for rate limits and the auth-failure throttle alike. `extra` adds headers such
 * as the RateLimit-* fields.
 */
export function tooManyRequests(retryAfterMs: number, extra?: Readonly<Record<string, string>>): LocalReply {
  const seconds = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  return {
    status: 429,
    headers: { 'Retry-After': seconds, ...extra, 'Content-Type': 'text/plain; charset=utf-8' },
    body: 'Too Many Requests\n',
  };
}

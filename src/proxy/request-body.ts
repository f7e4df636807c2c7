import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Writable } from 'node:stream';
import { isHttp2 } from './http2-request.js';

/**
 * Whether the request carries a body. HTTP/1.1 frames a request body only by Content-Length
 * or Transfer-Encoding (RFC 9112 §6.3: neither means length zero). HTTP/2 may send DATA frames
 * without Content-Length; a request without a body ends its stream on the HEADERS frame.
 */
export function requestHasBody(req: IncomingMessage): boolean {
  if (isHttp2(req)) return !(req as unknown as Http2ServerRequest).stream.endAfterHeaders;
  const length = req.headers['content-length'];
  return length !== undefined ? Number(length) > 0 : req.headers['transfer-encoding'] !== undefined;
}

/**
 * Stands in for the request stream of a request without a body (http-proxy's `buffer` option,
 * which it pipes into the upstream request instead of `req`). Ending the upstream request at
 * once skips a pipe() per request (eight closures and a dozen listeners added and removed)
 * for the most common request there is. Node still drains the unread client request when the
 * response finishes.
 */
export const NO_BODY: Readonly<{ pipe<T extends Writable>(dest: T): T }> = Object.freeze({
  pipe<T extends Writable>(dest: T): T {
    dest.end();
    return dest;
  },
});

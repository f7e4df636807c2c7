import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** True for a request that arrived over HTTP/2 (through the compatibility API). */
export function isHttp2(req: IncomingMessage): boolean {
  return req.httpVersionMajor === 2;
}

const PSEUDO_HEADERS = [':authority', ':method', ':path', ':scheme', ':protocol'];

/**
 * Prepares an HTTP/2 request for an HTTP/1.1 upstream: pseudo-headers removed (http.request
 * rejects names starting with ':'), `:authority` carried as `Host` (RFC 9113 §8.3.1). The
 * compatibility request reads `url` and `method` from those pseudo-headers, so both are pinned
 * as own properties first.
 */
export function toHttp1Request(req: IncomingMessage): void {
  const headers: IncomingHttpHeaders = req.headers;
  const { url, method } = req;
  const authority = headers[':authority'];
  Object.defineProperty(req, 'url', { value: url, writable: true, configurable: true, enumerable: true });
  Object.defineProperty(req, 'method', { value: method, writable: true, configurable: true, enumerable: true });
  for (const name of PSEUDO_HEADERS) delete headers[name];
  if (headers.host === undefined && typeof authority === 'string') headers.host = authority;
}

/**
 * Whether the response was fully handed to the connection. For HTTP/2 that is our own `end()`
 * (`writableEnded`): a stream the client reset reports its writable side finished as well.
 */
export function responseComplete(res: ServerResponse): boolean {
  return res.req?.httpVersionMajor === 2 ? res.writableEnded : res.writableFinished;
}

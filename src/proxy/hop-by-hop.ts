import type { IncomingHttpHeaders } from 'node:http';

type Headers = IncomingHttpHeaders | Record<string, unknown>;

/**
 * Connection-specific fields a proxy must never forward (RFC 9110 §7.6.1), plus `Expect`:
 * Node's server has already answered `100-continue`, and forwarding it would make http-proxy
 * skip the 'proxyReq' event the engine relies on.
 */
const REQUEST_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']);

/**
 * The request headers to forward: `headers` itself when it holds no hop-by-hop field (most
 * HTTP/1.1 clients send none), otherwise a copy without them and without the fields that
 * `Connection` lists. A copy, because `delete` would turn Node's headers object into a slow
 * dictionary for every later step, http-proxy's header copy among them (about 2 µs).
 * Upgrade requests do not come here: http-proxy's ws path needs `Upgrade` and `Connection`.
 */
export function forwardableRequestHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  if (
    headers.connection === undefined &&
    headers['keep-alive'] === undefined &&
    headers['proxy-connection'] === undefined &&
    headers.te === undefined &&
    headers.trailer === undefined &&
    headers['transfer-encoding'] === undefined &&
    headers.upgrade === undefined &&
    headers.expect === undefined
  ) {
    return headers;
  }
  const listed = listedFields(headers.connection);
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (!REQUEST_HOP_BY_HOP.has(name) && !listed?.has(name)) out[name] = headers[name];
  }
  return out;
}

/**
 * Removes hop-by-hop headers in place: `Connection`, the fields it lists, and the
 * connection-specific fields. For HTTP/2 requests and responses, whose header objects are
 * dictionaries already and cannot be replaced.
 */
export function stripHopByHop(headers: Headers): void {
  const listed = listedFields(headers.connection);
  if (listed) for (const name of listed) delete headers[name];
  for (const name of REQUEST_HOP_BY_HOP) if (headers[name] !== undefined) delete headers[name];
}

/** Fields named in `Connection` are hop-by-hop too; keep-alive and close are the usual, empty, case. */
function listedFields(connection: unknown): Set<string> | undefined {
  if (typeof connection !== 'string' || connection === 'keep-alive' || connection === 'close') return undefined;
  const names = new Set<string>();
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name) names.add(name);
  }
  return names;
}

/** Lower-case name → true for the response fields that never pass a proxy. */
export function isHopByHopResponseField(lower: string): boolean {
  switch (lower) {
    case 'connection':
    case 'keep-alive':
    case 'proxy-connection':
    case 'te':
    case 'trailer':
    case 'transfer-encoding':
    case 'upgrade':
      return true;
    default:
      return false;
  }
}

/** The tokens of a `Connection` header value that name other fields (not keep-alive/close). */
export function connectionListedFields(value: string): Set<string> | undefined {
  return listedFields(value);
}

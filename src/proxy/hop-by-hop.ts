import type { IncomingHttpHeaders } from 'node:http';

type Headers = IncomingHttpHeaders | Record<string, unknown>;

/** Connection-specific fields a proxy must never forward, either way (RFC 9110 §7.6.1). */
const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * Not forwarded on requests either: `Expect`. Node's server has already answered
 * `100-continue`, and forwarding it would make http-proxy skip the 'proxyReq' event the engine
 * relies on.
 */
const REQUEST_ONLY = 'expect';

/**
 * Fields a `Connection` list can never remove: the message's framing and its `Host`. A client
 * naming them (`Connection: content-length`) would otherwise have the body forwarded without
 * its length — raw bytes on a kept-alive upstream connection, read there as a second request —
 * or the upstream would see Portico's own address as the host. Framing is re-established by
 * request-framing.ts after hop-by-hop removal in any case.
 */
const NEVER_LISTED: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'host']);

/** True for a lower-case field name that never passes a proxy. */
export function isHopByHop(lower: string): boolean {
  return HOP_BY_HOP.has(lower);
}

/**
 * The request headers to forward: `headers` itself when it holds no hop-by-hop field (most
 * HTTP/1.1 clients send none), otherwise a copy without them and without the fields that
 * `Connection` lists. A copy, because `delete` would turn Node's headers object into a slow
 * dictionary for every later step, http-proxy's header copy among them (about 2 µs).
 * Upgrade requests do not come here: http-proxy's ws path needs `Upgrade` and `Connection`.
 */
export function forwardableRequestHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  if (!hasHopByHop(headers)) return headers;
  const listed = listedFields(headers.connection);
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (!HOP_BY_HOP.has(name) && name !== REQUEST_ONLY && !(listed?.has(name) ?? false)) out[name] = headers[name];
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
  if (listed) for (const name of listed) if (headers[name] !== undefined) delete headers[name];
  for (const name of HOP_BY_HOP) if (headers[name] !== undefined) delete headers[name];
  if (headers[REQUEST_ONLY] !== undefined) delete headers[REQUEST_ONLY];
}

function hasHopByHop(headers: Headers): boolean {
  if (headers[REQUEST_ONLY] !== undefined) return true;
  for (const name of HOP_BY_HOP) if (headers[name] !== undefined) return true;
  return false;
}

/**
 * The fields a `Connection` value names, which are hop-by-hop too (RFC 9110 §7.6.1), less the
 * framing fields and Host; undefined when it names none (the usual `keep-alive` or `close`).
 */
export function listedFields(connection: unknown): Set<string> | undefined {
  if (typeof connection !== 'string' || connection === 'keep-alive' || connection === 'close') return undefined;
  let names: Set<string> | undefined;
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name && !NEVER_LISTED.has(name)) (names ??= new Set()).add(name);
  }
  return names;
}

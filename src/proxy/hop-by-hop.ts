import type { IncomingHttpHeaders } from 'node:http';

type Headers = IncomingHttpHeaders | Record<string, unknown>;

/**
 * Removes hop-by-hop headers in place (RFC 9110 §7.6.1): `Connection`, the fields it lists,
 * and the connection-specific fields a proxy must never forward. Upgrade requests do not come
 * here (http-proxy's ws path needs `Upgrade` and `Connection: upgrade`).
 *
 * The fixed names are written out as property accesses, not looped over, so V8 can cache each
 * lookup; most requests carry only `Connection: keep-alive` and pay a few loads and one delete.
 */
export function stripHopByHop(headers: Headers): void {
  const connection = headers.connection;
  if (connection !== undefined) {
    if (typeof connection === 'string' && connection !== 'keep-alive' && connection !== 'close') deleteListed(headers, connection);
    delete headers.connection;
  }
  if (headers['keep-alive'] !== undefined) delete headers['keep-alive'];
  if (headers['proxy-connection'] !== undefined) delete headers['proxy-connection'];
  if (headers.te !== undefined) delete headers.te;
  if (headers.trailer !== undefined) delete headers.trailer;
  if (headers['transfer-encoding'] !== undefined) delete headers['transfer-encoding'];
  if (headers.upgrade !== undefined) delete headers.upgrade;
}

/** Fields named in `Connection` are hop-by-hop too (RFC 9110 §7.6.1). */
function deleteListed(headers: Headers, connection: string): void {
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name) delete headers[name];
  }
}

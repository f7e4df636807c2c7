import type { IncomingHttpHeaders } from 'node:http';

/** RFC 9110 §7.6.1: connection-specific fields a proxy must not forward. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'] as const;

/**
 * Removes hop-by-hop headers, including those listed in `Connection`, in place. `keepUpgrade`
 * keeps `Upgrade`/`Connection: upgrade` for WebSocket handshakes, which must reach the upstream.
 */
export function stripHopByHop(headers: IncomingHttpHeaders | Record<string, unknown>, keepUpgrade = false): void {
  const connection = headers.connection;
  if (typeof connection === 'string' && connection.length > 0) {
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      if (name && !(keepUpgrade && name === 'upgrade')) delete headers[name];
    }
  }
  for (const name of HOP_BY_HOP) {
    if (keepUpgrade && (name === 'upgrade' || name === 'connection')) continue;
    if (headers[name] !== undefined) delete headers[name];
  }
}

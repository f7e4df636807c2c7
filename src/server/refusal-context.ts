import type { IncomingMessage } from 'node:http';
import type { RequestContext } from '../pipeline/request-context.js';
import type { RouteTable } from '../routing/route-table.js';

/**
 * The context of a request the listener refused before host or route lookup (405 CONNECT,
 * 431, 505), so that it gets its access line and counts in the metrics like any other.
 */
export function refusalContext(table: RouteTable, req: IncomingMessage, proto: 'http' | 'https', requestId: string): RequestContext {
  const addr = req.socket?.remoteAddress ?? '';
  // An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d; log it as a.b.c.d.
  const peer = addr.startsWith('::ffff:') && addr.indexOf('.') > 0 ? addr.slice(7) : addr;
  const xff = req.headers['x-forwarded-for'];
  return {
    req,
    clientIp: table.clientIp.resolve(peer, typeof xff === 'string' ? xff : undefined),
    peerIp: peer,
    requestId,
    matchPath: '',
    proto,
    startedAt: performance.now(),
    hostLabel: '-',
    routeLabel: '-',
    targetLabel: undefined,
  };
}

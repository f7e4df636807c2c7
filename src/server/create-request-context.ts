import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestContext } from '../pipeline/request-context.js';
import type { RouteTable } from '../routing/route-table.js';

/**
 * The per-request facts, computed once at the edge from the table the request is served
 * under. One object literal of one shape for every request, refused ones included.
 */
export function createRequestContext(table: RouteTable, req: IncomingMessage, proto: 'http' | 'https', requestId: string, matchPath: string): RequestContext {
  const peer = normalizePeer(req.socket?.remoteAddress);
  const xff = req.headers['x-forwarded-for'];
  return {
    req,
    clientIp: table.clientIp.resolve(peer, typeof xff === 'string' ? xff : undefined),
    peerIp: peer,
    requestId,
    matchPath,
    proto,
    startedAt: performance.now(),
    accessLog: table.config.log.access,
    hostLabel: '-',
    routeLabel: '-',
    targetLabel: undefined,
    compress: false,
    refundTokens: undefined,
  };
}

const REQUEST_ID_RE = /^[\x21-\x7e]{1,200}$/;

/** The client's X-Request-ID when it is printable and at most 200 characters, else a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const sent = req.headers['x-request-id'];
  return typeof sent === 'string' && REQUEST_ID_RE.test(sent) ? sent : randomUUID();
}

/** An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d; log and key it as a.b.c.d. */
function normalizePeer(addr: string | undefined): string {
  if (!addr) return '';
  return addr.startsWith('::ffff:') && addr.indexOf('.') > 0 ? addr.slice(7) : addr;
}

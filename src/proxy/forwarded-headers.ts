import type { IncomingMessage } from 'node:http';
import type { RequestContext } from '../pipeline/request-context.js';

/**
 * Sets the forwarding headers on the request about to be proxied (SPEC §3 Proxying).
 * X-Forwarded-For always gets the TCP peer appended: an untrusted peer's entries are passed on
 * (never believed, see client-ip.ts). X-Forwarded-Proto from a trusted peer is kept, since that
 * peer saw the client's scheme; otherwise it describes the connection Portico received.
 * X-Forwarded-Host is always the request's host as Portico routed it, over HTTP/1.x and
 * HTTP/2 alike, so a client can never name another one.
 */
export function setForwardedHeaders(req: IncomingMessage, ctx: RequestContext, peerTrusted: boolean): void {
  const h = req.headers;
  const xff = h['x-forwarded-for'];
  h['x-forwarded-for'] = xff ? `${xff}, ${ctx.peerIp}` : ctx.peerIp;
  if (!peerTrusted || h['x-forwarded-proto'] === undefined) h['x-forwarded-proto'] = ctx.proto;
  if (h.host !== undefined) h['x-forwarded-host'] = h.host;
  else if (h['x-forwarded-host'] !== undefined) delete h['x-forwarded-host']; // no host (HTTP/1.0): none rather than the client's
  h['x-real-ip'] = ctx.clientIp;
  h['x-request-id'] = ctx.requestId;
}

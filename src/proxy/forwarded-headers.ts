import type { IncomingMessage } from 'node:http';
import type { RequestContext } from '../pipeline/request-context.js';

/**
 * Sets the forwarding headers on the request about to be proxied (SPEC §3 Proxying).
 * X-Forwarded-For always gets the TCP peer appended: an untrusted peer's entries are passed on
 * (never believed, see client-ip.ts). Proto and Host from a trusted peer are kept, since that
 * peer saw the client; otherwise they describe the connection Portico received.
 */
export function setForwardedHeaders(req: IncomingMessage, ctx: RequestContext, peerTrusted: boolean): void {
  const h = req.headers;
  const xff = h['x-forwarded-for'];
  h['x-forwarded-for'] = xff ? `${xff}, ${ctx.peerIp}` : ctx.peerIp;
  if (!peerTrusted || h['x-forwarded-proto'] === undefined) h['x-forwarded-proto'] = ctx.proto;
  if (!peerTrusted || h['x-forwarded-host'] === undefined) {
    if (h.host !== undefined) h['x-forwarded-host'] = h.host;
  }
  h['x-real-ip'] = ctx.clientIp;
  h['x-request-id'] = ctx.requestId;
}

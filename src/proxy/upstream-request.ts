import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { RequestContext } from '../pipeline/request-context.js';
import { setForwardedHeaders } from './forwarded-headers.js';
import { forwardableRequestHeaders, listedFields, stripHopByHop } from './hop-by-hop.js';
import { isHttp2, toHttp1Request } from './http2-request.js';

/**
 * Turns the client's request headers into the upstream request's, in an order the client
 * cannot subvert (SPEC §3 Proxying):
 * 1. hop-by-hop fields go, the ones the client's `Connection` names included;
 * 2. then Portico adds its own forwarding fields, so no `Connection` list can remove them;
 * 3. then the body gets framing of its own: the length the client declared, or chunked.
 *
 * Step 3 is what keeps each client request one upstream request. `Transfer-Encoding` is
 * hop-by-hop and Node's client frames a GET, HEAD, DELETE or OPTIONS body only when told to:
 * without it, a chunked DELETE's body went raw onto the kept-alive upstream connection, where
 * the upstream parsed it as a second request that no route, limit or auth had seen.
 * `hasBody` must be decided before step 1, from the request as received.
 */
export function prepareUpstreamRequest(req: IncomingMessage, ctx: RequestContext, peerTrusted: boolean, hasBody: boolean): void {
  if (isHttp2(req)) {
    toHttp1Request(req); // its headers object has no setter, and is a dictionary already
    stripHopByHop(req.headers);
  } else {
    req.headers = forwardableRequestHeaders(req.headers);
  }
  setForwardedHeaders(req, ctx, peerTrusted);
  if (hasBody) frameBody(req.headers);
}

/**
 * The same for an upgrade (WebSocket) request, which keeps `Upgrade` and `Connection: Upgrade`
 * for the upstream but loses any other field its `Connection` names.
 */
export function prepareUpstreamUpgrade(req: IncomingMessage, ctx: RequestContext, peerTrusted: boolean): void {
  const listed = listedFields(req.headers.connection);
  if (listed) {
    const out: IncomingHttpHeaders = {};
    for (const name in req.headers) if (!listed.has(name) || name === 'upgrade') out[name] = req.headers[name];
    out.connection = 'Upgrade';
    req.headers = out;
  }
  setForwardedHeaders(req, ctx, peerTrusted);
}

/**
 * A body keeps the length the client declared (Node's HTTP/1 parser and nghttp2 both hold the
 * body to it); otherwise it is sent chunked, whatever the method. Node's client then encodes
 * each write as a chunk and ends with the last chunk.
 */
function frameBody(headers: IncomingHttpHeaders): void {
  if (headers['content-length'] === undefined) headers['transfer-encoding'] = 'chunked';
}

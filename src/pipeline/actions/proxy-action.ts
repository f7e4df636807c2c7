import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProxyEngine } from '../../proxy/proxy-engine.js';
import { requestHasBody } from '../../proxy/request-body.js';
import { prepareUpstreamRequest, prepareUpstreamUpgrade } from '../../proxy/upstream-request.js';
import type { Action, CompiledRoute } from '../../routing/route-table.js';
import type { ClientIpResolver } from '../../server/client-ip.js';
import type { UpstreamPool } from '../../upstreams/upstream-pool.js';
import type { ErrorPageTable } from '../error-pages.js';
import type { HeaderPlan } from '../header-plan.js';
import { proxyFailureReply } from '../local-replies.js';
import { renderReply } from '../render-reply.js';
import type { RequestContext } from '../request-context.js';

/**
 * `upstream:` — forwards to a target of the pool through the shared proxy engine. Portico's own
 * error replies (502, 504, 413) use the host's error pages; upstream responses never do.
 */
export function createProxyAction(engine: ProxyEngine, pool: UpstreamPool, clientIp: ClientIpResolver, errorPages?: ErrorPageTable): Action {
  const replyError = errorPages ? replyWithPages(errorPages) : replyPlain;
  const rewrite = (ctx: RequestContext, req: IncomingMessage, route: CompiledRoute) => {
    const drop = route.dropRequestHeaders; // empty unless a host keeps credentials from its upstream
    for (let i = 0; i < drop.length; i++) delete req.headers[drop[i]!];
    if (route.rewriteUrl && req.url) {
      ctx.originalUrl = req.url;
      req.url = route.rewriteUrl(req.url, ctx.matchPath);
    }
  };
  return {
    handle(ctx, req, res, route) {
      rewrite(ctx, req, route);
      ctx.compress = route.compress; // read by the engine when the response head arrives
      const plan = ctx.proto === 'https' ? route.httpsHeaders : route.httpHeaders;
      // Before the hop-by-hop fields go: Transfer-Encoding is one, and it tells of a body.
      const hasBody = requestHasBody(req);
      prepareUpstreamRequest(req, ctx, clientIp.isTrusted(ctx.peerIp), hasBody);
      if (hasBody && route.maxBodySize !== undefined && req.headers['content-length'] === undefined) {
        limitStreamedBody(req, route.maxBodySize, () => {
          if (!res.headersSent) {
            res.shouldKeepAlive = false; // the rest of the body is unread: the connection cannot be reused
            replyError(res, 413, plan, ctx.requestId);
          }
          req.destroy();
        });
      }
      engine.web(req, res, ctx, pool, plan, replyError, hasBody);
    },
    upgrade(ctx, req, socket, head, route, onEnd) {
      rewrite(ctx, req, route);
      prepareUpstreamUpgrade(req, ctx, clientIp.isTrusted(ctx.peerIp));
      engine.ws(req, socket, head, ctx, pool, ctx.proto === 'https' ? route.httpsHeaders : route.httpHeaders, errorPages, onEnd);
    },
  };
}

/** Portico's own answer when proxying fails (502, 504) or a streamed body is too large (413). */
function replyPlain(res: ServerResponse, status: 502 | 504 | 413, plan: HeaderPlan, requestId: string): void {
  renderReply(res, proxyFailureReply(status), plan, requestId);
}

/** The same, with a host's error pages bound once per route at compile time. */
function replyWithPages(pages: ErrorPageTable) {
  return (res: ServerResponse, status: 502 | 504 | 413, plan: HeaderPlan, requestId: string): void =>
    renderReply(res, proxyFailureReply(status), plan, requestId, pages);
}

/** Counts bytes of a chunked body as it streams to the upstream; calls `onExceeded` once. */
function limitStreamedBody(req: IncomingMessage, max: number, onExceeded: () => void): void {
  let seen = 0;
  const onData = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > max) {
      req.off('data', onData);
      onExceeded();
    }
  };
  req.on('data', onData);
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorReplier } from '../../proxy/exchange.js';
import type { ProxyEngine } from '../../proxy/proxy-engine.js';
import { requestHasBody } from '../../proxy/request-body.js';
import { prepareUpstreamRequest, prepareUpstreamUpgrade } from '../../proxy/upstream-request.js';
import type { ClientIpResolver } from '../../server/client-ip.js';
import type { UpstreamPool } from '../../upstreams/upstream-pool.js';
import type { Action } from '../action.js';
import type { ErrorPageTable } from '../error-pages.js';
import type { HeaderPlan, SchemePlans } from '../header-plan.js';
import { proxyFailureReply } from '../local-replies.js';
import { renderReply } from '../render-reply.js';
import type { RequestContext } from '../request-context.js';

/**
 * What the proxy routes of one upstream share, built once per upstream (and per host with its
 * own error pages) in a compile: with thousands of hosts on a few upstreams, most routes share one.
 */
export interface ProxyUpstream {
  readonly engine: ProxyEngine;
  readonly pool: UpstreamPool;
  readonly clientIp: ClientIpResolver;
  /** The host's pages for Portico's own 502/504/413 replies; upstream responses never get them. */
  readonly errorPages: ErrorPageTable | undefined;
  readonly replyError: ErrorReplier;
}

/** A proxy route's own settings, compiled from its config. */
export interface ProxyRouteSettings {
  /** Rewrites the request target for the upstream (stripPrefix/rewrite), or undefined for none. */
  readonly rewriteUrl: ((url: string, matchPath: string) => string) | undefined;
  readonly maxBodySize: number | undefined;
  /** Request headers removed before the request goes upstream (lower case). */
  readonly dropRequestHeaders: readonly string[];
  readonly plans: SchemePlans;
  /** Compress proxied responses (SPEC §4 Compression); false costs nothing per request. */
  readonly compress: boolean;
}

export function createProxyUpstream(engine: ProxyEngine, pool: UpstreamPool, clientIp: ClientIpResolver, errorPages?: ErrorPageTable): ProxyUpstream {
  return { engine, pool, clientIp, errorPages, replyError: errorPages ? replyWithPages(errorPages) : replyPlain };
}

/** `upstream:` — forwards to a target of the pool through the shared proxy engine. */
export function createProxyAction(upstream: ProxyUpstream, route: ProxyRouteSettings): Action {
  return new ProxyAction(upstream, route);
}

// A class rather than closures: one small object per proxy route in a table of thousands.
class ProxyAction implements Action {
  constructor(
    private readonly upstream: ProxyUpstream,
    private readonly route: ProxyRouteSettings,
  ) {}

  handle(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): void {
    const { upstream, route } = this;
    this.rewrite(ctx, req);
    ctx.compress = route.compress; // read by the engine when the response head arrives
    const plan = ctx.proto === 'https' ? route.plans.https : route.plans.http;
    // Before the hop-by-hop fields go: Transfer-Encoding is one, and it tells of a body.
    const hasBody = requestHasBody(req);
    prepareUpstreamRequest(req, ctx, upstream.clientIp.isTrusted(ctx.peerIp), hasBody);
    if (hasBody && route.maxBodySize !== undefined && req.headers['content-length'] === undefined) {
      limitStreamedBody(req, route.maxBodySize, () => {
        if (!res.headersSent) {
          res.shouldKeepAlive = false; // the rest of the body is unread: the connection cannot be reused
          upstream.replyError(res, 413, plan, ctx.requestId);
        }
        req.destroy();
      });
    }
    upstream.engine.web(req, res, ctx, upstream.pool, plan, upstream.replyError, hasBody);
  }

  upgrade(ctx: RequestContext, req: IncomingMessage, socket: Duplex, head: Buffer, onEnd: (status: number) => void): void {
    const { upstream, route } = this;
    this.rewrite(ctx, req);
    prepareUpstreamUpgrade(req, ctx, upstream.clientIp.isTrusted(ctx.peerIp));
    const plan = ctx.proto === 'https' ? route.plans.https : route.plans.http;
    upstream.engine.ws(req, socket, head, ctx, upstream.pool, plan, upstream.errorPages, onEnd);
  }

  private rewrite(ctx: RequestContext, req: IncomingMessage): void {
    const drop = this.route.dropRequestHeaders; // empty unless a host keeps credentials from its upstream
    for (let i = 0; i < drop.length; i++) delete req.headers[drop[i]!];
    const rewriteUrl = this.route.rewriteUrl;
    if (rewriteUrl && req.url) {
      ctx.originalUrl = req.url;
      req.url = rewriteUrl(req.url, ctx.matchPath);
    }
  }
}

/** Portico's own answer when proxying fails (502, 504) or a streamed body is too large (413). */
function replyPlain(res: ServerResponse, status: 502 | 504 | 413, plan: HeaderPlan, requestId: string): void {
  renderReply(res, proxyFailureReply(status), plan, requestId);
}

/** The same, with a host's error pages bound once at compile time. */
function replyWithPages(pages: ErrorPageTable): ErrorReplier {
  return (res, status, plan, requestId) => renderReply(res, proxyFailureReply(status), plan, requestId, pages);
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

import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { PorticoError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { ErrorPageTable } from '../pipeline/error-pages.js';
import { applyHeaderPlan, type HeaderPlan } from '../pipeline/header-plan.js';
import type { RequestContext } from '../pipeline/request-context.js';
import type { TargetState } from '../upstreams/target-state.js';
import type { UpstreamPool } from '../upstreams/upstream-pool.js';
import { pipeCompressed, prepareCompression, type Coding } from './compression.js';
import { EXCHANGE, Exchange, type ErrorReplier, type TrackedRequest, type TrackedResponse } from './exchange.js';
import { stripHopByHop } from './hop-by-hop.js';
import { isHttp2 } from './http2-request.js';
import { loadHttpProxy } from './load-http-proxy.js';
import { isConnectFailure, proxyErrorStatus } from './proxy-error-status.js';
import { buildResponseHead } from './response-head.js';
import { isRetryable, replaysOnFreshConnection, triesAnotherTarget } from './retry-policy.js';
import { freshConnectionOptions } from './target-proxy-options.js';
import { UpgradeTunnels } from './upgrade-tunnels.js';

/**
 * The one http-proxy server, with the guards its unmaintained 1.18.1 release needs:
 * - every web()/ws() call gets an error callback (without one it throws);
 * - the response timeout is our own time-to-first-byte timer, not `proxyTimeout`, which is a
 *   socket-idle timer that would cut quiet SSE streams;
 * - the upstream request is destroyed when the client goes away (1.18.1 only listens for
 *   'aborted', which Node no longer emits once the request body is complete, so the upstream
 *   request leaked until the upstream finished);
 * - `xfwd` is off: forwarding headers are set by forwarded-headers.ts with the trust rules.
 */
export class ProxyEngine {
  private readonly proxy;
  private readonly tunnels: UpgradeTunnels;

  /** The 'close' listener of every upstream response: one function, no closure per response. */
  private readonly onUpstreamClose: (this: TrackedResponse) => void;

  constructor(private readonly log: Logger) {
    this.onUpstreamClose = function (this: TrackedResponse): void {
      const ex = this[EXCHANGE];
      if (!ex || this.complete || ex.clientGone) return;
      // The client leaving (a closed EventSource tab, an HTTP/2 stream reset) aborts the
      // upstream response too, sometimes before the client response reports its close:
      // that is a 499 in the access line, not an upstream failure.
      if (ex.clientLeft()) {
        ex.clientGone = true;
        return;
      }
      ex.ctx.failedStatus = 502;
      log.error({ event: 'upstream_error', requestId: ex.ctx.requestId, target: ex.ctx.targetLabel, code: 'ECONNRESET' }, 'upstream closed mid-response');
      ex.res.destroy();
    };
    const HttpProxy = loadHttpProxy();
    this.proxy = HttpProxy.createProxyServer({ xfwd: false, changeOrigin: false, ws: true });
    // http-proxy's deleteLength pass gives a DELETE or OPTIONS without Content-Length a
    // `content-length: 0` and drops Transfer-Encoding, so a chunked body would follow a
    // request that says it has none. Framing is upstream-request.ts's job alone.
    const passes = this.proxy as unknown as { webPasses: { name: string }[] };
    passes.webPasses = passes.webPasses.filter((pass) => pass.name !== 'deleteLength');
    // Its ws checkMethodAndHeader pass destroys every upgrade that is not a WebSocket GET; SPEC
    // §3 tunnels any other Upgrade the upstream accepts with 101 and returns its other answers.
    const wsPasses = this.proxy as unknown as { wsPasses: { name: string }[] };
    wsPasses.wsPasses = wsPasses.wsPasses.filter((pass) => pass.name !== 'checkMethodAndHeader');
    this.tunnels = new UpgradeTunnels(this.proxy, log);
    this.proxy.on('proxyReq', (proxyReq: ClientRequest, req: IncomingMessage) => this.onProxyReq(proxyReq, req as TrackedRequest));
    this.proxy.on('proxyRes', (proxyRes: IncomingMessage, req: IncomingMessage) => this.onProxyRes(proxyRes, req as TrackedRequest));
    // Never expected (every call has a callback); present so a stray error cannot crash the process.
    this.proxy.on('error', (err: Error) => this.log.error({ event: 'proxy_error', err }, 'unhandled http-proxy error'));
  }

  /**
   * Proxies an HTTP request, its headers already prepared by upstream-request.ts, to a target
   * of `pool`; the response is written by the proxy or `reply`.
   */
  web(req: IncomingMessage, res: ServerResponse, ctx: RequestContext, pool: UpstreamPool, plan: HeaderPlan, reply: ErrorReplier, hasBody: boolean): void {
    const exchange = new Exchange(ctx, res, pool, plan, reply, hasBody, isRetryable(req.method, hasBody));
    (req as TrackedRequest)[EXCHANGE] = exchange;
    ctx.onResponseClose = exchange; // called by the edge's one 'close' listener on `res`
    this.attempt(req as TrackedRequest, exchange);
  }

  /** Proxies a WebSocket (or other) upgrade (upgrade-tunnels.ts). */
  ws(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: RequestContext, pool: UpstreamPool, plan: HeaderPlan, pages: ErrorPageTable | undefined, onEnd: (status: number) => void): void {
    this.tunnels.open(req, socket, head, ctx, pool, plan, pages, onEnd);
  }

  private attempt(req: TrackedRequest, ex: Exchange, sameTarget?: TargetState): void {
    const target = sameTarget ?? ex.pool.pick(ex.ctx.clientIp, ex.tried);
    if (!target) {
      // Every target is down: answer at once rather than hang.
      const err = new PorticoError('PORTICO_NO_HEALTHY_TARGET', `no available target in upstream ${ex.pool.name}`);
      const status = proxyErrorStatus(err);
      this.log.warn({ event: 'upstream_error', requestId: ex.ctx.requestId, upstream: ex.pool.name, code: err.code, status }, err.message);
      ex.reply(ex.res, status, ex.plan, ex.ctx.requestId);
      return;
    }
    ex.target = target;
    ex.proxyReq = undefined;
    ex.ctx.targetLabel = target.url;
    target.inFlight++;
    const options = sameTarget ? freshConnectionOptions(target.proxyOptions) : ex.hasBody ? target.proxyOptions.web : target.proxyOptions.bodilessWeb;
    this.proxy.web(req, ex.res, options, (err: Error) => this.onError(req, ex, target, err));
  }

  private onProxyReq(proxyReq: ClientRequest, req: TrackedRequest): void {
    const ex = req[EXCHANGE];
    if (!ex) return;
    ex.proxyReq = proxyReq;
    if (ex.clientGone) {
      proxyReq.destroy();
      return;
    }
    const socket = proxyReq.socket;
    const up = ex.pool.config;
    if (socket && (socket as Socket).connecting) {
      ex.timer = setTimeout(() => proxyReq.destroy(new PorticoError('PORTICO_UPSTREAM_UNREACHABLE', 'connect timeout')), up.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(ex.timer);
        if (ex.proxyReq === proxyReq) ex.timer = this.responseTimer(proxyReq, up.responseTimeoutMs);
      });
    } else {
      ex.timer = this.responseTimer(proxyReq, up.responseTimeoutMs);
    }
  }

  private responseTimer(proxyReq: ClientRequest, ms: number): NodeJS.Timeout {
    return setTimeout(abortWithoutResponse, ms, proxyReq, ms); // arguments, not a closure per request
  }

  private onProxyRes(proxyRes: IncomingMessage, req: TrackedRequest): void {
    const ex = req[EXCHANGE];
    if (!ex) return;
    clearTimeout(ex.timer);
    ex.timer = undefined;
    ex.target?.recordResponse();
    // http-proxy pipes proxyRes into res but ignores its abort, and Node reports no error on
    // proxyReq once a response exists: an upstream dying mid-body left the client waiting
    // forever on a truncated response. Cut the client connection so the truncation shows.
    (proxyRes as TrackedResponse)[EXCHANGE] = ex;
    proxyRes.on('close', this.onUpstreamClose); // one shared listener, no closure per response
    const res = ex.res;
    if (res.headersSent || res.destroyed) {
      proxyRes.resume(); // Portico already answered (413 while streaming the body): discard
      return;
    }
    // We write the head ourselves (selfHandleResponse) instead of http-proxy's outgoing passes:
    // one writeHead instead of a setHeader per header, no reason phrase (HTTP/2 has none, and an
    // upstream's odd phrase would make writeHead throw), and Connection left to Node, which
    // honours the client's keep-alive choice.
    let hasLength: boolean;
    let coding: Coding | undefined; // SPEC §4 Compression, only looked at when the route has it on
    try {
      if (isHttp2(req)) {
        // HTTP/2's writeHead merges repeated names in a list on Node before 20.12: use an object.
        const headers = proxyRes.headers;
        stripHopByHop(headers);
        applyHeaderPlan(ex.plan, headers);
        headers['x-request-id'] = ex.ctx.requestId;
        if (ex.ctx.compress) coding = prepareCompression(req, proxyRes.statusCode ?? 502, headers);
        hasLength = headers['content-length'] !== undefined;
        res.writeHead(proxyRes.statusCode ?? 502, headers);
      } else {
        const head = buildResponseHead(proxyRes.rawHeaders, ex.plan, ex.ctx.requestId);
        if (ex.ctx.compress) coding = prepareCompression(req, proxyRes.statusCode ?? 502, head.headers);
        hasLength = head.hasLength && coding === undefined;
        res.writeHead(proxyRes.statusCode ?? 502, head.headers);
      }
    } catch (err) {
      this.log.error({ event: 'upstream_error', requestId: ex.ctx.requestId, target: ex.ctx.targetLabel, err }, 'invalid upstream response head');
      proxyRes.destroy();
      res.destroy();
      return;
    }
    // Node sends the head with the first body chunk; a stream (SSE, long poll: no
    // Content-Length) would show the client nothing while the upstream is quiet.
    if (!hasLength) res.flushHeaders();
    if (coding !== undefined && req.method !== 'HEAD') return pipeCompressed(proxyRes, res, coding);
    proxyRes.on('data', forwardChunk);
    proxyRes.on('end', endResponse);
  }

  private onError(req: TrackedRequest, ex: Exchange, target: TargetState, err: Error): void {
    clearTimeout(ex.timer);
    ex.timer = undefined;
    if (ex.target === target) {
      target.inFlight--;
      ex.target = undefined;
    }
    if (ex.clientGone || ex.clientLeft()) return;
    const code = (err as NodeJS.ErrnoException).code;
    if (replaysOnFreshConnection(ex, code)) {
      ex.freshRetried = true;
      this.attempt(req, ex, target);
      return;
    }
    const connectFailure = isConnectFailure(err);
    if (connectFailure) target.recordFailure(code ?? err.message);
    const tried = (ex.tried ??= new Set()).add(target);
    if (connectFailure && triesAnotherTarget(ex, tried) && ex.pool.pick(ex.ctx.clientIp, tried)) {
      this.attempt(req, ex);
      return;
    }
    const status = proxyErrorStatus(err);
    this.log.error({ event: 'upstream_error', requestId: ex.ctx.requestId, target: target.url, code: err instanceof PorticoError ? err.code : code, status }, err.message);
    ex.ctx.failedStatus = status;
    if (ex.res.headersSent) ex.res.destroy();
    else ex.reply(ex.res, status, ex.plan, ex.ctx.requestId);
  }
}

// The response body is forwarded by two shared listeners instead of pipe(): pipe creates
// eight closures and adds, then removes, a dozen listeners on both streams per response, which
// was a measurable part of a small proxied request. Backpressure is the same: the upstream
// pauses while the client's buffer is full.
function forwardChunk(this: TrackedResponse, chunk: Buffer): void {
  const ex = this[EXCHANGE]!;
  if (ex.res.write(chunk)) return;
  this.pause();
  if (!ex.drainHooked) {
    ex.drainHooked = true;
    ex.res.on('drain', () => this.resume());
  }
}

function endResponse(this: TrackedResponse): void {
  this[EXCHANGE]!.res.end();
}

/** Fires when no first byte arrived within timeouts.response: the exchange answers 504. */
function abortWithoutResponse(proxyReq: ClientRequest, ms: number): void {
  proxyReq.destroy(new PorticoError('PORTICO_UPSTREAM_TIMEOUT', `no response within ${ms} ms`));
}

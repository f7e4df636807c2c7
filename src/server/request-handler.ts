import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { compileHeaderPlan, SECURITY_HEADER_DEFAULTS, type HeaderPlan } from '../pipeline/header-plan.js';
import type { ErrorPageTable } from '../pipeline/error-pages.js';
import { BAD_REQUEST, INTERNAL_ERROR as INTERNAL, NOT_FOUND as NO_ROUTE, UNKNOWN_HOST } from '../pipeline/local-replies.js';
import { renderReply, renderReplyOnSocket } from '../pipeline/render-reply.js';
import type { RequestContext } from '../pipeline/request-context.js';
import { runSteps } from '../pipeline/run-steps.js';
import type { LocalReply, StepResult } from '../pipeline/step.js';
import { isHttp2, responseComplete } from '../proxy/http2-request.js';
import { normalizeHost } from '../routing/normalize-host.js';
import { normalizeRequestPath } from '../routing/path-match.js';
import type { CompiledRoute, RouteTable } from '../routing/route-table.js';
import { CountingHttp2Response } from './counting-http2-response.js';
import { framingProblem, toOriginForm } from './request-target.js';

/** What the edge handlers need from the gateway; read once per request. */
export interface EdgeContext {
  readonly table: RouteTable;
  /** Actual HTTPS port, for redirects (omitted from the URL when 443). */
  readonly httpsPort: number;
  challengeResponse(token: string): Promise<string | undefined>;
  /** Called exactly once per request or upgrade when it is over. */
  finish(ctx: RequestContext, status: number, bytes: number): void;
  onStepError(ctx: RequestContext, err: unknown): void;
  /** A bug surfaced on the request path: logged, and the request answered 500. */
  onInternalError(err: unknown): void;
  /** True once shutdown has begun: responses then close their HTTP/1.1 connection. */
  readonly draining: boolean;
}

const DEFAULT_PLAN = compileHeaderPlan(SECURITY_HEADER_DEFAULTS, {});
const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
const REQUEST_ID_RE = /^[\x21-\x7e]{1,200}$/;
const CONTEXT = Symbol('portico.requestContext');
type TrackedResponse = ServerResponse & { [CONTEXT]?: RequestContext };

/** Where a request goes: a route whose steps and action run next, or Portico's own reply. */
type Resolution =
  | { readonly route: CompiledRoute; readonly reply: undefined; readonly plan: HeaderPlan; readonly pages?: undefined }
  | { readonly route: undefined; readonly reply: LocalReply; readonly plan: HeaderPlan; readonly pages: ErrorPageTable | undefined };

/**
 * The one decision both requests and upgrades go through, so every guard applies to both:
 * framing and Host checks, host lookup, the HTTPS redirect, path sanity, route match and the
 * noindex robots.txt fallback. The ACME challenge stays with requests (it is never an upgrade).
 */
function resolveRequest(gw: EdgeContext, table: RouteTable, req: IncomingMessage, ctx: RequestContext): Resolution {
  if (!isHttp2(req) && framingProblem(req) !== undefined) return local(BAD_REQUEST, DEFAULT_PLAN);
  const host = table.lookupHost(normalizeHost(req.headers.host ?? (req.headers[':authority'] as string | undefined)));
  if (!host) return local(UNKNOWN_HOST, DEFAULT_PLAN, table.errorPages);
  ctx.hostLabel = host.name;
  const plan = ctx.proto === 'https' ? host.httpsHeaders : host.httpHeaders;
  if (ctx.proto === 'http' && host.tls !== 'off') return local({ status: 308, headers: { location: httpsLocation(gw, req) } }, plan);
  if (ctx.matchPath === '') return local(BAD_REQUEST, plan);
  const route = host.matchRoute(ctx.matchPath);
  if (route) {
    ctx.routeLabel = route.path;
    return { route, reply: undefined, plan };
  }
  return local(host.unrouted(ctx), plan, host.errorPages);
}

function local(reply: LocalReply, plan: HeaderPlan, pages?: ErrorPageTable): Resolution {
  return { route: undefined, reply, plan, pages };
}

/**
 * Builds the `request` listener of a public listener (`proto` is the scheme it serves). A throw
 * anywhere below is a bug, but it must cost one request, not the process: it is logged and
 * answered 500 (or the connection is cut if the response had started).
 */
export function createRequestHandler(gw: EdgeContext, proto: 'http' | 'https') {
  const serve = createServe(gw, proto);
  return (req: IncomingMessage, res: ServerResponse): void => {
    try {
      serve(req, res);
    } catch (err) {
      failSafe(gw, res, err);
    }
  };
}

function failSafe(gw: EdgeContext, res: ServerResponse, err: unknown): void {
  gw.onInternalError(err);
  if (res.headersSent) res.destroy();
  else renderReply(res, INTERNAL, DEFAULT_PLAN, '-');
}

function createServe(gw: EdgeContext, proto: 'http' | 'https') {
  // The one 'close' listener of every response: a shared function, not a closure per request.
  function onResponseClose(this: TrackedResponse): void {
    const ctx = this[CONTEXT]!;
    ctx.onResponseClose?.responseClosed();
    // A response cut short was the client's doing (499, as nginx logs it) unless the proxy
    // recorded that the upstream failed it.
    const status = responseComplete(this) ? this.statusCode : (ctx.failedStatus ?? 499);
    const bytes = this instanceof CountingHttp2Response ? this.bodyBytes : bytesSinceLastResponse(ctx.req.socket);
    gw.finish(ctx, status, bytes);
  }
  return (req: IncomingMessage, res: TrackedResponse): void => {
    const table = gw.table;
    const originForm = isHttp2(req) || toOriginForm(req);
    const ctx = createContext(table, req, proto);
    // While draining, say so (Connection: close) instead of letting a client reuse a
    // connection that is about to be closed under it.
    if (gw.draining) res.shouldKeepAlive = false;
    res[CONTEXT] = ctx;
    res.on('close', onResponseClose);
    if (!originForm) return renderReply(res, BAD_REQUEST, DEFAULT_PLAN, ctx.requestId);
    if (proto === 'http' && req.url?.startsWith(CHALLENGE_PREFIX)) return void answerChallenge(gw, req, res, ctx);
    const { route, reply, plan, pages } = resolveRequest(gw, table, req, ctx);
    if (!route) {
      // Framing we refuse leaves unread bytes behind: the connection cannot be reused.
      if (reply === BAD_REQUEST) res.shouldKeepAlive = false;
      return renderReply(res, reply, plan, ctx.requestId, pages);
    }
    const decided = runSteps(route.steps, ctx);
    if (decided instanceof Promise) {
      decided.then(
        (stepReply) => {
          try {
            proceed(ctx, req, res, route, stepReply, plan);
          } catch (err) {
            failSafe(gw, res, err);
          }
        },
        (err: unknown) => {
          gw.onStepError(ctx, err);
          renderReply(res, INTERNAL, plan, ctx.requestId);
        },
      );
    } else {
      proceed(ctx, req, res, route, decided, plan);
    }
  };
}

/**
 * Builds the `upgrade` listener: the same decision as requests, then the action's upgrade.
 * `Upgrade: h2c` is not a tunnel Portico offers: such a request is served as the HTTP/1.1
 * request it also is, through `onRequest`, and its connection closes after the response.
 */
export function createUpgradeHandler(gw: EdgeContext, proto: 'http' | 'https', onRequest: (req: IncomingMessage, res: ServerResponse) => void) {
  const serve = createServeUpgrade(gw, proto);
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    try {
      socket.on('error', () => socket.destroy()); // a reset client must not crash the process
      if (isH2cOnly(req.headers.upgrade)) serveWithoutUpgrade(req, socket as Socket, head, onRequest);
      else serve(req, socket, head);
    } catch (err) {
      gw.onInternalError(err);
      socket.destroy();
    }
  };
}

function createServeUpgrade(gw: EdgeContext, proto: 'http' | 'https') {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const table = gw.table;
    const originForm = toOriginForm(req);
    const ctx = createContext(table, req, proto);
    let finished = false;
    const end = (status: number) => {
      if (finished) return;
      finished = true;
      gw.finish(ctx, status, (socket as Socket).bytesWritten ?? 0);
    };
    const refuse = (reply: LocalReply, plan: HeaderPlan, pages?: ErrorPageTable) => {
      renderReplyOnSocket(socket, reply, plan, ctx.requestId, pages);
      end(reply.status);
    };
    // An upgrade request with a body has nowhere to send it before the tunnel exists.
    if (!originForm || hasBodyHeaders(req)) return refuse(BAD_REQUEST, DEFAULT_PLAN);
    const { route, reply, plan, pages } = resolveRequest(gw, table, req, ctx);
    if (!route) return refuse(reply, plan, pages);
    const go = (stepReply: StepResult) => (stepReply ? refuse(stepReply, plan, route.errorPages) : route.action.upgrade(ctx, req, socket, head, end));
    const decided = runSteps(route.steps, ctx);
    if (decided instanceof Promise) {
      decided
        .then(go, (err: unknown) => {
          gw.onStepError(ctx, err);
          refuse(INTERNAL, plan);
        })
        .catch((err: unknown) => {
          gw.onInternalError(err);
          socket.destroy();
        });
    } else go(decided);
  };
}

function hasBodyHeaders(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** True when `Upgrade` offers only h2c (RFC 9113 §3.1 removed it; Portico serves HTTP/1.1). */
function isH2cOnly(upgrade: string | undefined): boolean {
  return upgrade !== undefined && upgrade.trim().toLowerCase() === 'h2c';
}

/**
 * Serves an upgrade request Portico declines as an ordinary HTTP/1.1 request on its socket.
 * Node has already detached its parser and ended the request stream, so a new request stream
 * carries the same head, a body of declared length is fed to it from `head` and the socket,
 * the response is bound to the socket here, and the connection closes after the response (a
 * chunked body cannot be re-parsed here and is refused).
 */
function serveWithoutUpgrade(upgrade: IncomingMessage, socket: Socket, head: Buffer, onRequest: (req: IncomingMessage, res: ServerResponse) => void): void {
  const req = new IncomingMessage(socket);
  Object.assign(req, {
    method: upgrade.method,
    url: upgrade.url,
    httpVersion: upgrade.httpVersion,
    httpVersionMajor: upgrade.httpVersionMajor,
    httpVersionMinor: upgrade.httpVersionMinor,
    rawHeaders: upgrade.rawHeaders.filter((_, i, raw) => !DECLINED_UPGRADE_FIELDS.has(raw[i - (i % 2)]!.toLowerCase())),
  });
  req.headers = { ...upgrade.headers, connection: 'close' };
  delete req.headers.upgrade;
  delete req.headers['http2-settings'];
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.once('finish', () => socket.end());
  let remaining = req.headers['transfer-encoding'] !== undefined ? -1 : Number(req.headers['content-length'] ?? 0);
  if (!Number.isSafeInteger(remaining) || remaining < 0) {
    renderReply(res, BAD_REQUEST, DEFAULT_PLAN, randomUUID()); // with the security headers every reply carries
    return;
  }
  const feed = (chunk: Buffer) => {
    const part = chunk.subarray(0, remaining);
    remaining -= part.length;
    if (part.length > 0) req.push(part);
    if (remaining === 0) {
      socket.off('data', feed);
      endBody(req);
    }
  };
  if (remaining === 0) endBody(req);
  else {
    feed(head);
    if (remaining > 0) socket.on('data', feed);
  }
  onRequest(req, res);
}

/** Ends a request stream built here; `complete`, or Node takes its end for an abort and cuts the socket. */
function endBody(req: IncomingMessage): void {
  req.complete = true;
  req.push(null);
}

const DECLINED_UPGRADE_FIELDS: ReadonlySet<string> = new Set(['upgrade', 'http2-settings', 'connection']);

function createContext(table: RouteTable, req: IncomingMessage, proto: 'http' | 'https'): RequestContext {
  const peer = normalizePeer(req.socket.remoteAddress);
  const xff = req.headers['x-forwarded-for'];
  const sentId = req.headers['x-request-id'];
  return {
    req,
    clientIp: table.clientIp.resolve(peer, typeof xff === 'string' ? xff : undefined),
    peerIp: peer,
    requestId: typeof sentId === 'string' && REQUEST_ID_RE.test(sentId) ? sentId : randomUUID(),
    matchPath: normalizeRequestPath(req.url ?? '') ?? '',
    proto,
    startedAt: performance.now(),
    hostLabel: '-',
    routeLabel: '-',
    targetLabel: undefined,
    compress: false, // present from the start: every context keeps one shape
  };
}

function proceed(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, route: CompiledRoute, reply: StepResult, plan: HeaderPlan): void {
  if (reply) renderReply(res, reply, plan, ctx.requestId, route.errorPages);
  else route.action.handle(ctx, req, res);
}

async function answerChallenge(gw: EdgeContext, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  ctx.hostLabel = normalizeHost(req.headers.host) ? 'acme-challenge' : '-';
  const token = (req.url ?? '').slice(CHALLENGE_PREFIX.length).split('?')[0] ?? '';
  let answer: string | undefined;
  try {
    answer = /^[A-Za-z0-9_-]+$/.test(token) ? await gw.challengeResponse(token) : undefined;
  } catch (err) {
    gw.onStepError(ctx, err);
  }
  renderReply(res, answer === undefined ? NO_ROUTE : { status: 200, body: answer }, DEFAULT_PLAN, ctx.requestId);
}

function httpsLocation(gw: EdgeContext, req: IncomingMessage): string {
  const name = normalizeHost(req.headers.host);
  const port = gw.httpsPort === 443 ? '' : `:${gw.httpsPort}`;
  const target = req.url && req.url.startsWith('/') ? req.url : '/';
  return `https://${name}${port}${target}`;
}

const BYTES_COUNTED = Symbol('portico.bytesCounted');

/**
 * Bytes on the wire for the HTTP/1.1 response that just closed (head + body): the growth of
 * the socket's counter since the previous response on it. HTTP/1.1 connections write
 * responses one after another, pipelined ones included, so the delta is exact. (HTTP/2
 * streams share their connection: CountingHttp2Response counts their body bytes instead.)
 */
function bytesSinceLastResponse(socket: Socket & { [BYTES_COUNTED]?: number }): number {
  const total = socket.bytesWritten;
  const bytes = total - (socket[BYTES_COUNTED] ?? 0);
  socket[BYTES_COUNTED] = total;
  return bytes;
}

/** An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d; log and key it as a.b.c.d. */
function normalizePeer(addr: string | undefined): string {
  if (!addr) return '';
  return addr.startsWith('::ffff:') && addr.indexOf('.') > 0 ? addr.slice(7) : addr;
}

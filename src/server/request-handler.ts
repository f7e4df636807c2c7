import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { DEFAULT_HEADER_PLAN, type HeaderPlan } from '../pipeline/header-plan.js';
import { BAD_REQUEST, INTERNAL_ERROR as INTERNAL, NOT_FOUND } from '../pipeline/local-replies.js';
import { renderReply } from '../pipeline/render-reply.js';
import type { RequestContext } from '../pipeline/request-context.js';
import { runSteps } from '../pipeline/run-steps.js';
import type { StepResult } from '../pipeline/step.js';
import { isHttp2, responseComplete } from '../proxy/http2-request.js';
import { normalizeHost } from '../routing/normalize-host.js';
import { normalizeRequestPath } from '../routing/path-match.js';
import type { CompiledRoute } from '../routing/route-table.js';
import { CountingHttp2Response } from './counting-http2-response.js';
import { createRequestContext, requestIdOf } from './create-request-context.js';
import type { EdgeContext } from './edge-context.js';
import { toOriginForm } from './request-target.js';
import { resolveRequest } from './resolve-request.js';

const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
const CONTEXT = Symbol('portico.requestContext');
type TrackedResponse = ServerResponse & { [CONTEXT]?: RequestContext };

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
  else renderReply(res, INTERNAL, DEFAULT_HEADER_PLAN, '-');
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
    const ctx = createRequestContext(table, req, proto, requestIdOf(req), normalizeRequestPath(req.url ?? '') ?? '');
    // While draining, say so (Connection: close) instead of letting a client reuse a
    // connection that is about to be closed under it.
    if (gw.draining) res.shouldKeepAlive = false;
    res[CONTEXT] = ctx;
    res.on('close', onResponseClose);
    if (!originForm) return renderReply(res, BAD_REQUEST, DEFAULT_HEADER_PLAN, ctx.requestId);
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
  renderReply(res, answer === undefined ? NOT_FOUND : { status: 200, body: answer }, DEFAULT_HEADER_PLAN, ctx.requestId);
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

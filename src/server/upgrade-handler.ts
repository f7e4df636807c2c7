import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ErrorPageTable } from '../pipeline/error-pages.js';
import { DEFAULT_HEADER_PLAN, type HeaderPlan } from '../pipeline/header-plan.js';
import { BAD_REQUEST, INTERNAL_ERROR } from '../pipeline/local-replies.js';
import { renderReplyOnSocket } from '../pipeline/render-reply.js';
import { runSteps } from '../pipeline/run-steps.js';
import type { LocalReply, StepResult } from '../pipeline/step.js';
import { normalizeRequestPath } from '../routing/path-match.js';
import { createRequestContext, requestIdOf } from './create-request-context.js';
import type { EdgeContext } from './edge-context.js';
import { toOriginForm } from './request-target.js';
import { resolveRequest } from './resolve-request.js';
import { serveWithoutUpgrade } from './serve-without-upgrade.js';

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
    const ctx = createRequestContext(table, req, proto, requestIdOf(req), normalizeRequestPath(req.url ?? '') ?? '');
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
    if (!originForm || hasBodyHeaders(req)) return refuse(BAD_REQUEST, DEFAULT_HEADER_PLAN);
    const { route, reply, plan, pages } = resolveRequest(gw, table, req, ctx);
    if (!route) return refuse(reply, plan, pages);
    const go = (stepReply: StepResult) => (stepReply ? refuse(stepReply, plan, route.errorPages) : route.action.upgrade(ctx, req, socket, head, end));
    const decided = runSteps(route.steps, ctx);
    if (decided instanceof Promise) {
      decided
        .then(go, (err: unknown) => {
          gw.onStepError(ctx, err);
          refuse(INTERNAL_ERROR, plan);
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

import type { RouteAction } from '../../config/config-types.js';
import type { Action } from '../../routing/route-table.js';
import { renderReply, renderReplyOnSocket } from '../render-reply.js';
import type { LocalReply } from '../step.js';

/** `respond:` — a fixed status, body and headers, built once per config. */
export function createRespondAction(spec: Extract<RouteAction, { kind: 'respond' }>): Action {
  const reply: LocalReply = Object.freeze({ status: spec.status, body: spec.body, headers: spec.headers });
  return {
    handle(ctx, _req, res, route) {
      renderReply(res, reply, ctx.proto === 'https' ? route.httpsHeaders : route.httpHeaders, ctx.requestId);
    },
    upgrade(ctx, _req, socket, _head, route, onEnd) {
      renderReplyOnSocket(socket, reply, ctx.proto === 'https' ? route.httpsHeaders : route.httpHeaders, ctx.requestId);
      onEnd(reply.status);
    },
  };
}

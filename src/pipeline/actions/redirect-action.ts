import type { RouteAction } from '../../config/config-types.js';
import type { Action } from '../../routing/route-table.js';
import { renderReply, renderReplyOnSocket } from '../render-reply.js';
import type { LocalReply } from '../step.js';

/** `redirect:` — `Location` is `to` verbatim, as the spec fixes (no path appended). */
export function createRedirectAction(spec: Extract<RouteAction, { kind: 'redirect' }>): Action {
  const reply: LocalReply = Object.freeze({ status: spec.status, headers: { location: spec.to }, body: '' });
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

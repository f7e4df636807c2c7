import type { RouteAction } from '../../config/config-types.js';
import type { Action } from '../../routing/route-table.js';
import { renderReply, renderReplyOnSocket } from '../render-reply.js';
import type { LocalReply } from '../step.js';

/** A reply Portico answers itself, fixed per config: `respond:` and `redirect:` routes. */
export function createLocalReplyAction(spec: Extract<RouteAction, { kind: 'respond' | 'redirect' }>): Action {
  const reply: LocalReply = Object.freeze(
    spec.kind === 'respond'
      ? { status: spec.status, body: spec.body, headers: spec.headers }
      : { status: spec.status, body: '', headers: { location: spec.to } }, // Location is `to` verbatim
  );
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

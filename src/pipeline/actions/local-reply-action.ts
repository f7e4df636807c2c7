import type { RouteAction } from '../../config/config-types.js';
import type { Action } from '../action.js';
import type { ErrorPageTable } from '../error-pages.js';
import type { SchemePlans } from '../header-plan.js';
import { renderReply, renderReplyOnSocket } from '../render-reply.js';
import type { LocalReply } from '../step.js';

/**
 * A reply Portico answers itself, fixed per config: `respond:` and `redirect:` routes. A
 * `respond` without a body takes the host's error page for its status (a maintenance 503),
 * as nginx's `return 503;` does; one with a body keeps the body it was given.
 */
export function createLocalReplyAction(
  spec: Extract<RouteAction, { kind: 'respond' | 'redirect' }>,
  plans: SchemePlans,
  errorPages?: ErrorPageTable,
): Action {
  const reply: LocalReply = Object.freeze(
    spec.kind === 'respond'
      ? { status: spec.status, body: spec.body, headers: spec.headers }
      : { status: spec.status, body: '', headers: { location: spec.to } }, // Location is `to` verbatim
  );
  const pages = spec.kind === 'respond' && spec.body === '' ? errorPages : undefined;
  return {
    handle(ctx, _req, res) {
      renderReply(res, reply, ctx.proto === 'https' ? plans.https : plans.http, ctx.requestId, pages);
    },
    upgrade(ctx, _req, socket, _head, onEnd) {
      renderReplyOnSocket(socket, reply, ctx.proto === 'https' ? plans.https : plans.http, ctx.requestId, pages);
      onEnd(reply.status);
    },
  };
}

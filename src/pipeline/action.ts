import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestContext } from './request-context.js';

/**
 * What a route does once its steps let the request through: proxy, respond or redirect. An
 * action is bound to its route when the table is compiled (rewrite, header plans, body limit,
 * error pages), so a request hands it nothing but itself.
 */
export interface Action {
  handle(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): void;
  /** `onEnd` runs once, with the status to log, when the upgrade is refused or its tunnel closes. */
  upgrade(ctx: RequestContext, req: IncomingMessage, socket: Duplex, head: Buffer, onEnd: (status: number) => void): void;
}

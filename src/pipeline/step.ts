import type { RequestContext } from './request-context.js';

/** A reply produced by Portico itself instead of an upstream (401, 429, 413, robots.txt…). */
export interface LocalReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** `undefined` lets the request continue; a reply ends it. */
export type StepResult = LocalReply | undefined;

/**
 * One stage of a route's pipeline. Steps decide, they never write to the response: the runner
 * renders the reply, on an `http.ServerResponse` or as raw bytes on an upgrade socket.
 * A step returns a Promise only when it must wait (Redis, bcrypt), so the common path stays sync.
 */
export type Step = (ctx: RequestContext) => StepResult | Promise<StepResult>;

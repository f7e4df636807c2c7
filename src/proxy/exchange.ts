import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { HeaderPlan } from '../pipeline/header-plan.js';
import type { RequestContext } from '../pipeline/request-context.js';
import type { TargetState } from '../upstreams/target-state.js';
import type { UpstreamPool } from '../upstreams/upstream-pool.js';
import { responseComplete } from './http2-request.js';

/** Renders Portico's own error reply (502/504/413) with the route's headers. */
export type ErrorReplier = (res: ServerResponse, status: 502 | 504 | 413, plan: HeaderPlan, requestId: string) => void;

/** One proxied request across its attempts. */
export class Exchange {
  target: TargetState | undefined = undefined;
  tried: Set<TargetState> | undefined = undefined;
  proxyReq: ClientRequest | undefined = undefined;
  timer: NodeJS.Timeout | undefined = undefined;
  clientGone = false;
  /** A 'drain' listener on `res` resumes the upstream response (added on first backpressure). */
  drainHooked = false;
  /** Replayed once on a fresh connection after a pooled one turned out closed. */
  freshRetried = false;

  constructor(
    readonly ctx: RequestContext,
    readonly res: ServerResponse,
    readonly pool: UpstreamPool,
    readonly plan: HeaderPlan,
    readonly reply: ErrorReplier,
    readonly hasBody: boolean,
    readonly retryable: boolean,
  ) {}

  /** The client response closed (sent, or the client went away): stop the upstream side. */
  responseClosed(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!responseComplete(this.res)) {
      this.clientGone = true;
      this.proxyReq?.destroy();
    }
    if (this.target) {
      this.target.inFlight--;
      this.target = undefined;
    }
  }

  /** True when the client has gone: its request was aborted or its response stream destroyed. */
  clientLeft(): boolean {
    const req = this.ctx.req as IncomingMessage & { aborted?: boolean };
    return req.aborted === true || this.res.destroyed || (this.res as { stream?: { destroyed: boolean } }).stream?.destroyed === true;
  }
}

/** The exchange rides on the request and the upstream response, for http-proxy's events and shared listeners. */
export const EXCHANGE = Symbol('portico.exchange');
export type TrackedRequest = IncomingMessage & { [EXCHANGE]?: Exchange };
export type TrackedResponse = IncomingMessage & { [EXCHANGE]?: Exchange };

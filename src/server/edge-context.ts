import type { Metrics } from '../admin/metrics.js';
import { createAccessLogWriter } from '../observability/access-log.js';
import type { Logger } from '../observability/logger.js';
import type { RequestContext } from '../pipeline/request-context.js';
import type { RouteTable } from '../routing/route-table.js';

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

/** The live state an edge context reads; the gateway provides it. */
export interface EdgeState {
  readonly table: RouteTable;
  readonly draining: boolean;
  readonly httpsPort: number;
  challengeResponse(token: string): Promise<string | undefined>;
}

/**
 * The edge context of one process: live state read through `state` (its getters are read once
 * per request), each finished request counted in `metrics` and written as an access line when
 * the table it was served under says so.
 */
export function createEdgeContext(state: EdgeState, metrics: Pick<Metrics, 'observeRequest'>, log: Logger): EdgeContext {
  const accessLog = createAccessLogWriter(log);
  return {
    get table() {
      return state.table;
    },
    get draining() {
      return state.draining;
    },
    // Read when a redirect is built (rare): the HTTPS listener may have moved on reload.
    get httpsPort() {
      return state.httpsPort;
    },
    challengeResponse: (token) => state.challengeResponse(token),
    finish: (ctx, status, bytes) => {
      const ms = performance.now() - ctx.startedAt;
      metrics.observeRequest(ctx.hostLabel, status, ms / 1000);
      // The table the request was served under decides, not one a reload swapped in since.
      if (ctx.accessLog) accessLog(ctx, status, bytes, ms);
    },
    onStepError: (ctx, err) => log.error({ event: 'step_error', requestId: ctx.requestId, err }, 'request step failed'),
    onInternalError: (err) => log.error({ event: 'internal_error', err }, 'request failed on an unexpected error'),
  };
}

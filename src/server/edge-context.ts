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

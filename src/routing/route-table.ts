import type { Config, TlsMode } from '../config/config-types.js';
import type { Action } from '../pipeline/action.js';
import type { ErrorPageTable } from '../pipeline/error-pages.js';
import type { HeaderPlan } from '../pipeline/header-plan.js';
import type { RequestContext } from '../pipeline/request-context.js';
import type { LocalReply, Step } from '../pipeline/step.js';
import type { ClientIpResolver } from '../server/client-ip.js';

/** A route with everything derived from config computed up front. */
export interface CompiledRoute {
  /** Normalised prefix, also the route label in logs. */
  readonly path: string;
  readonly steps: readonly Step[];
  /** Bound to the route's own settings (rewrite, header plans, body limit, compression). */
  readonly action: Action;
  /** The host's error pages, for the replies Portico makes on this route. */
  readonly errorPages: ErrorPageTable | undefined;
}

/** A host with its routes ordered for longest-prefix matching. */
export interface CompiledHost {
  readonly name: string;
  readonly tls: TlsMode['kind'];
  /** Headers for Portico's own replies on this host before a route is known (404, 400). */
  readonly httpsHeaders: HeaderPlan;
  readonly httpHeaders: HeaderPlan;
  /** Top-level pages merged with the host's. */
  readonly errorPages: ErrorPageTable | undefined;
  /**
   * The reply for a path no route covers: 403 from the host's allow/deny (a refused client
   * learns nothing about which paths exist), robots.txt on a noindex host, or 404.
   */
  unrouted(ctx: RequestContext): LocalReply;
  matchRoute(path: string): CompiledRoute | undefined;
}

/** An immutable snapshot of the whole routing configuration; published by one assignment. */
export interface RouteTable {
  readonly version: number;
  readonly config: Config;
  readonly clientIp: ClientIpResolver;
  /** Top-level error pages, for replies to unknown hosts. */
  readonly errorPages: ErrorPageTable | undefined;
  lookupHost(host: string): CompiledHost | undefined;
}

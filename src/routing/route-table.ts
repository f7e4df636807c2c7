import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config, HostConfig, TlsMode } from '../config/config-types.js';
import type { ErrorPageTable } from '../pipeline/error-pages.js';
import type { HeaderPlan } from '../pipeline/header-plan.js';
import type { RequestContext } from '../pipeline/request-context.js';
import type { LocalReply, Step } from '../pipeline/step.js';
import type { ClientIpResolver } from '../server/client-ip.js';
import type { UpstreamPool } from '../upstreams/upstream-pool.js';

/** What a route does once its steps let the request through. */
export interface Action {
  handle(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, route: CompiledRoute): void;
  upgrade(ctx: RequestContext, req: IncomingMessage, socket: Duplex, head: Buffer, route: CompiledRoute, onEnd: (status: number) => void): void;
}

/** A route with everything derived from config computed up front. */
export interface CompiledRoute {
  /** Normalised prefix, also the route label in logs. */
  readonly path: string;
  readonly host: CompiledHost;
  readonly steps: readonly Step[];
  readonly action: Action;
  /** Rewrites the request target for the upstream (stripPrefix/rewrite), or undefined for none. */
  readonly rewriteUrl: ((url: string, matchPath: string) => string) | undefined;
  readonly maxBodySize: number | undefined;
  /** Request headers removed before the request goes upstream (lower case), compiled from config. */
  readonly dropRequestHeaders: readonly string[];
  /** Response headers for HTTPS and for plain HTTP (HSTS only goes on the former). */
  readonly httpsHeaders: HeaderPlan;
  readonly httpHeaders: HeaderPlan;
  /** Compress proxied responses (SPEC §4 Compression); false costs nothing per request. */
  readonly compress: boolean;
  /** The host's error pages, for the replies Portico makes on this route. */
  readonly errorPages: ErrorPageTable | undefined;
}

/** A host with its routes ordered for longest-prefix matching. */
export interface CompiledHost {
  readonly name: string;
  readonly config: HostConfig;
  readonly tls: TlsMode['kind'];
  /** Headers for Portico's own replies on this host before a route is known (404, 400). */
  readonly httpsHeaders: HeaderPlan;
  readonly httpHeaders: HeaderPlan;
  /** Top-level pages merged with the host's. */
  readonly errorPages: ErrorPageTable | undefined;
  /** The host's allow/deny check, for requests no route matches (403 rather than 404). */
  readonly refuse: ((ctx: RequestContext) => LocalReply | undefined) | undefined;
  matchRoute(path: string): CompiledRoute | undefined;
}

/** An immutable snapshot of the whole routing configuration; published by one assignment. */
export interface RouteTable {
  readonly version: number;
  readonly config: Config;
  readonly clientIp: ClientIpResolver;
  readonly pools: ReadonlyMap<string, UpstreamPool>;
  /** Top-level error pages, for replies to unknown hosts. */
  readonly errorPages: ErrorPageTable | undefined;
  lookupHost(host: string): CompiledHost | undefined;
}

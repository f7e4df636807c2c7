import type { AccessConfig, BasicAuthConfig, Config, HostConfig, RateLimitConfig, RouteConfig } from '../config/config-types.js';
import type { Action } from '../pipeline/action.js';
import { createProxyAction, createProxyUpstream, type ProxyUpstream } from '../pipeline/actions/proxy-action.js';
import { createLocalReplyAction } from '../pipeline/actions/local-reply-action.js';
import { compileErrorPages, type ErrorPageTable } from '../pipeline/error-pages.js';
import { compileHeaderPlan, SECURITY_HEADER_DEFAULTS, strictTransportSecurity, type SchemePlans } from '../pipeline/header-plan.js';
import type { Step } from '../pipeline/step.js';
import { createAccessControlStep } from '../pipeline/steps/access-control.js';
import { createBodyLimitStep } from '../pipeline/steps/body-limit.js';
import { robotsTxtStep } from '../pipeline/steps/robots-txt.js';
import type { ProxyEngine } from '../proxy/proxy-engine.js';
import { compileClientIpResolver, type ClientIpResolver } from '../server/client-ip.js';
import type { TargetRegistry } from '../upstreams/target-registry.js';
import type { TargetState } from '../upstreams/target-state.js';
import { UpstreamPool } from '../upstreams/upstream-pool.js';
import { buildHostIndex, type HostIndex } from './host-index.js';
import { compileRewrite } from './compile-rewrite.js';
import { compileUnroutedReply } from './compile-unrouted-reply.js';
import { prefixMatches } from './path-match.js';
import type { CompiledHost, CompiledRoute, RouteTable } from './route-table.js';

/** The long-lived parts a table is compiled against; they outlive any one config. */
export interface CompileDeps {
  readonly engine: ProxyEngine;
  readonly targets: TargetRegistry;
  createRateLimitStep(scope: string, limit: RateLimitConfig): Step;
  createBasicAuthStep(config: BasicAuthConfig): Step;
}

/** What a compile produces: the table, and the target states it uses (the caller retires the rest). */
export interface CompiledTable {
  readonly table: RouteTable;
  readonly targets: Set<TargetState>;
  /** Hosts compiled by this compile; the others kept their compiled form from the previous table. */
  readonly hostsCompiled: number;
}

/**
 * Builds the immutable RouteTable for a config: host index, per-route step lists, actions,
 * header plans and upstream pools. Everything the request path needs is computed here, once.
 */
export function compileRouteTable(config: Config, deps: CompileDeps, version: number): CompiledTable {
  const steps = compileSteps(config, deps, version);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * The same table, built a slice of hosts at a time with a turn of the event loop between
 * slices of at most `sliceMs`, so that requests keep being served while a large config (10,000
 * hosts) compiles. The old table serves until the caller swaps in the new one.
 *
 * With the `previous` table, a host whose HostConfig is the very object that table was compiled
 * from keeps its compiled host (the config loader hands back the same object for a host whose
 * text did not change), as long as the upstreams and trusted proxies are the same: an edit of
 * one host among 10,000 compiles one host.
 */
export async function compileRouteTableInSlices(config: Config, deps: CompileDeps, version: number, previous?: RouteTable, sliceMs = 5): Promise<CompiledTable> {
  const steps = compileSteps(config, deps, version, previous);
  let sliceStart = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
}

/**
 * What a table was compiled against and from, kept beside it so that the next compile can
 * reuse its hosts. Weakly held: it goes with its table.
 */
interface Reusable {
  /** The upstreams and trusted proxies, as text: compiled hosts hold their pools and resolver. */
  readonly context: string;
  readonly deps: CompileDeps;
  readonly pools: Map<string, UpstreamPool>;
  readonly clientIp: ClientIpResolver;
  readonly targets: Set<TargetState>;
  /**
   * Compiled hosts by the HostConfig object they were compiled from, for this table and the
   * ones before it with the same context: carried from table to table (nothing to copy per
   * reload), an entry going with its HostConfig.
   */
  readonly hosts: WeakMap<HostConfig, CompiledHost>;
  /** The table's host index: the next one is a small layer over its base when the names are the same. */
  readonly index: HostIndex<CompiledHost>;
}

const reusable = new WeakMap<RouteTable, Reusable>();

function compileContext(config: Config): string {
  return JSON.stringify([[...config.upstreams.values()], config.trustedProxies]);
}

function sameDeps(a: CompileDeps, b: CompileDeps): boolean {
  return a.engine === b.engine && a.targets === b.targets && a.createRateLimitStep === b.createRateLimitStep && a.createBasicAuthStep === b.createBasicAuthStep;
}

/** Compiles, yielding after each host; the return value is the finished table. */
function* compileSteps(config: Config, deps: CompileDeps, version: number, previous?: RouteTable): Generator<void, CompiledTable, void> {
  const context = compileContext(config);
  const before = previous ? reusable.get(previous) : undefined;
  const reuse = before && before.context === context && sameDeps(before.deps, deps) ? before : undefined;
  const clientIp = reuse?.clientIp ?? compileClientIpResolver(config.trustedProxies);
  let pools = reuse?.pools;
  let used = reuse?.targets;
  if (!pools || !used) {
    pools = new Map<string, UpstreamPool>();
    used = new Set<TargetState>();
    for (const [name, up] of config.upstreams) {
      const states = deps.targets.acquire(up);
      states.forEach((s) => used!.add(s));
      pools.set(name, new UpstreamPool(up, states));
    }
  }

  const shared: Shared = { headerPlans: new Map(), proxyUpstreams: new Map(), bodySteps: new Map() };
  const hosts = reuse?.hosts ?? new WeakMap<HostConfig, CompiledHost>();
  let hostsCompiled = 0;
  for (const hostConfig of config.hosts) {
    let host = hosts.get(hostConfig);
    if (!host) {
      hosts.set(hostConfig, (host = compileHost(hostConfig, { deps, pools, clientIp, shared })));
      hostsCompiled++;
    }
    yield;
  }
  const index = buildHostIndex<CompiledHost>((visit) => {
    for (const hostConfig of config.hosts) {
      const host = hosts.get(hostConfig)!;
      visit(hostConfig.name, host);
      for (const alias of hostConfig.aliases) visit(alias, host);
    }
  }, reuse?.index);

  const table: RouteTable = Object.freeze({
    version,
    config,
    clientIp,
    errorPages: compileErrorPages(config.errorPages),
    lookupHost: (name: string) => index.lookup(name),
  });
  reusable.set(table, { context, deps, pools, clientIp, targets: used, hosts, index });
  return { table, targets: used, hostsCompiled };
}

/**
 * Parts equal for many hosts, built once per compile: with thousands of hosts on a few
 * upstreams, most hosts have the same header plans and every proxy route of a pool the same
 * ProxyUpstream.
 * Scoped to one compile, so nothing of an old config outlives its table.
 */
interface Shared {
  readonly headerPlans: Map<string, SchemePlans>;
  readonly proxyUpstreams: Map<string, ProxyUpstream>;
  readonly bodySteps: Map<number, Step>;
}

interface HostDeps {
  readonly deps: CompileDeps;
  readonly pools: ReadonlyMap<string, UpstreamPool>;
  readonly clientIp: ClientIpResolver;
  readonly shared: Shared;
}

function headerPlans(cfg: HostConfig, shared: Shared): SchemePlans {
  const hsts = strictTransportSecurity(cfg.tls.kind);
  const custom = Object.keys(cfg.headers).length > 0;
  const key = `${hsts !== undefined ? 's' : '-'}${cfg.noindex ? 'n' : '-'}${custom ? JSON.stringify(cfg.headers) : ''}`;
  let plans = shared.headerPlans.get(key);
  if (!plans) {
    const overrides: Record<string, string | null> = { ...cfg.headers };
    if (cfg.noindex) overrides['X-Robots-Tag'] = 'noindex, nofollow';
    const http = compileHeaderPlan(SECURITY_HEADER_DEFAULTS, overrides);
    const https = hsts !== undefined ? compileHeaderPlan({ ...SECURITY_HEADER_DEFAULTS, 'strict-transport-security': hsts }, overrides) : http;
    plans = { http, https };
    shared.headerPlans.set(key, plans);
  }
  return plans;
}

function compileHost(cfg: HostConfig, hd: HostDeps): CompiledHost {
  const plans = headerPlans(cfg, hd.shared);

  // One compiled check per distinct list: routes that inherit the host's share its step.
  const accessSteps = new Map<AccessConfig, Step>();
  const accessStep = (access: AccessConfig) => accessSteps.get(access) ?? accessSteps.set(access, createAccessControlStep(access)).get(access)!;
  const hostAccess = cfg.access ? accessStep(cfg.access) : undefined;
  const errorPages = compileErrorPages(cfg.errorPages);

  const hostSteps: Step[] = [];
  if (cfg.noindex) hostSteps.push(robotsTxtStep);
  if (cfg.rateLimit) hostSteps.push(hd.deps.createRateLimitStep(`host:${cfg.name}`, cfg.rateLimit));

  // Routes sorted longest prefix first: the first match is the most specific one.
  const routes: CompiledRoute[] = [];
  const host: CompiledHost = {
    name: cfg.name,
    tls: cfg.tls.kind,
    httpHeaders: plans.http,
    httpsHeaders: plans.https,
    errorPages,
    unrouted: compileUnroutedReply(hostAccess, cfg.noindex),
    matchRoute(path) {
      for (const r of routes) if (prefixMatches(r.path, path)) return r;
      return undefined;
    },
  };
  const authStep = cfg.basicAuth ? hd.deps.createBasicAuthStep(cfg.basicAuth) : undefined;
  const bodyStep = cfg.maxBodySize !== undefined ? bodyLimitStep(cfg.maxBodySize, hd.shared) : undefined;
  // The Basic credentials are Portico's to check; `forwardAuthorization: false` keeps them from the upstream.
  const dropRequestHeaders = cfg.basicAuth?.forwardAuthorization === false ? DROP_AUTHORIZATION : NO_HEADERS;
  const hostParts: HostParts = { plans, errorPages, maxBodySize: cfg.maxBodySize, dropRequestHeaders };
  for (const rc of cfg.routes) {
    // Access control first (SPEC §4): before rate limits, Basic Auth and the upstream.
    const steps = rc.access ? [accessStep(rc.access), ...hostSteps] : [...hostSteps];
    if (rc.rateLimit) steps.push(hd.deps.createRateLimitStep(`route:${cfg.name}:${rc.path}`, rc.rateLimit));
    if (authStep) steps.push(authStep);
    if (bodyStep) steps.push(bodyStep);
    const action = compileAction(rc, hd, hostParts);
    routes.push(Object.freeze({ path: rc.path, steps: steps.length === 0 ? NO_STEPS : Object.freeze(steps), action, errorPages }));
  }
  routes.sort((a, b) => b.path.length - a.path.length);
  return Object.freeze(host);
}

const NO_STEPS: readonly Step[] = Object.freeze([]);
const NO_HEADERS: readonly string[] = Object.freeze([]);
const DROP_AUTHORIZATION: readonly string[] = Object.freeze(['authorization']);

function bodyLimitStep(maxBytes: number, shared: Shared): Step {
  let step = shared.bodySteps.get(maxBytes);
  if (!step) shared.bodySteps.set(maxBytes, (step = createBodyLimitStep(maxBytes)));
  return step;
}

/** What a host's routes share, for binding into their actions. */
interface HostParts {
  readonly plans: SchemePlans;
  readonly errorPages: ErrorPageTable | undefined;
  readonly maxBodySize: number | undefined;
  readonly dropRequestHeaders: readonly string[];
}

function compileAction(rc: RouteConfig, hd: HostDeps, host: HostParts): Action {
  const { plans, errorPages } = host;
  switch (rc.action.kind) {
    case 'respond':
    case 'redirect':
      return createLocalReplyAction(rc.action, plans, errorPages);
    case 'proxy': {
      // Without error pages, one ProxyUpstream per pool; a host's own error pages make its own.
      let upstream = errorPages ? undefined : hd.shared.proxyUpstreams.get(rc.action.upstream);
      if (!upstream) {
        const pool = hd.pools.get(rc.action.upstream);
        if (!pool) throw new Error(`upstream "${rc.action.upstream}" missing after validation`);
        upstream = createProxyUpstream(hd.deps.engine, pool, hd.clientIp, errorPages);
        if (!errorPages) hd.shared.proxyUpstreams.set(rc.action.upstream, upstream);
      }
      const { maxBodySize, dropRequestHeaders } = host;
      return createProxyAction(upstream, { rewriteUrl: compileRewrite(rc), maxBodySize, dropRequestHeaders, plans, compress: rc.compress });
    }
  }
}

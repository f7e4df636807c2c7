import type { AccessConfig, BasicAuthConfig, Config, HostConfig, RateLimitConfig, RouteConfig } from '../config/config-types.js';
import { createProxyAction } from '../pipeline/actions/proxy-action.js';
import { createLocalReplyAction } from '../pipeline/actions/local-reply-action.js';
import { compileErrorPages, type ErrorPageTable } from '../pipeline/error-pages.js';
import { compileHeaderPlan, SECURITY_HEADER_DEFAULTS } from '../pipeline/header-plan.js';
import type { LocalReply, Step } from '../pipeline/step.js';
import { createAccessControlStep } from '../pipeline/steps/access-control.js';
import { createBodyLimitStep } from '../pipeline/steps/body-limit.js';
import { robotsTxtStep } from '../pipeline/steps/robots-txt.js';
import type { ProxyEngine } from '../proxy/proxy-engine.js';
import { compileClientIpResolver, type ClientIpResolver } from '../server/client-ip.js';
import type { TargetRegistry } from '../upstreams/target-registry.js';
import type { TargetState } from '../upstreams/target-state.js';
import { UpstreamPool } from '../upstreams/upstream-pool.js';
import { HostIndex } from './host-index.js';
import { prefixMatches, replacePrefix } from './path-match.js';
import type { Action, CompiledHost, CompiledRoute, RouteTable } from './route-table.js';

/** The long-lived parts a table is compiled against; they outlive any one config. */
export interface CompileDeps {
  readonly engine: ProxyEngine;
  readonly targets: TargetRegistry;
  createRateLimitStep(scope: string, limit: RateLimitConfig): Step;
  createBasicAuthStep(config: BasicAuthConfig): Step;
}

const HSTS = 'max-age=31536000';

/**
 * Builds the immutable RouteTable for a config: host index, per-route step lists, actions,
 * header plans and upstream pools. Everything the request path needs is computed here, once.
 * Returns the table and the target states it uses, so the caller can retire the others.
 */
export function compileRouteTable(config: Config, deps: CompileDeps, version: number): { table: RouteTable; targets: Set<TargetState> } {
  const clientIp = compileClientIpResolver(config.trustedProxies);
  const pools = new Map<string, UpstreamPool>();
  const used = new Set<TargetState>();
  for (const [name, up] of config.upstreams) {
    const states = deps.targets.acquire(up);
    states.forEach((s) => used.add(s));
    pools.set(name, new UpstreamPool(up, states));
  }

  const index = new HostIndex<CompiledHost>();
  for (const hostConfig of config.hosts) {
    const host = compileHost(hostConfig, { deps, pools, clientIp });
    index.add(hostConfig.name, host);
    for (const alias of hostConfig.aliases) index.add(alias, host);
  }

  const table: RouteTable = Object.freeze({
    version,
    config,
    clientIp,
    pools,
    errorPages: compileErrorPages(config.errorPages),
    lookupHost: (name: string) => index.lookup(name),
  });
  return { table, targets: used };
}

interface HostDeps {
  readonly deps: CompileDeps;
  readonly pools: ReadonlyMap<string, UpstreamPool>;
  readonly clientIp: ClientIpResolver;
}

function compileHost(cfg: HostConfig, hd: HostDeps): CompiledHost {
  const overrides: Record<string, string | null> = { ...cfg.headers };
  if (cfg.noindex) overrides['X-Robots-Tag'] = 'noindex, nofollow';
  const httpHeaders = compileHeaderPlan(SECURITY_HEADER_DEFAULTS, overrides);
  const strictTransport = cfg.tls.kind === 'acme' || cfg.tls.kind === 'file';
  const httpsHeaders = strictTransport
    ? compileHeaderPlan({ ...SECURITY_HEADER_DEFAULTS, 'strict-transport-security': HSTS }, overrides)
    : httpHeaders;

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
    config: cfg,
    tls: cfg.tls.kind,
    httpHeaders,
    httpsHeaders,
    errorPages,
    // Access steps are synchronous (a memoised lookup), so the reply is there at once.
    refuse: hostAccess ? (ctx) => hostAccess(ctx) as LocalReply | undefined : undefined,
    matchRoute(path) {
      for (const r of routes) if (prefixMatches(r.path, path)) return r;
      return undefined;
    },
  };
  const authStep = cfg.basicAuth ? hd.deps.createBasicAuthStep(cfg.basicAuth) : undefined;
  const bodyStep = cfg.maxBodySize !== undefined ? createBodyLimitStep(cfg.maxBodySize) : undefined;
  // The Basic credentials are Portico's to check; `forwardAuthorization: false` keeps them from the upstream.
  const dropRequestHeaders = Object.freeze(cfg.basicAuth?.forwardAuthorization === false ? ['authorization'] : []);
  for (const rc of cfg.routes) {
    // Access control first (SPEC §4): before rate limits, Basic Auth and the upstream.
    const steps = rc.access ? [accessStep(rc.access), ...hostSteps] : [...hostSteps];
    if (rc.rateLimit) steps.push(hd.deps.createRateLimitStep(`route:${cfg.name}:${rc.path}`, rc.rateLimit));
    if (authStep) steps.push(authStep);
    if (bodyStep) steps.push(bodyStep);
    routes.push(
      Object.freeze({
        path: rc.path,
        host,
        steps: Object.freeze(steps),
        action: compileAction(rc, hd, errorPages),
        rewriteUrl: compileRewrite(rc),
        maxBodySize: cfg.maxBodySize,
        dropRequestHeaders,
        httpHeaders,
        httpsHeaders,
        compress: rc.compress,
        errorPages,
      }),
    );
  }
  routes.sort((a, b) => b.path.length - a.path.length);
  return Object.freeze(host);
}

function compileAction(rc: RouteConfig, hd: HostDeps, errorPages: ErrorPageTable | undefined): Action {
  switch (rc.action.kind) {
    case 'respond':
    case 'redirect':
      return createLocalReplyAction(rc.action, errorPages);
    case 'proxy': {
      const pool = hd.pools.get(rc.action.upstream);
      if (!pool) throw new Error(`upstream "${rc.action.upstream}" missing after validation`);
      return createProxyAction(hd.deps.engine, pool, hd.clientIp, errorPages);
    }
  }
}

function compileRewrite(rc: RouteConfig): ((url: string, matchPath: string) => string) | undefined {
  const segments = rc.path === '/' ? 0 : rc.path.split('/').length - 1;
  if (rc.rewrite !== undefined) {
    const replacement = rc.rewrite.replace(/\/+$/, '');
    return (url, matchPath) => replacePrefix(url, segments, replacement, matchPath);
  }
  if (rc.stripPrefix && segments > 0) return (url, matchPath) => replacePrefix(url, segments, '', matchPath);
  return undefined;
}


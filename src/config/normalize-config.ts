import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type {
  AccessConfig,
  Config,
  ErrorPage,
  ErrorPagesConfig,
  HostConfig,
  ListenAddress,
  RouteAction,
  RouteConfig,
  TlsConfig,
  TlsMode,
  UpstreamConfig,
} from './config-types.js';
import { checkHostName, checkReadable, isCidr, isLoopback, isToken, listenAddress, normalizePrefix, rateLimit, type Report } from './config-values.js';
import { normalizeTls } from './normalize-tls.js';
import { normalizeUpstream } from './normalize-upstream.js';
import { parseTarget, targetProblem } from './parse-target.js';
import type { RawErrorPages, RawHost, RawRoute, RoutesFile } from './schema.js';
import { parseSize } from './units.js';

/** A semantic problem, located by JSON path; load-config turns it into FILE:LINE:COL. */
export interface SemanticIssue {
  readonly path: readonly string[];
  readonly target: 'key' | 'value';
  readonly message: string;
}


/**
 * Checks what the schema cannot (references, duplicates, ACME rules, readable files) and, in the
 * same pass, resolves units, defaults and paths into a `Config`. One pass keeps the two in step:
 * every value the runtime reads has been checked exactly where it was converted.
 */
export function normalizeConfig(file: string, raw: RoutesFile): { config: Config; issues: SemanticIssue[] } {
  const issues: SemanticIssue[] = [];
  const baseDir = dirname(resolve(file));
  const issue = (path: readonly string[], message: string, target: 'key' | 'value' = 'value') =>
    issues.push({ path, target, message });

  const listen = {
    http: listenAddress(raw.listen?.http ?? 80, ['listen', 'http'], issue),
    https: listenAddress(raw.listen?.https ?? 443, ['listen', 'https'], issue),
  };
  let admin: ListenAddress | undefined;
  if (raw.admin !== undefined) {
    admin = listenAddress(raw.admin, ['admin'], issue, '127.0.0.1');
    if (admin.host !== undefined && !isLoopback(admin.host)) {
      issue(['admin'], `admin must listen on a loopback address (127.0.0.1, ::1 or localhost), not "${admin.host}"`);
    }
  }

  const tls = normalizeTls(raw, baseDir, issue);
  const trustedProxies = (raw.trustedProxies ?? []).map((cidr, i) => {
    if (!isCidr(cidr)) issue(['trustedProxies', String(i)], `invalid address or CIDR "${cidr}"`);
    return cidr;
  });

  const upstreams = new Map<string, UpstreamConfig>();
  for (const [name, up] of Object.entries(raw.upstreams ?? {})) {
    upstreams.set(name, normalizeUpstream(name, up, ['upstreams', name], issue));
  }

  const errorPages = readErrorPages(raw.errorPages, ['errorPages'], baseDir, issue);
  const seenNames = new Map<string, string>();
  const hosts: HostConfig[] = [];
  for (const [rawName, host] of Object.entries(raw.hosts ?? {})) {
    const path = ['hosts', rawName];
    const name = checkHostName(rawName, path, 'key', seenNames, issue);
    const aliases = (host.aliases ?? []).map((a, i) =>
      checkHostName(a, [...path, 'aliases', String(i)], 'value', seenNames, issue, rawName),
    );
    hosts.push(normalizeHost(name, aliases, host, path, { baseDir, tls, upstreams, issue, errorPages }));
  }

  const config: Config = {
    file,
    listen,
    admin,
    tls,
    redis: raw.redis ? { url: raw.redis.url, prefix: raw.redis.prefix ?? 'portico:' } : undefined,
    trustedProxies,
    log: { level: raw.log?.level ?? 'info', access: raw.log?.access ?? true },
    workers: raw.workers === 'auto' ? availableParallelism() : (raw.workers ?? 1),
    upstreams,
    errorPages,
    hosts,
  };
  return { config, issues };
}


interface HostContext {
  readonly baseDir: string;
  readonly tls: TlsConfig;
  readonly upstreams: Map<string, UpstreamConfig>;
  readonly issue: Report;
  /** Top-level error pages, which the host's own override per status. */
  readonly errorPages: ErrorPagesConfig;
}

/** What a route takes from its host unless it sets its own. */
interface RouteDefaults {
  readonly compress: boolean;
  readonly access: AccessConfig | undefined;
}

function normalizeHost(name: string, aliases: string[], host: RawHost, path: string[], ctx: HostContext): HostConfig {
  const isWildcard = name.startsWith('*');
  let tlsMode: TlsMode;
  const rawTls = host.tls;
  if (rawTls === undefined) {
    tlsMode = ctx.tls.acme && !isWildcard && !aliases.some((a) => a.startsWith('*')) ? { kind: 'acme' } : { kind: 'self-signed' };
  } else if (typeof rawTls === 'string') {
    tlsMode = { kind: rawTls };
    if (rawTls === 'acme' && !ctx.tls.acme) ctx.issue([...path, 'tls'], '"tls: acme" needs a "tls.acme" section (email, directory)');
    if (rawTls === 'acme' && (isWildcard || aliases.some((a) => a.startsWith('*')))) {
      ctx.issue([...path, 'tls'], 'ACME HTTP-01 cannot validate wildcard names; use self-signed or { cert, key } files');
    }
  } else {
    const certFile = resolve(ctx.baseDir, rawTls.cert);
    const keyFile = resolve(ctx.baseDir, rawTls.key);
    checkReadable(certFile, [...path, 'tls', 'cert'], ctx.issue);
    checkReadable(keyFile, [...path, 'tls', 'key'], ctx.issue);
    tlsMode = { kind: 'file', certFile, keyFile };
  }

  const headers: Record<string, string | null> = {};
  for (const [h, v] of Object.entries(host.headers ?? {})) {
    if (!isToken(h)) ctx.issue([...path, 'headers', h], `invalid header name "${h}"`, 'key');
    else if (v !== null && /[\r\n\0]/.test(v)) ctx.issue([...path, 'headers', h], 'header value must not contain line breaks');
    headers[h] = v;
  }

  let maxBodySize: number | undefined;
  if (host.maxBodySize !== undefined) {
    maxBodySize = parseSize(host.maxBodySize);
    if (maxBodySize === undefined) ctx.issue([...path, 'maxBodySize'], `invalid size ${JSON.stringify(host.maxBodySize)}`);
  }

  const access = accessLists(host, path, ctx.issue);
  const defaults: RouteDefaults = { compress: host.compress ?? false, access };
  const seenPaths = new Set<string>();
  const routes = (host.routes ?? []).map((r, i) => {
    const route = normalizeRoute(r, [...path, 'routes', String(i)], ctx, defaults);
    if (seenPaths.has(route.path)) ctx.issue([...path, 'routes', String(i), 'path'], `duplicate route path "${route.path}" on this host`);
    seenPaths.add(route.path);
    return route;
  });

  return {
    name,
    aliases,
    tls: tlsMode,
    headers,
    rateLimit: host.rateLimit ? rateLimit(host.rateLimit, [...path, 'rateLimit'], ctx.issue) : undefined,
    maxBodySize,
    basicAuth: host.basicAuth
      ? { realm: host.basicAuth.realm ?? 'Restricted', users: { ...host.basicAuth.users }, forwardAuthorization: host.basicAuth.forwardAuthorization ?? true }
      : undefined,
    noindex: host.noindex ?? false,
    access,
    errorPages: { ...ctx.errorPages, ...readErrorPages(host.errorPages, [...path, 'errorPages'], ctx.baseDir, ctx.issue) },
    routes,
  };
}

/**
 * `allow` / `deny` of a host or route, each entry checked. Either list present makes a set of
 * rules; as with nginx's allow/deny, a route that has rules of its own does not inherit its
 * host's (SPEC §4: a route's lists replace its host's).
 */
function accessLists(raw: { allow?: string[]; deny?: string[] }, path: string[], issue: Report): AccessConfig | undefined {
  if (raw.allow === undefined && raw.deny === undefined) return undefined;
  // Not an array only when the schema already said so (this pass also runs to find more issues).
  const check = (key: 'allow' | 'deny') => {
    const list = raw[key];
    if (!Array.isArray(list)) return undefined;
    return list.map((entry, i) => {
      if (!isCidr(String(entry))) issue([...path, key, String(i)], `invalid address or CIDR "${entry}"`);
      return entry;
    });
  };
  return { allow: check('allow'), deny: check('deny') ?? [] };
}

/** Reads each page now, so a missing file is a config error and not a broken reply later. */
function readErrorPages(raw: RawErrorPages | undefined, path: string[], baseDir: string, issue: Report): ErrorPagesConfig {
  const pages: Record<string, ErrorPage> = {};
  for (const [status, name] of Object.entries(raw ?? {})) {
    if (typeof name !== 'string') continue; // the schema reports it
    const file = resolve(baseDir, name);
    try {
      pages[status] = { file, html: readFileSync(file, 'utf8') };
    } catch (err) {
      issue([...path, status], `cannot read error page "${file}" (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return pages;
}

function normalizeRoute(r: RawRoute, path: string[], ctx: HostContext, defaults: RouteDefaults): RouteConfig {
  const actions = (['upstream', 'respond', 'redirect'] as const).filter((k) => r[k] !== undefined);
  if (actions.length > 1) {
    ctx.issue([...path, actions[1]!], `route has both "${actions[0]}" and "${actions[1]}"; keep one`, 'key');
  }
  if (r.rewrite !== undefined && r.stripPrefix) {
    ctx.issue([...path, 'rewrite'], '"rewrite" and "stripPrefix" exclude each other; keep one', 'key');
  }
  let action: RouteAction;
  if (r.respond) {
    action = { kind: 'respond', status: r.respond.status ?? 200, body: r.respond.body ?? '', headers: { ...(r.respond.headers ?? {}) } };
  } else if (r.redirect) {
    if (/[\r\n\0]/.test(r.redirect.to)) ctx.issue([...path, 'redirect', 'to'], 'redirect target must not contain line breaks');
    action = { kind: 'redirect', to: r.redirect.to, status: r.redirect.status ?? 308 };
  } else if (r.upstream !== undefined) {
    action = { kind: 'proxy', upstream: resolveUpstreamRef(r.upstream, [...path, 'upstream'], ctx) };
  } else {
    ctx.issue(path, 'route needs one action: "upstream", "respond" or "redirect"', 'key');
    action = { kind: 'respond', status: 404, body: '', headers: {} };
  }
  return {
    path: normalizePrefix(r.path ?? '/'),
    stripPrefix: r.stripPrefix ?? false,
    rewrite: r.rewrite,
    rateLimit: r.rateLimit ? rateLimit(r.rateLimit, [...path, 'rateLimit'], ctx.issue) : undefined,
    action,
    compress: r.compress ?? defaults.compress,
    access: accessLists(r, path, ctx.issue) ?? defaults.access,
  };
}

/** A named upstream, or inline targets turned into a synthetic upstream shared by equal lists. */
function resolveUpstreamRef(ref: string | string[], path: string[], ctx: HostContext): string {
  if (typeof ref === 'string' && ctx.upstreams.has(ref)) return ref;
  const list = typeof ref === 'string' ? [ref] : ref;
  if (typeof ref === 'string' && parseTarget(ref) === undefined) {
    // "127.0.0.1:99999" is a target written wrong, not a name: say what is wrong with it.
    const problem = targetProblem(ref);
    ctx.issue(path, problem ? `invalid target "${ref}": ${problem}` : `undefined upstream "${ref}" (not under "upstreams:" and not host:port or a URL)`);
    return ref;
  }
  const name = `inline:${list.join(',')}`;
  if (!ctx.upstreams.has(name)) {
    // A bad entry of an inline list is reported at that entry, not at the whole list.
    const at = typeof ref === 'string' ? () => path : (i: number) => [...path, String(i)];
    ctx.upstreams.set(name, normalizeUpstream(name, { targets: list }, path, ctx.issue, at));
  }
  return name;
}



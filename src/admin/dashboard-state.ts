import type { Config, HostConfig, RouteAction } from '../config/config-types.js';
import type { CertificateStatus } from '../tls/certificate-manager-types.js';
import type { DashboardState, DashboardTarget, HostRow, Page } from './dashboard/dashboard-types.js';
import type { ReloadEntry } from './reload-history.js';
import type { TrafficHistory } from './traffic-history.js';

/** Where the dashboard's data comes from: the same sources as /config, /upstreams and /metrics. */
export interface DashboardSources {
  config(): Config;
  /** The body of GET /upstreams. */
  upstreams(): Readonly<Record<string, { readonly targets: readonly DashboardTarget[] }>>;
  certificates(): readonly CertificateStatus[];
  reloads(): readonly ReloadEntry[];
  /** Rate-limited requests by scope (`host:NAME`, `route:…`), rejected credentials, and checks refused while bcrypt was saturated. */
  refusals(): Promise<{ readonly rateLimited: ReadonlyMap<string, number>; readonly authRefused: number; readonly authBusy: number }>;
  readonly traffic: TrafficHistory;
}

const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 200;

/**
 * The body of `GET /dashboard.json`, built when asked. `q` filters hosts (name or alias),
 * upstreams (name or target) and certificates (host) by substring; `page`, `upage` and `cpage`
 * pick a page of each; `sort=traffic` orders hosts by requests per second. Only fields that
 * are safe to show are picked from the config: no password hash, no respond body, no header.
 */
export async function buildDashboardState(sources: DashboardSources, query: URLSearchParams): Promise<DashboardState> {
  const config = sources.config();
  const q = (query.get('q') ?? '').trim().toLowerCase();
  const size = clamp(Number(query.get('size') ?? DEFAULT_PAGE_SIZE), 1, MAX_PAGE_SIZE);
  const look = sources.traffic.look();
  const upstreams = sources.upstreams();

  let matching = config.hosts.filter((h) => !q || h.name.includes(q) || h.aliases.some((a) => a.includes(q)));
  if (query.get('sort') === 'traffic') {
    const rps = new Map(matching.map((h) => [h.name, look.rps(h.name) ?? 0]));
    matching = matching.slice().sort((a, b) => rps.get(b.name)! - rps.get(a.name)!);
  }
  const hosts = page(matching, query.get('page'), size);

  const upstreamRows = Object.entries(upstreams)
    .filter(([name, u]) => !q || name.toLowerCase().includes(q) || u.targets.some((t) => t.url.includes(q)))
    .map(([name, u]) => ({ name, balance: config.upstreams.get(name)?.balance ?? null, healthCheck: config.upstreams.get(name)?.healthCheck?.path ?? null, targets: u.targets }));

  const certRows = sources
    .certificates()
    .filter((c) => !q || c.host.includes(q))
    .map((c) => ({ host: c.host, source: c.source, temporary: c.temporary, issuer: c.issuer, notAfter: c.notAfter.toISOString(), daysLeft: c.daysLeft }))
    .sort((a, b) => a.daysLeft - b.daysLeft); // the ones that need attention first

  const targets = Object.values(upstreams).flatMap((u) => u.targets);
  const refusals = await sources.refusals();
  return {
    now: look.at,
    since: look.since,
    summary: {
      hosts: config.hosts.length,
      routes: config.hosts.reduce((n, h) => n + h.routes.length, 0),
      upstreams: Object.keys(upstreams).length,
      targets: { total: targets.length, healthy: targets.filter((t) => t.healthy).length },
      rps: look.totalRps(),
      rateLimited: [...refusals.rateLimited.values()].reduce((a, b) => a + b, 0),
      authRefused: refusals.authRefused,
      authBusy: refusals.authBusy,
    },
    hosts: { ...hosts, items: hosts.items.map((h): HostRow => ({ ...hostView(h), ...look.traffic(h.name) })) },
    upstreams: page(upstreamRows, query.get('upage'), size),
    certificates: page(certRows, query.get('cpage'), size),
    rateLimited: [...refusals.rateLimited].map(([scope, count]) => ({ scope, count })).sort((a, b) => b.count - a.count).slice(0, 10),
    reloads: sources.reloads().slice(0, 10),
  };
}

function hostView(h: HostConfig): Omit<HostRow, 'rps' | 'series' | 'classes' | 'total'> {
  return {
    name: h.name,
    aliases: h.aliases,
    tls: h.tls.kind,
    auth: h.basicAuth !== undefined,
    noindex: h.noindex,
    rateLimit: h.rateLimit !== undefined || h.routes.some((r) => r.rateLimit !== undefined),
    routes: h.routes.map((r) => ({ path: r.path, action: describeAction(r.action) })),
  };
}

function describeAction(a: RouteAction): string {
  if (a.kind === 'proxy') return `→ ${a.upstream}`;
  if (a.kind === 'redirect') return `${a.status} → ${a.to}`;
  return `respond ${a.status}`;
}

function page<T>(items: readonly T[], requested: string | null, size: number): Page<T> {
  const last = Math.max(0, Math.ceil(items.length / size) - 1);
  const p = clamp(Number(requested ?? 0), 0, last);
  return { total: items.length, page: p, pageSize: size, items: items.slice(p * size, (p + 1) * size) };
}

function clamp(n: number, min: number, max: number): number {
  return Number.isFinite(n) ? Math.min(max, Math.max(min, Math.floor(n))) : min;
}

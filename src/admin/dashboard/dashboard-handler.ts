import type { ServerResponse } from 'node:http';
import { buildDashboardState, type DashboardSources } from '../dashboard-state.js';
import type { Registry } from 'prom-client';
import { TrafficHistory } from '../traffic-history.js';
import { DASHBOARD_ASSETS, DASHBOARD_CSP } from './dashboard-page.js';

/** What the dashboard reads, besides the metrics it derives rates from. */
export type DashboardBackend = Omit<DashboardSources, 'traffic' | 'refusals'> & {
  registry(): Registry | Promise<Registry>;
  requestCounts(): ReadonlyMap<string, readonly number[]>;
};

/**
 * Serves the dashboard (SPEC §4 Dashboard): `GET /` and its files, and `GET /dashboard.json`,
 * the state the page polls. Returns false for any other path. Everything is computed when
 * asked, from the counters and registries the gateway keeps anyway.
 */
export function createDashboardHandler(backend: DashboardBackend): (path: string, query: URLSearchParams, res: ServerResponse) => Promise<boolean> {
  const sources: DashboardSources = {
    config: () => backend.config(),
    upstreams: () => backend.upstreams(),
    certificates: () => backend.certificates(),
    reloads: () => backend.reloads(),
    refusals: async () => {
      const registry = await backend.registry();
      const values = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values ?? [];
      const limited = await values('portico_rate_limited_total');
      return {
        rateLimited: new Map(limited.map((v) => [String(v.labels.scope), v.value])),
        authRefused: (await values('portico_auth_failures_total')).reduce((n, v) => n + v.value, 0),
        authBusy: (await values('portico_auth_bcrypt_rejected_total')).reduce((n, v) => n + v.value, 0),
      };
    },
    traffic: new TrafficHistory(() => backend.requestCounts()),
  };
  return async (path, query, res) => {
    if (path === '/dashboard.json') {
      const body = `${JSON.stringify(await buildDashboardState(sources, query))}\n`;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      res.end(body);
      return true;
    }
    const asset = DASHBOARD_ASSETS.get(path);
    if (!asset) return false;
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': Buffer.byteLength(asset.body),
      'cache-control': 'no-store',
      'content-security-policy': DASHBOARD_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(asset.body);
    return true;
  };
}

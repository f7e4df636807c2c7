import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Config } from '../config/config-types.js';
import { redactConfig } from '../config/redact-config.js';
import type { Logger } from '../observability/logger.js';
import type { ReloadResult } from '../reload/reloader.js';
import { adminRefusal } from './admin-guard.js';
import { createDashboardHandler } from './dashboard/dashboard-handler.js';
import type { Registry } from 'prom-client';
import type { Metrics } from './metrics.js';
import type { ReloadEntry } from './reload-history.js';
import { handleUpstreamsRequest, upstreamsView, type UpstreamsBackend } from './upstreams-api.js';
import type { CertificateStatus } from '../tls/certificate-manager-types.js';

/** What the admin API reads from and triggers in the gateway. */
export interface AdminBackend extends UpstreamsBackend {
  readonly metrics: Metrics;
  /** What /metrics exports: the process's registry, or a supervisor's sum over its workers. */
  registry(): Registry | Promise<Registry>;
  /** Requests per configured host by status class since start (the dashboard's rates). */
  requestCounts(): ReadonlyMap<string, readonly number[]>;
  config(): Config;
  reload(): Promise<ReloadResult>;
  /** Refreshes gauges that are read from other components (certificate expiry). */
  beforeMetrics?(): void;
  /** The TLS hosts' certificates, for the dashboard. */
  certificates?(): readonly CertificateStatus[];
  /** The last reloads, newest first, for the dashboard. */
  reloads?(): readonly ReloadEntry[];
}

/**
 * The admin listener: /healthz, /metrics, /reload, /config, /upstreams (with drain and enable),
 * and the dashboard (GET /, /dashboard.json). It binds only to the loopback address validated in
 * the config and carries none of the public security headers.
 */
export function createAdminServer(backend: AdminBackend, log: Logger): Server {
  const dashboard = createDashboardHandler({
    registry: () => backend.registry(),
    requestCounts: () => backend.requestCounts(),
    config: () => backend.config(),
    upstreams: () => upstreamsView(backend.targets()),
    certificates: () => backend.certificates?.() ?? [],
    reloads: () => backend.reloads?.() ?? [],
  });
  return createServer((req, res) => {
    handle(backend, dashboard, req, res, log).catch((err: unknown) => {
      log.error({ event: 'admin_error', err }, 'admin request failed');
      if (!res.headersSent) send(res, 500, 'internal error\n');
    });
  });
}

async function handle(backend: AdminBackend, dashboard: ReturnType<typeof createDashboardHandler>, req: IncomingMessage, res: ServerResponse, log: Logger): Promise<void> {
  const refusal = adminRefusal(req);
  if (refusal !== undefined) return send(res, 403, `forbidden: ${refusal}\n`);
  const [path = '/', query = ''] = (req.url ?? '/').split('?', 2);
  const method = req.method ?? 'GET';
  // A supervisor gathers its workers' numbers first (in-flight counts, metrics).
  if (path === '/metrics' || path === '/dashboard.json') await backend.refresh?.('all');
  else if (path.startsWith('/upstreams')) await backend.refresh?.('targets');
  if (method === 'GET' && (await dashboard(path, new URLSearchParams(query), res))) return;
  if (path.startsWith('/upstreams')) {
    const reply = await handleUpstreamsRequest(backend, req, path, new URLSearchParams(query), log);
    if (reply) return sendJson(res, reply.status, reply.body, reply.headers);
  }
  switch (`${method} ${path}`) {
    case 'GET /healthz':
    case 'HEAD /healthz':
      return send(res, 200, 'ok\n');
    case 'GET /metrics': {
      backend.beforeMetrics?.();
      const registry = await backend.registry();
      return send(res, 200, await registry.metrics(), registry.contentType);
    }
    case 'POST /reload': {
      const result = await backend.reload();
      if (result.ok) return sendJson(res, 200, { result: 'ok', version: result.version, unchanged: result.unchanged });
      return send(res, 400, `${result.message}\n`);
    }
    case 'GET /config':
      return sendJson(res, 200, redactConfig(backend.config()));
    default:
      return send(res, 404, 'not found\n');
  }
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', headers?: Readonly<Record<string, string>>): void {
  res.writeHead(status, { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers?: Readonly<Record<string, string>>): void {
  send(res, status, `${JSON.stringify(value, null, 2)}\n`, 'application/json', headers);
}

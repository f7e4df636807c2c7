import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { E2E_PREAMBLE, startOwnedPortico } from './helpers/portico-process.js';
import { startTraffic } from './helpers/traffic.js';

const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../examples/rolling-restart.sh');
const HOST = 'app.test';

/** An app instance that can be restarted on its port: it stops listening, then listens again. */
interface App {
  readonly port: number;
  hits: number;
  restarts: number;
  server: Server;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((done) => server.listen(port, '127.0.0.1', () => done((server.address() as AddressInfo).port)));
}

function appServer(app: { hits: number }, name: string): Server {
  return createServer((_req, res) => {
    app.hits++;
    res.end(name);
  });
}

async function startApp(name: string): Promise<App> {
  const app = { hits: 0, restarts: 0 } as App;
  app.server = appServer(app, name);
  return Object.assign(app, { port: await listen(app.server, 0) });
}

/**
 * Like `systemctl restart` of a service that is slow to start: the old process is gone
 * (connections cut) when it returns, and the new one listens only a second later.
 */
async function restart(app: App, name: string): Promise<() => Promise<void>> {
  app.server.closeAllConnections();
  await new Promise<void>((done) => app.server.close(() => done()));
  return async () => {
    await new Promise((r) => setTimeout(r, 1_000));
    app.server = appServer(app, name);
    await listen(app.server, app.port);
    app.restarts++;
  };
}

t.test('examples/rolling-restart.sh restarts each instance in turn with no failed request', async (t) => {
  const apps = { A: await startApp('A'), B: await startApp('B') };
  t.teardown(() => Object.values(apps).forEach((a) => { a.server.closeAllConnections(); a.server.close(); }));
  // The restart command of the script calls this (as it would call systemctl).
  const control = createServer((req, res) => {
    const port = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('port'));
    const [name, app] = Object.entries(apps).find(([, a]) => a.port === port) ?? [];
    if (!app || !name) return void res.writeHead(404).end();
    void restart(app, name).then((start) => {
      res.end('restarting\n');
      void start();
    });
  });
  const controlPort = await listen(control, 0);
  t.teardown(() => control.close());

  const portico = await startOwnedPortico(t, {
    config: `${E2E_PREAMBLE}upstreams:
  app:
    targets: ["127.0.0.1:${apps.A.port}", "127.0.0.1:${apps.B.port}"]
    healthCheck: { path: /, interval: 200ms, timeout: 1s, unhealthyAfter: 1, healthyAfter: 1 }
hosts:
  ${HOST}:
    tls: off
    routes: [{ upstream: app }]
`,
  });

  // POSTs: a request that fails to connect is not retried elsewhere, so enabling an instance
  // before it listens again would show as failures.
  const traffic = startTraffic({ port: portico.http, host: HOST, concurrency: 4, method: 'POST', body: 'order=1' });
  t.teardown(() => traffic.stop());

  const script = spawn('bash', [SCRIPT, '-a', `http://127.0.0.1:${portico.admin}`, '-w', '10s', '-t', '60', 'app', `curl -fsS -X POST "http://127.0.0.1:${controlPort}/restart?port=$PORT"`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  script.stdout.on('data', (c: Buffer) => (output += c.toString()));
  script.stderr.on('data', (c: Buffer) => (output += c.toString()));
  t.teardown(() => script.kill('SIGKILL'));
  const code = await new Promise<number | null>((done) => script.once('exit', done));
  t.equal(code, 0, `the script succeeds:\n${output}`);
  t.match(output, 'all targets of app restarted');

  t.same([apps.A.restarts, apps.B.restarts], [1, 1], 'each instance restarted once');
  await portico.waitForLog({ event: 'drain', target: `127.0.0.1:${apps.B.port}`, state: 'active' }); // logs come in batches
  const drains = portico.find({ event: 'drain' }).map((l) => `${String(l.target)} ${String(l.state)}`);
  t.same(drains, [`127.0.0.1:${apps.A.port} draining`, `127.0.0.1:${apps.A.port} active`, `127.0.0.1:${apps.B.port} draining`, `127.0.0.1:${apps.B.port} active`], 'one at a time, in order');
  const view = JSON.parse((await request(portico.admin, '/upstreams')).body) as { app: { targets: { state: string; healthy: boolean }[] } };
  t.same(view.app.targets.map((x) => [x.state, x.healthy]), [['active', true], ['active', true]], 'both back in service');

  const hits = [apps.A.hits, apps.B.hits];
  const mark = traffic.results.length;
  await eventually(() => traffic.results.length >= mark + 100, { within: 20_000 });
  t.ok(apps.A.hits > hits[0]! && apps.B.hits > hits[1]!, 'both instances take traffic again');
  const { total, failures } = await traffic.stop();
  t.ok(total > 100, `${total} requests during the rolling restart`);
  t.same(failures, [], 'no request failed');
});

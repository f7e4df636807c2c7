import t from 'tap';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '../helpers/eventually.js';
import { E2E_PREAMBLE, startOwnedPortico, type PorticoProcess } from './helpers/portico-process.js';
import { startTraffic } from './helpers/traffic.js';

/** An upstream whose `/live` answers `liveStatus`; every other path answers 200 with its name. */
interface Backend {
  readonly name: string;
  readonly url: string;
  liveStatus: number;
  /** Proxied (non-/live) requests received so far. */
  served: number;
  /** /live probes received so far. */
  probes: number;
  close(): Promise<void>;
}

async function startBackend(name: string): Promise<Backend> {
  const backend = { name, url: '', liveStatus: 200, served: 0, probes: 0, close: async () => {} };
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    if (req.url === '/live') {
      backend.probes++;
      res.writeHead(backend.liveStatus, { 'content-type': 'text/plain' }).end(`live ${backend.liveStatus}\n`);
      return;
    }
    backend.served++;
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`${name}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backend.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  backend.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return backend;
}

type UpstreamsView = Record<string, { targets: { url: string; healthy: boolean; inFlight: number }[] }>;

function adminUpstreams(portico: PorticoProcess): Promise<UpstreamsView> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: portico.admin, path: '/upstreams' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(JSON.parse(body) as UpstreamsView));
    }).on('error', reject).end();
  });
}

async function healthOf(portico: PorticoProcess, backend: Backend): Promise<boolean | undefined> {
  return (await adminUpstreams(portico)).api?.targets.find((x) => x.url === backend.url)?.healthy;
}

const config = (a: Backend, b: Backend, extra = '') => `${E2E_PREAMBLE}log: { level: info, access: false }
upstreams:
  api:
    targets: ["${a.url}", "${b.url}"]
    healthCheck: { path: /live, interval: 300ms, timeout: 1s, unhealthyAfter: 2, healthyAfter: 2 }
hosts:
  localhost:
    tls: off
    routes:${extra}
      - { path: /, upstream: api }
`;

t.test('active health checks decide under traffic: down, back up, carried over a reload', async (t) => {
  const a = await startBackend('a');
  t.teardown(() => a.close());
  const b = await startBackend('b');
  t.teardown(() => b.close());
  const portico = await startOwnedPortico(t, { config: config(a, b) });
  // A request every ~75 ms on each of two loops: B serves traffic all the time it is failing checks.
  const traffic = startTraffic({ port: portico.http, host: 'localhost', path: '/work', concurrency: 2, intervalMs: 75 });
  t.teardown(() => traffic.stop());
  /** Resolves once `n` more background requests have completed. */
  const moreRequests = (n: number) => {
    const target = traffic.results.length + n;
    return eventually(() => traffic.results.length >= target, { within: 20_000, message: `${n} more requests` });
  };

  await eventually(() => a.served > 0 && b.served > 0, { within: 10_000, message: 'both targets in rotation' });

  // Down: unhealthyAfter (2) failed checks take B out although every proxied request to it succeeds.
  b.liveStatus = 503;
  const failingSince = b.probes;
  await eventually(async () => (await healthOf(portico, b)) === false, { within: 10_000, message: 'B reported down by GET /upstreams' });
  t.ok(b.probes - failingSince >= 2, `down after ${b.probes - failingSince} failed checks (unhealthyAfter 2)`);
  await portico.waitForLog({ event: 'health', target: b.url, healthy: false });
  const servedWhenDown = b.served;
  await moreRequests(20);
  t.equal(b.served, servedWhenDown, 'no request reaches B while it is down');
  t.equal(await healthOf(portico, a), true, 'A stays up');

  // Up again after healthyAfter (2) passed checks.
  b.liveStatus = 200;
  await eventually(async () => (await healthOf(portico, b)) === true, { within: 10_000, message: 'B reported up again' });
  await portico.waitForLog({ event: 'health', target: b.url, healthy: true });
  await eventually(() => b.served > servedWhenDown, { within: 10_000, message: 'B back in rotation' });

  // Carried over a reload: down before the file edit, still down right after it, no probe reset.
  b.liveStatus = 503;
  await eventually(async () => (await healthOf(portico, b)) === false, { within: 10_000, message: 'B down again' });
  // A target state that did not carry over would start healthy and take requests until two
  // checks failed again: B's count must not move from before the edit to well after it.
  const reloadsBefore = portico.find({ event: 'reload', result: 'ok' }).length;
  const servedBeforeReload = b.served;
  await portico.writeConfig(config(a, b, '\n      - { path: /maintenance, respond: { status: 503, body: "later\\n" } }'));
  await eventually(() => portico.find({ event: 'reload', result: 'ok' }).length > reloadsBefore, { within: 10_000, message: 'reload logged' });
  t.equal(await healthOf(portico, b), false, 'still down after the reload');
  await moreRequests(20);
  t.equal(b.served, servedBeforeReload, 'no request reached B across the reload');
  t.equal(portico.find({ event: 'health', target: b.url, healthy: true }).length, 1, 'no spurious "up" from the reload');

  const { total, failures } = await traffic.stop();
  t.ok(total > 60, `${total} background requests`);
  t.same(failures, [], 'zero failed client requests');
});

t.test('every target down: requests get 502 at once, not after a timeout', async (t) => {
  const a = await startBackend('a');
  t.teardown(() => a.close());
  const b = await startBackend('b');
  t.teardown(() => b.close());
  a.liveStatus = 500;
  b.liveStatus = 500;
  const portico = await startOwnedPortico(t, { config: config(a, b) });
  await eventually(async () => (await adminUpstreams(portico)).api?.targets.every((x) => !x.healthy), { within: 10_000, message: 'both down' });
  const traffic = startTraffic({ port: portico.http, host: 'localhost', path: '/x', concurrency: 1, ok: (s) => s === 502 });
  t.teardown(() => traffic.stop());
  const started = Date.now();
  await eventually(() => traffic.results.length >= 10, { within: 10_000, message: '10 answers' });
  const { failures, results } = await traffic.stop();
  t.same(failures, [], 'every request got 502');
  t.ok(Date.now() - started < 5_000, `10 answers in ${Date.now() - started} ms`);
  t.equal(a.served + b.served, 0, 'nothing was proxied');
  t.ok(results.length >= 10);
});

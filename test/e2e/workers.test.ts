import { Agent } from 'node:http';
import bcrypt from 'bcryptjs';
import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { request, type Reply } from '../helpers/http-request.js';
import { startRedis } from '../helpers/start-redis.js';
import { echoHandler, startUpstream, type Upstream } from '../helpers/start-upstream.js';
import { E2E_PREAMBLE, startOwnedPortico, type LogLine, type PorticoProcess } from './helpers/portico-process.js';
import { startTraffic } from './helpers/traffic.js';

// SPEC §4 Workers against the built CLI with `workers: 2`: the instance behaves as one process
// would. Requests go over fresh connections unless a test says otherwise, so node:cluster's
// round robin spreads them over both workers; the access lines' `worker` field shows where each
// was served.

const PASSWORD = 'open sesame';
const hash = await bcrypt.hash(PASSWORD, 4);
const BURST = 10;

/** Whether each app's health check passes (a test turns one off and on again). */
const healthy: Record<string, boolean> = { a: true, b: true };

/** 200 (or 500 when switched off) for /health, and `/slow` answers after 1.5 s (for the drain on SIGTERM). */
function app(name: string): Promise<Upstream> {
  const echo = echoHandler(name);
  return startUpstream((req, res) => {
    if (req.url === '/health') return void res.writeHead(healthy[name] ? 200 : 500).end('health');
    if (req.url === '/slow') return void setTimeout(() => res.end(`slow ${name}`), 1_500);
    echo(req, res);
  });
}

const a = await app('a');
const b = await app('b');
t.teardown(() => Promise.all([a.close(), b.close()]));

const config = (version: string, extra = '') => `${E2E_PREAMBLE}workers: 2
log: { level: info, access: true }
upstreams:
  pool:
    targets: [ "${a.url}", "${b.url}" ]
    healthCheck: { path: /health, interval: 1s }
hosts:
  app.test:
    tls: off
    routes:
      - { path: /version, respond: { status: 200, body: "${version}" } }
      - { upstream: pool }
  limited.test:
    tls: off
    rateLimit: { rate: 1/m, burst: ${BURST} }
    routes: [ { respond: { status: 200, body: "in" } } ]
  guarded.test:
    tls: off
    basicAuth: { realm: Guarded, users: { alice: "${hash}" } }
    routes: [ { respond: { status: 200, body: "inside" } } ]
${extra}`;

const portico = await startOwnedPortico(t, { config: config('v1') });
const get = (host: string, path = '/', opts: { agent?: Agent; headers?: Record<string, string> } = {}) =>
  request(portico.http, path, { headers: { host, ...opts.headers }, ...(opts.agent ? { agent: opts.agent } : {}) });
const admin = (path: string, method = 'GET') => request(portico.admin, path, { method, headers: { host: '127.0.0.1' } });
const statuses = (replies: readonly Reply[]) => {
  const count = new Map<number, number>();
  for (const r of replies) count.set(r.status, (count.get(r.status) ?? 0) + 1);
  return Object.fromEntries(count);
};
const workersOf = (p: PorticoProcess, host: string) => new Set(p.find((l) => l.event === 'access' && l.host === host).map((l) => l.worker));

t.test('two workers serve, each with its own pid, and every line says which one wrote it', async (t) => {
  // Each process writes its own lines (batched up to 1 s): the workers' may come after the supervisor's.
  await eventually(() => portico.find({ event: 'worker_listening' }).length === 2, { message: 'two worker_listening lines' });
  const listening = portico.find({ event: 'worker_listening' });
  t.equal(listening.length, 2, 'two workers listening');
  t.equal(new Set(listening.map((l) => l.pid)).size, 2, 'two processes');
  t.ok(!listening.some((l) => l.pid === portico.pid), 'neither is the supervisor');
  for (let i = 0; i < 20; i++) t.equal((await get('app.test')).status, 200);
  await eventually(() => workersOf(portico, 'app.test').size === 2, { message: 'access lines from both workers' });
  t.same([...workersOf(portico, 'app.test')].sort(), [1, 2], 'requests served by worker 1 and worker 2');
  t.same(portico.logs.filter((l) => l.worker === undefined), [], 'every log line has a worker field');
});

t.test('/metrics counts the requests of both workers', async (t) => {
  const before = portico.find({ event: 'access', host: 'app.test' }).length;
  for (let i = 0; i < 10; i++) await get('app.test');
  await eventually(() => portico.find({ event: 'access', host: 'app.test' }).length >= before + 10);
  const metrics = (await admin('/metrics')).body;
  const served = Number(/portico_requests_total\{host="app.test",class="2xx"\} (\d+)/.exec(metrics)?.[1]);
  t.equal(served, before + 10, `${served} requests counted: all of them, whichever worker served them`);
});

t.test(`a burst of ${BURST} admits exactly ${BURST} requests across workers (no Redis)`, async (t) => {
  const replies = await Promise.all(Array.from({ length: 40 }, () => get('limited.test')));
  t.same(statuses(replies), { 200: BURST, 429: 40 - BURST });
  await eventually(() => workersOf(portico, 'limited.test').size === 2, { message: 'both workers took part' });
});

t.test('a credential is checked by bcrypt once for the instance, not once per worker', async (t) => {
  const matches = async () => Number(/portico_auth_bcrypt_compares_total\{result="match"\} (\d+)/.exec((await admin('/metrics')).body)?.[1]);
  const before = await matches();
  const authorization = `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`;
  t.equal((await get('guarded.test', '/', { headers: { authorization } })).status, 200, 'the first request is verified');
  // Fresh connections: the round robin spreads them over both workers.
  const replies = await Promise.all(Array.from({ length: 20 }, () => get('guarded.test', '/', { headers: { authorization } })));
  t.same(statuses(replies), { 200: 20 });
  await eventually(() => workersOf(portico, 'guarded.test').size === 2, { message: 'both workers answered it' });
  t.equal((await matches()) - before, 1, 'one bcrypt comparison for 21 requests on two workers');
});

t.test('the auth-failure throttle counts one client across workers: 10 wrong passwords, then 429', async (t) => {
  // Each a different password: identical ones would join one running check (SPEC: one bcrypt run).
  const wrong = (i: number) => `Basic ${Buffer.from(`alice:wrong${i}`).toString('base64')}`;
  const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => get('guarded.test', '/', { headers: { authorization: wrong(i) } })));
  t.same(statuses(replies), { 401: 10, 429: 20 });
  const right = `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`;
  const blocked = await Promise.all(Array.from({ length: 4 }, () => get('guarded.test', '/', { headers: { authorization: right } })));
  t.same(statuses(blocked), { 429: 4 }, 'the client stays blocked on every worker, even with the right password');
});

t.test('health checks run once per target and interval, not once per worker', async (t) => {
  const count = () => a.requests.filter((r) => r.url === '/health').length;
  const from = count();
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  const probes = count() - from;
  t.ok(probes >= 4 && probes <= 7, `${probes} probes of target a in 6 s at a 1 s interval (two probing processes would send ~12)`);
});

t.test('a drain applies to every worker; enable brings the target back', async (t) => {
  const traffic = startTraffic({ port: portico.http, host: 'app.test', path: '/y', concurrency: 2, keepAlive: false });
  t.teardown(() => traffic.stop());
  await eventually(() => traffic.results.length > 5);
  const drain = await admin(`/upstreams/pool/targets/${b.target}/drain`, 'POST');
  t.equal(drain.status, 200);
  const replies = await Promise.all(Array.from({ length: 20 }, () => get('app.test', '/while-drained')));
  t.same(statuses(replies), { 200: 20 }, 'no request fails');
  t.equal(b.requests.filter((r) => r.url === '/while-drained').length, 0, 'none reached the drained target, whichever worker served it');
  const view = JSON.parse((await admin('/upstreams')).body) as { pool: { targets: Array<{ target: string; state: string }> } };
  t.match(view.pool.targets.find((x) => x.target === b.target)?.state, /^drain(ing|ed)$/, '/upstreams shows the drain');
  t.equal((await admin(`/upstreams/pool/targets/${b.target}/enable`, 'POST')).status, 200);
  await Promise.all(Array.from({ length: 20 }, () => get('app.test', '/enabled')));
  t.ok(b.requests.filter((r) => r.url === '/enabled').length > 0, 'traffic reaches it again');
  const { total, failures } = await traffic.stop();
  t.ok(total > 5, `${total} requests ran through the drain and the enable`);
  t.same(failures, [], 'none failed');
});

t.test('drain ?wait counts requests in flight on every worker: it answers drained once they finish', async (t) => {
  // Four slow requests over fresh connections: each worker gets two and sends one to each target.
  const slow = Promise.all(Array.from({ length: 4 }, () => get('app.test', '/slow')));
  await eventually(() => b.requests.filter((r) => r.url === '/slow').length >= 1, { message: 'a slow request on b' });
  const asked = Date.now();
  const before = JSON.parse((await admin(`/upstreams/pool/targets/${b.target}`)).body) as { inFlight: number };
  t.ok(before.inFlight >= 1, `/upstreams counts the workers' requests in flight to b (${before.inFlight})`);
  const drained = await admin(`/upstreams/pool/targets/${b.target}/drain?wait=10s`, 'POST');
  t.match(JSON.parse(drained.body), { state: 'drained', inFlight: 0 });
  t.ok(Date.now() - asked >= 500, `answered after the slow requests finished (${Date.now() - asked} ms)`);
  t.same(statuses(await slow), { 200: 4 }, 'the drained target finished its requests');
  t.equal((await admin(`/upstreams/pool/targets/${b.target}/enable`, 'POST')).status, 200);
});

t.test('a failing health check takes the target out on every worker, under traffic, and back in', async (t) => {
  const traffic = startTraffic({ port: portico.http, host: 'app.test', path: '/x', concurrency: 2, keepAlive: false });
  t.teardown(() => traffic.stop());
  const view = async () => (JSON.parse((await admin('/upstreams')).body) as { pool: { targets: Array<{ target: string; healthy: boolean }> } }).pool.targets.find((x) => x.target === b.target);
  healthy.b = false;
  await eventually(async () => (await view())?.healthy === false, { within: 10_000, message: 'b reported down' });
  const before = b.requests.filter((r) => r.url === '/x').length;
  const replies = await Promise.all(Array.from({ length: 20 }, () => get('app.test', '/x')));
  t.same(statuses(replies), { 200: 20 });
  t.equal(b.requests.filter((r) => r.url === '/x').length, before, 'no worker sends requests to the down target');
  healthy.b = true;
  await eventually(async () => (await view())?.healthy === true, { within: 10_000, message: 'b reported up' });
  await Promise.all(Array.from({ length: 20 }, () => get('app.test', '/x')));
  t.ok(b.requests.filter((r) => r.url === '/x').length > before, 'it gets traffic again');
  const { total, failures } = await traffic.stop();
  t.ok(total > 20, `${total} requests ran through the change`);
  t.same(failures, [], 'none failed');
  t.equal(portico.find((l) => l.event === 'health' && l.target === b.url && l.healthy === false).length, 1, 'the change is logged once, by the supervisor');
});

t.test('a reload is applied by every worker before POST /reload answers; an invalid one changes none', async (t) => {
  const traffic = startTraffic({ port: portico.http, host: 'app.test', path: '/x', concurrency: 2 });
  t.teardown(() => traffic.stop());
  // Six kept-alive connections, spread over both workers by the round robin.
  const agent = new Agent({ keepAlive: true, maxSockets: 6 });
  t.teardown(() => agent.destroy());
  const round = () => Promise.all(Array.from({ length: 6 }, () => get('app.test', '/version', { agent })));
  t.same((await round()).map((r) => r.body), Array(6).fill('v1'));
  await portico.writeConfig(config('v2'));
  const reload = await admin('/reload', 'POST');
  t.equal(reload.status, 200, reload.body);
  t.same((await round()).map((r) => r.body), Array(6).fill('v2'), 'every connection sees the new route as soon as the reload answers');

  await portico.writeConfig(`${config('v3')}  broken: [\n`);
  const rejected = await admin('/reload', 'POST');
  t.equal(rejected.status, 400, 'rejected');
  t.match(rejected.body, /routes\.yaml:\d+:\d+: /, 'with FILE:LINE:COL');
  t.same((await round()).map((r) => r.body), Array(6).fill('v2'), 'every worker keeps the running config');
  await portico.writeConfig(config('v2'));
  const { total, failures } = await traffic.stop();
  t.ok(total > 10, `${total} requests ran through both reloads`);
  t.same(failures, [], 'none failed');
});

// 600 more hosts make the file large enough (over 32 KB) to be parsed in the config thread,
// which hands back the very object of every unchanged host.
const manyHosts = Array.from({ length: 600 }, (_, i) => `  site-${i}.test:\n    tls: off\n    routes: [ { respond: { status: 200, body: "site ${i}" } } ]\n`).join('');
/**
 * Writes the config, reloads, and returns the log line of the reload that applied it (the
 * watcher's or the POST's: the dashboard's newest applied version says which).
 */
async function reloadTo(text: string): Promise<LogLine> {
  await portico.writeConfig(text);
  const answer = await admin('/reload', 'POST');
  if (answer.status !== 200) throw new Error(`reload failed: ${answer.body}`);
  const { reloads } = JSON.parse((await admin('/dashboard.json')).body) as { reloads: Array<{ version: number | null }> };
  const version = reloads.find((r) => r.version !== null)?.version;
  return portico.waitForLog((l) => l.event === 'reload' && l.result === 'ok' && l.version === version);
}

t.test('a reload of a large config sends and compiles only the hosts that changed, in every worker', async (t) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 6 });
  t.teardown(() => agent.destroy());
  const round = (host: string, path: string) => Promise.all(Array.from({ length: 6 }, () => get(host, path, { agent })));
  const added = await reloadTo(config('v3', manyHosts));
  t.equal(added.hostsCompiled, 603, 'the first large file: every host is new to the config thread');
  t.same((await round('site-599.test', '/')).map((r) => r.body), Array(6).fill('site 599'), 'the added hosts are served');
  // The edit runs under traffic to a kept host and to the edited one, over both workers.
  const traffic = [
    startTraffic({ port: portico.http, host: 'site-7.test', path: '/', concurrency: 2, keepAlive: false }),
    startTraffic({ port: portico.http, host: 'app.test', path: '/x', concurrency: 2 }),
  ];
  t.teardown(() => Promise.all(traffic.map((tr) => tr.stop())));
  await eventually(() => traffic.every((tr) => tr.results.length > 10));
  const edited = await reloadTo(config('v4', manyHosts));
  t.equal(edited.hostsCompiled, 1, 'one edited host: each worker compiled that host alone');
  const results = await Promise.all(traffic.map((tr) => tr.stop()));
  t.same(results.flatMap((r) => r.failures), [], `no request failed (${results.reduce((n, r) => n + r.total, 0)} sent through the reload)`);
  t.same((await round('app.test', '/version')).map((r) => r.body), Array(6).fill('v4'), 'every worker serves the edit');
  t.same((await round('site-7.test', '/')).map((r) => r.body), Array(6).fill('site 7'), 'and the hosts it kept');
  await eventually(() => workersOf(portico, 'site-7.test').size === 2, { message: 'both workers served the kept host' });
});

t.test('a killed worker is replaced within 1 s while the other keeps serving', async (t) => {
  const listening = portico.find({ event: 'worker_listening' });
  const victim = listening[0]!;
  // node:cluster's round robin can lose a connection it was handing to the worker at the moment
  // it died (the client then waits in vain: docs/operations.md); 5 s bounds that wait here.
  const traffic = startTraffic({ port: portico.http, host: 'app.test', path: '/x', concurrency: 2, keepAlive: false, timeoutMs: 5_000 });
  t.teardown(() => traffic.stop());
  await eventually(() => traffic.results.length > 20);
  const killedAt = Date.now();
  process.kill(Number(victim.pid), 'SIGKILL');
  const exit = await portico.waitForLog((l) => l.event === 'worker_exit' && l.worker === victim.worker, 5_000);
  t.match(exit, { level: 'error', signal: 'SIGKILL', restartInMs: 0 }, 'logged, and replaced at once');
  const started = await portico.waitForLog((l: LogLine) => l.event === 'worker_listening' && l.pid !== victim.pid && !listening.some((x) => x.pid === l.pid), 10_000);
  // The replacement is forked at once (restartInMs 0); it serves once Node and the config are
  // loaded: ~0.5 s on an idle 2-core machine, seconds when the machine is busy.
  const replacedIn = Date.parse(String(started.time)) - killedAt;
  t.ok(replacedIn < 5_000, `the replacement serves ${replacedIn} ms after the kill`);
  const afterKill = traffic.results.length;
  await eventually(() => traffic.results.length > afterKill + 40);
  const { failures } = await traffic.stop();
  // Only requests in flight on the killed worker at that moment can fail (one per loop at most).
  t.ok(failures.length <= 2, `${failures.length} failed request(s): at most the ones in flight on the killed worker`);
  for (let i = 0; i < 10; i++) t.equal((await get('app.test')).status, 200);
  await eventually(() => workersOf(portico, 'app.test').has(started.worker), { message: 'the new worker serves' });
  // The replacement started with the whole config; the next reload reaches it as a delta too.
  const edited = await reloadTo(config('v5', manyHosts));
  t.equal(edited.hostsCompiled, 1, 'one edited host, in the old worker and in the new one');
  const seen = await Promise.all(Array.from({ length: 10 }, () => get('app.test', '/version')));
  t.same(seen.map((r) => r.body), Array(10).fill('v5'), 'both serve the edit');
});

t.test('SIGTERM drains every worker: slow requests on both finish, then the instance exits 0', async (t) => {
  const slowSeen = () => a.requests.filter((r) => r.url === '/slow').length + b.requests.filter((r) => r.url === '/slow').length;
  const earlier = slowSeen();
  const slow = Promise.all(Array.from({ length: 4 }, () => get('app.test', '/slow')));
  await eventually(() => slowSeen() === earlier + 4);
  const stopping = portico.stop(15_000);
  const replies = await slow;
  t.same(statuses(replies), { 200: 4 }, 'every request in flight finished');
  const exit = await stopping;
  t.equal(exit.code, 0, 'exit 0');
  const drained = portico.find((l) => l.event === 'shutdown' && l.msg === 'stopped');
  t.equal(new Set(drained.map((l) => l.worker)).size, 3, 'both workers and the supervisor stopped cleanly');
});

t.test('with Redis, a burst is exact across workers too', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const p = await startOwnedPortico(t, {
    config: `${E2E_PREAMBLE}workers: 2
redis: { url: "${redis.url}", prefix: "workers:" }
log: { level: info, access: true }
hosts:
  limited.test:
    tls: off
    rateLimit: { rate: 1/m, burst: ${BURST} }
    routes: [ { respond: { status: 200, body: "in" } } ]
`,
  });
  const replies = await Promise.all(Array.from({ length: 40 }, () => request(p.http, '/', { headers: { host: 'limited.test' } })));
  t.same(statuses(replies), { 200: BURST, 429: 40 - BURST });
  await eventually(() => workersOf(p, 'limited.test').size === 2, { message: 'both workers took part' });
});

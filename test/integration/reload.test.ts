import { writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { PREAMBLE, startPortico, type Portico } from '../helpers/start-portico.js';
import { echoHandler, startUpstream, type Upstream } from '../helpers/start-upstream.js';
import { attachWsEcho, openSse, openWs, roundTrip, sseFeed } from '../helpers/streams.js';

// SPEC §3 Hot reload: file watch (in effect within 1 s of the write), POST /reload, invalid
// edits keep the old config with FILE:LINE:COL errors, counters, carried-over health state,
// and no failed request or dropped connection while reloading under load.

const PREAMBLE_LINES = PREAMBLE.split('\n').length - 1;

async function upstream(name: string): Promise<Upstream> {
  const u = await startUpstream(echoHandler(name));
  t.teardown(() => u.close());
  return u;
}

function respondHost(body: string): string {
  return `hosts:
  r.test:
    tls: off
    routes: [ { respond: { status: 200, body: "${body}" } } ]
`;
}

const get = (p: Portico, path = '/', host = 'r.test') => request(p.http, path, { headers: { host } });
const admin = (p: Portico, path: string, method = 'GET') => request(p.admin, path, { method, headers: { host: '127.0.0.1' } });

/** Current value of `portico_reloads_total{result}`. */
async function reloads(p: Portico, result: 'ok' | 'error'): Promise<number> {
  const m = new RegExp(`^portico_reloads_total\\{result="${result}"\\} (\\d+)`, 'm').exec((await admin(p, '/metrics')).body);
  return m ? Number(m[1]) : NaN;
}

/** Writes the file in place (no rename), for tests that trigger the reload themselves. */
const overwrite = (p: Portico, body: string) => writeFile(p.configFile, PREAMBLE + body);

t.test('a change to routes.yaml is in effect within one second of the write', async (t) => {
  const p = await startPortico(respondHost('v1'));
  t.teardown(() => p.close());
  t.equal((await get(p)).body, 'v1');
  for (const version of ['v2', 'v3']) {
    const written = Date.now();
    await p.writeConfig(respondHost(version));
    await eventually(async () => (await get(p)).body === version, { within: 3000 });
    const took = Date.now() - written;
    t.ok(took < 1000, `${version} served ${took} ms after the write`);
  }
  const ev = p.logs.find({ event: 'reload', result: 'ok' });
  t.match(ev, { trigger: 'watch', version: Number });
});

t.test('an invalid edit keeps the old routes and logs FILE:LINE:COL', async (t) => {
  const p = await startPortico(respondHost('good'));
  t.teardown(() => p.close());
  const errorsBefore = await reloads(p, 'error');
  // Line 4 of the body (after the preamble) has an unknown key at column 5.
  await p.writeConfig('hosts:\n  r.test:\n    tls: off\n    routez: []\n');
  const ev = await eventually(() => p.logs.find({ event: 'reload', result: 'error' }), { within: 3000 });
  t.equal(ev!.level, 'error');
  const errors = ev!.errors as string[];
  t.ok(errors.some((e) => e.startsWith(`${p.configFile}:${PREAMBLE_LINES + 4}:5: `)), `FILE:LINE:COL points at the typo: ${errors.join(' | ')}`);
  t.equal((await get(p)).body, 'good', 'the old configuration keeps serving');
  t.equal(await reloads(p, 'error'), errorsBefore + 1, 'portico_reloads_total{result="error"} counted it');
  await p.writeConfig(respondHost('fixed'));
  await eventually(async () => (await get(p)).body === 'fixed', { within: 3000 });
});

t.test('POST /reload: 200 when valid, 400 with FILE:LINE:COL lines when not; counters follow', async (t) => {
  const p = await startPortico(respondHost('one'), { watch: false });
  t.teardown(() => p.close());
  const ok0 = await reloads(p, 'ok');
  const err0 = await reloads(p, 'error');

  await overwrite(p, respondHost('two'));
  t.equal((await get(p)).body, 'one', 'without a watcher nothing changes by itself');
  const ok = await admin(p, '/reload', 'POST');
  t.equal(ok.status, 200);
  t.match(JSON.parse(ok.body), { result: 'ok', version: Number });
  t.equal((await get(p)).body, 'two', 'in effect when /reload answers');
  t.equal(await reloads(p, 'ok'), ok0 + 1);

  // Two problems: both are reported, each on its own FILE:LINE:COL line.
  await overwrite(p, 'hosts:\n  r.test:\n    tls: off\n    routes: [ { respond: { body: x } } ]\n    maxBodySize: lots\n    colour: blue\n');
  const bad = await admin(p, '/reload', 'POST');
  t.equal(bad.status, 400);
  const lines = bad.body.trim().split('\n');
  t.ok(lines.length >= 2, bad.body);
  for (const line of lines) t.match(line, new RegExp(`^${p.configFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: \\S`));
  t.ok(lines.some((l) => l.includes(`:${PREAMBLE_LINES + 5}:`)), 'the bad size is located');
  t.ok(lines.some((l) => l.includes(`:${PREAMBLE_LINES + 6}:5: `)), 'the unknown key is located');
  t.equal((await get(p)).body, 'two', 'the old configuration keeps serving');
  t.equal(await reloads(p, 'error'), err0 + 1);
  t.equal(await reloads(p, 'ok'), ok0 + 1);
});

t.test('health state of an unchanged upstream carries over a reload', async (t) => {
  const healthy = { ok: false };
  const sick = await startUpstream((req, res) => {
    if (req.url === '/live') res.writeHead(healthy.ok ? 200 : 503).end();
    else res.end('sick');
  });
  t.teardown(() => sick.close());
  const fine = await upstream('fine');
  const body = (extra: string) => `upstreams:
  app:
    targets: ["${sick.target}", "${fine.target}"]
    healthCheck: { path: /live, interval: 50ms, unhealthyAfter: 2 }
hosts:
  r.test: { tls: off, routes: [ { upstream: app } ] }
${extra}`;
  const p = await startPortico(body(''), { watch: false });
  t.teardown(() => p.close());
  const health = async () => (JSON.parse((await admin(p, '/upstreams')).body) as Record<string, { targets: { healthy: boolean }[] }>).app!.targets.map((x) => x.healthy);
  await eventually(async () => (await health())[0] === false, { within: 3000 });

  await overwrite(p, body('  other.test: { tls: off, routes: [ { respond: { body: "x" } } ] }\n'));
  t.equal((await admin(p, '/reload', 'POST')).status, 200);
  // A fresh state would start healthy and need two failed probes to go down again.
  t.same(await health(), [false, true], 'the downed target is still down right after the reload');
  for (let i = 0; i < 6; i++) t.equal((await get(p)).status, 200, 'traffic still avoids it');
  t.equal(sick.requests.filter((r) => r.url !== '/live').length, 0);
  t.equal(p.logs.filter({ event: 'health', healthy: true }).length, 0, 'no spurious up transition');
  t.equal((await get(p, '/', 'other.test')).body, 'x', 'the reload did apply');
});

t.test('20 reloads under concurrent keep-alive load: zero failed requests, connections kept', async (t) => {
  const a = await upstream('a');
  const b = await upstream('b');
  const body = (i: number) => `upstreams:
  app: { targets: [${i % 2 ? `"${a.target}", "${b.target}"` : `"${a.target}"`}] }
hosts:
  r.test:
    tls: off
    headers: { X-Config: "v${i}" }
    routes:
      - { path: /, upstream: app }
      - { path: /fixed, respond: { body: "fixed" } }
`;
  const p = await startPortico(body(0));
  t.teardown(() => p.close());
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  t.teardown(() => agent.destroy());
  const sockets = new Set<Socket>();
  const failures: string[] = [];
  let ok = 0;
  const versions = new Set<string>();
  let stop = false;

  const one = (path: string) =>
    new Promise<void>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: p.http, path, agent, headers: { host: 'r.test' } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) ok++;
          else failures.push(`status ${res.statusCode}`);
          versions.add(String(res.headers['x-config']));
          resolve();
        });
        res.on('error', (err) => {
          failures.push(err.message);
          resolve();
        });
      });
      req.on('socket', (s: Socket) => sockets.add(s));
      req.on('error', (err) => {
        failures.push(err.message);
        resolve();
      });
      req.end();
    });
  const loops = Array.from({ length: 16 }, async (_, i) => {
    while (!stop) await one(i % 4 === 0 ? '/fixed' : `/load/${i}`);
  });

  // Bounded by count; the deadline only stops a stuck run (a busy machine takes seconds here).
  const deadline = Date.now() + 60_000;
  let done = 0;
  for (let i = 1; i <= 20 && Date.now() < deadline; i++) {
    await overwrite(p, body(i));
    const r = await admin(p, '/reload', 'POST');
    if (r.status === 200) done++;
    await new Promise((r2) => setTimeout(r2, 20)); // let load run between reloads
  }
  stop = true;
  await Promise.all(loops);

  t.equal(done, 20, '20 reloads applied');
  t.same(failures, [], 'no request failed');
  t.ok(ok > 200, `${ok} requests served`);
  t.ok(versions.size > 2, `responses came from several configs (${versions.size})`);
  t.ok(sockets.size <= 16, `keep-alive connections survived the reloads (${sockets.size} sockets for ${ok} requests)`);
  t.ok(b.requests.length > 0, 'the target added and removed by the reloads took traffic');
});

t.test('a WebSocket and an SSE stream stay open across a reload', async (t) => {
  const feed = sseFeed();
  const up = await startUpstream((req, res) => (req.url === '/events' ? feed.handler(req, res) : res.end('ok')));
  t.teardown(() => up.close());
  const wss = attachWsEcho(up);
  t.teardown(() => new Promise<void>((resolve) => wss.close(() => resolve())));
  const body = (tag: string) => `upstreams:
  app: { targets: ["${up.target}"] }
hosts:
  r.test:
    tls: off
    headers: { X-Tag: "${tag}" }
    routes: [ { upstream: app } ]
`;
  const p = await startPortico(body('before'), { watch: false });
  t.teardown(() => p.close());

  const { ws } = await openWs(p.http, '/ws', { host: 'r.test' });
  t.teardown(() => ws.terminate());
  const sse = await openSse(p.http, '/events', { host: 'r.test' });
  t.teardown(() => sse.close());
  const res = await feed.next();
  res.write('data: before\n\n');
  await sse.waitFor(1);

  await overwrite(p, body('after'));
  t.equal((await admin(p, '/reload', 'POST')).status, 200);
  t.equal((await get(p)).headers['x-tag'], 'after', 'the new config is live');

  t.equal(await roundTrip(ws, 'still there'), 'echo:still there', 'the WebSocket survived');
  res.write('data: after\n\n');
  await sse.waitFor(2);
  t.same(sse.events, ['before', 'after'], 'the SSE stream survived');
  res.end();
  ws.close();
});

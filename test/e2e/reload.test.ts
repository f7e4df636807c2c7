import { execFile } from 'node:child_process';
import { Agent } from 'node:http';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { echoHandler, startUpstream, type Upstream } from '../helpers/start-upstream.js';
import { attachWsEcho, openSse, openWs, roundTrip, sseFeed } from '../helpers/streams.js';
import { E2E_PREAMBLE, startOwnedPortico, type LogLine, type PorticoProcess } from './helpers/portico-process.js';
import { startTraffic, type Traffic } from './helpers/traffic.js';

// SPEC §3 Hot reload, through the built CLI: a file edit is in effect within one second, SIGHUP
// and POST /reload re-apply the file, an invalid file keeps the old config serving and is
// reported once with FILE:LINE:COL, and no request or open connection is lost meanwhile.

const run = promisify(execFile);
/** The stat poll that backs up inotify runs every 2 s: one round and a margin to repeat a report. */
const ONE_POLL_ROUND_MS = 3_000;

/** An upstream that echoes, streams SSE on /events and speaks WebSocket. */
async function app(t: Test): Promise<{ upstream: Upstream; feed: ReturnType<typeof sseFeed> }> {
  const feed = sseFeed();
  const echo = echoHandler('app');
  const upstream = await startUpstream((req, res) => (req.url === '/events' ? feed.handler(req, res) : echo(req, res)));
  attachWsEcho(upstream, { greeting: true });
  t.teardown(() => upstream.close());
  return { upstream, feed };
}

function config(target: string, version: string, extra = ''): string {
  return `${E2E_PREAMBLE}upstreams:
  app: { targets: ["${target}"] }
hosts:
  r.test:
    tls: off
    routes:
      - { path: /version, respond: { status: 200, body: "${version}" } }
${extra}      - { path: /, upstream: app }
`;
}

const start = (t: Test, text: string): Promise<PorticoProcess> => startOwnedPortico(t, { config: text });

/** The app upstream and a Portico in front of it answering /version with v1. */
async function startV1(t: Test): Promise<{ upstream: Upstream; feed: ReturnType<typeof sseFeed>; p: PorticoProcess }> {
  const { upstream, feed } = await app(t);
  return { upstream, feed, p: await start(t, config(upstream.target, 'v1')) };
}

/** Stops the background traffic: it must have run through the reloads and none of it failed. */
async function trafficHeldUp(t: Test, traffic: Traffic): Promise<void> {
  const { total, failures } = await traffic.stop();
  t.ok(total > 20, `${total} background requests`);
  t.same(failures, [], 'no background request failed');
}

const get = (p: PorticoProcess, path: string, agent?: Agent) => request(p.http, path, { headers: { host: 'r.test' }, agent });
const adminRequest = (p: PorticoProcess, path: string, method = 'GET') => request(p.admin, path, { method, headers: { host: '127.0.0.1' } });

/** A metric's value from /metrics (`name{labels}` exactly as exported). */
async function metric(p: PorticoProcess, series: string): Promise<number> {
  const text = (await adminRequest(p, '/metrics')).body;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

const reloadLines = (p: PorticoProcess, result: 'ok' | 'error') => p.find((l: LogLine) => l.event === 'reload' && l.result === result);

t.test('file edits and SIGHUP reload under traffic; keep-alive, WebSocket and SSE stay open', async (t) => {
  const { upstream, feed, p } = await startV1(t);
  const traffic = startTraffic({ port: p.http, host: 'r.test', path: '/', concurrency: 2 });
  t.teardown(() => traffic.stop());

  // Long-lived connections opened before the reloads.
  const { ws, first } = await openWs(p.http, '/ws', { host: 'r.test' });
  t.teardown(() => ws.terminate());
  t.match(first, /^hello /);
  const sse = await openSse(p.http, '/events', { host: 'r.test' });
  t.teardown(() => sse.close());
  const upstreamSse = await feed.next();
  upstreamSse.write('data: before\n\n');
  await sse.waitFor(1);
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => keepAlive.destroy());
  const ports = new Set<number>();
  keepAlive.on('free', (socket) => ports.add(socket.localPort ?? -1));
  t.equal((await get(p, '/version', keepAlive)).body, 'v1');

  // A new route: in effect within one second of the write (measured on the gateway's clock).
  const written = Date.now();
  await p.writeConfig(config(upstream.target, 'v2', '      - { path: /new, respond: { status: 200, body: "new" } }\n'));
  await eventually(async () => (await get(p, '/new')).body === 'new', { within: 5_000, message: '/new served' });
  const applied = await p.waitForLog({ event: 'reload', result: 'ok', trigger: 'watch' });
  const took = Date.parse(String(applied.time)) - written;
  t.ok(took < 1_000, `the edit was applied ${took} ms after the write`);
  t.equal((await get(p, '/version', keepAlive)).body, 'v2');

  // SIGHUP re-applies the file even though it did not change, as `nginx -s reload` does.
  p.signal('SIGHUP');
  const hup = await p.waitForLog({ event: 'reload', result: 'ok', trigger: 'sighup' });
  t.ok(Number(hup.version) > Number(applied.version), 'SIGHUP installed a new version');

  // Every long-lived connection carried on across both reloads.
  t.equal(await roundTrip(ws, 'after'), 'echo:after', 'the WebSocket still echoes');
  upstreamSse.write('data: after\n\n');
  await sse.waitFor(2);
  t.same(sse.events, ['before', 'after'], 'the SSE stream still delivers');
  t.equal((await get(p, '/version', keepAlive)).body, 'v2');
  t.equal(ports.size, 1, 'the keep-alive client used one connection throughout');

  await trafficHeldUp(t, traffic);
});

t.test('an invalid save by sed -i is reported once; putting it back is reported as valid again', async (t) => {
  const { p } = await startV1(t);
  const traffic = startTraffic({ port: p.http, host: 'r.test', path: '/version', concurrency: 2, intervalMs: 10 });
  t.teardown(() => traffic.stop());
  const ok0 = await metric(p, 'portico_reloads_total{result="ok"}');
  const error0 = await metric(p, 'portico_reloads_total{result="error"}');

  // `sed -i` writes a new file and renames it over routes.yaml: inotify sees the rename, the
  // stat poll sees a new inode later. One save, one report.
  await run('sed', ['-i', 's/respond: { status: 200, body: "v1" }/respond: { status: 200, bodyy: "v1" }/', p.configFile]);
  const rejected = await p.waitForLog({ event: 'reload', result: 'error' });
  const errors = rejected.errors as string[];
  t.ok(
    errors.some((e) => e.startsWith(`${p.configFile}:10:`)),
    `FILE:LINE:COL points into the edited line: ${errors.join(' | ')}`,
  );
  t.equal((await get(p, '/version')).body, 'v1', 'the old configuration keeps serving');
  await new Promise((r) => setTimeout(r, ONE_POLL_ROUND_MS));
  t.equal(reloadLines(p, 'error').length, 1, 'the rejection is logged once');
  t.equal(await metric(p, 'portico_reloads_total{result="error"}'), error0 + 1, 'and counted once');
  t.equal(await metric(p, 'portico_config_last_reload_successful'), 0, 'the gauge says the file on disk is rejected');

  // Put the file back as it was: the operator learns that the error is gone.
  await run('sed', ['-i', 's/bodyy: "v1"/body: "v1"/', p.configFile]);
  const valid = await p.waitForLog({ event: 'reload', result: 'ok', unchanged: true });
  t.match(valid.msg, /valid again, unchanged from the running config/);
  await new Promise((r) => setTimeout(r, ONE_POLL_ROUND_MS));
  t.equal(reloadLines(p, 'ok').length, 1, 'valid again is logged once');
  t.equal(await metric(p, 'portico_reloads_total{result="ok"}'), ok0 + 1);
  t.equal(await metric(p, 'portico_config_last_reload_successful'), 1);
  t.equal(reloadLines(p, 'error').length, 1, 'no second rejection');

  await trafficHeldUp(t, traffic);
});

t.test('POST /reload answers 400 with FILE:LINE:COL lines for an invalid file, 200 for a valid one', async (t) => {
  const { upstream, p } = await startV1(t);
  await p.writeConfig(config(upstream.target, 'v1', '      - { path: /bad, upstream: nowhere }\n'));
  const bad = await adminRequest(p, '/reload', 'POST');
  t.equal(bad.status, 400);
  t.match(bad.body, new RegExp(`^${p.configFile.replace(/[.]/g, '\\.')}:11:\\d+: .*nowhere`, 'm'));
  t.equal((await get(p, '/version')).body, 'v1', 'the old configuration keeps serving');

  await p.writeConfig(config(upstream.target, 'v3'));
  const good = await adminRequest(p, '/reload', 'POST');
  t.equal(good.status, 200);
  t.match(JSON.parse(good.body), { result: 'ok', version: Number });
  t.equal((await get(p, '/version')).body, 'v3');
});

t.test('Node process metrics carry the portico_ prefix once', async (t) => {
  const { p } = await startV1(t);
  const text = (await adminRequest(p, '/metrics')).body;
  t.match(text, /^portico_process_cpu_seconds_total /m);
  t.match(text, /^portico_nodejs_eventloop_lag_seconds /m);
  t.notMatch(text, /portico_process_process_|portico_process_nodejs_/, 'no doubled prefix');
});

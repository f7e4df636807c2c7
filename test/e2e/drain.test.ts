import type { ServerResponse } from 'node:http';
import t, { type Test } from 'tap';
import { WebSocketServer, type WebSocket } from 'ws';
import { eventually } from '../helpers/eventually.js';
import { request, type Reply } from '../helpers/http-request.js';
import { startUpstream, type Upstream } from '../helpers/start-upstream.js';
import { openSse, openWs, roundTrip, type SseClient } from '../helpers/streams.js';
import { E2E_PREAMBLE, startOwnedPortico, type PorticoProcess } from './helpers/portico-process.js';
import { startTraffic } from './helpers/traffic.js';

const HOST = 'app.test';

/**
 * An app instance: answers its name, holds `/slow` until the test releases it, streams
 * `/events` (SSE) and echoes WebSocket messages, each tagged with its name.
 */
interface App {
  readonly name: string;
  readonly up: Upstream;
  /** Plain requests answered so far. */
  hits: number;
  readonly held: ServerResponse[];
  readonly streams: ServerResponse[];
}

async function startApp(t: Test, name: string): Promise<App> {
  const app: App = { name, up: undefined as unknown as Upstream, hits: 0, held: [], streams: [] };
  const up = await startUpstream((req, res) => {
    if (req.url === '/slow') {
      app.held.push(res);
      return;
    }
    if (req.url === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(`data: hello ${name}\n\n`);
      app.streams.push(res);
      return;
    }
    app.hits++;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': name.length });
    res.end(name);
  });
  const wss = new WebSocketServer({ server: up.server });
  wss.on('connection', (ws) => {
    ws.send(`hello ${name}`);
    ws.on('message', (data) => ws.send(`echo:${name}:${data.toString()}`));
  });
  t.teardown(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    await up.close();
  });
  return Object.assign(app, { up });
}

function config(targets: string): string {
  return `${E2E_PREAMBLE}upstreams:
  app:
    targets: ${targets}
hosts:
  ${HOST}:
    tls: off
    routes: [{ upstream: app }]
`;
}

function start(t: Test, text: string): Promise<PorticoProcess> {
  return startOwnedPortico(t, { config: text });
}

function admin(portico: PorticoProcess, path: string, method = 'GET'): Promise<Reply> {
  return request(portico.admin, path, { method, timeoutMs: 60_000 });
}

async function json<T = Record<string, unknown>>(reply: Promise<Reply>): Promise<T> {
  return JSON.parse((await reply).body) as T;
}

/** Opens streams until one lands on `app` (the others are closed); round robin alternates. */
async function openOn<S>(app: App, open: () => Promise<{ stream: S; name: string }>, close: (s: S) => void): Promise<S> {
  for (let i = 0; i < 6; i++) {
    const { stream, name } = await open();
    if (name === app.name) return stream;
    close(stream);
  }
  throw new Error(`no stream landed on ${app.name}`);
}

t.test('drain under keep-alive load: nothing fails, streams on the drained target carry on, ?wait, reload, enable', async (t) => {
  const a = await startApp(t, 'A');
  const b = await startApp(t, 'B');
  const portico = await start(t, config(`["${a.up.target}", "${b.up.target}"]`));
  const target = `/upstreams/app/targets/${a.up.target}`;

  const ws = await openOn<WebSocket>(
    a,
    async () => {
      const { ws: socket, first } = await openWs(portico.http, '/ws', { host: HOST });
      return { stream: socket, name: first.slice('hello '.length) };
    },
    (s) => s.close(),
  );
  t.teardown(() => ws.terminate());
  const sse = await openOn<SseClient>(
    a,
    async () => {
      const client = await openSse(portico.http, '/events', { host: HOST });
      await client.waitFor(1);
      return { stream: client, name: client.events[0]!.slice('hello '.length) };
    },
    (s) => s.close(),
  );
  t.teardown(() => sse.close());
  // A slow request in flight on A: sent until one lands there (B's are held too, released below).
  const slow: Promise<Reply>[] = [];
  while (a.held.length === 0) {
    const sent = a.held.length + b.held.length;
    slow.push(request(portico.http, '/slow', { headers: { host: HOST }, timeoutMs: 60_000 }));
    await eventually(() => a.held.length + b.held.length > sent, { message: 'slow request reached an app' });
  }
  t.teardown(() => [...a.held, ...b.held].forEach((r) => r.destroy()));

  const traffic = startTraffic({ port: portico.http, host: HOST, concurrency: 4 });
  t.teardown(() => traffic.stop());
  await eventually(() => a.hits > 20 && b.hits > 20, { within: 20_000, message: 'traffic reaches both apps' });

  const drained = await json<{ inFlight: number }>(admin(portico, `${target}/drain`, 'POST'));
  t.match(drained, { upstream: 'app', target: a.up.target, state: 'draining' });
  // The WebSocket, the SSE stream and the slow request, plus whatever of the load was on A.
  t.ok(drained.inFlight >= 3 && drained.inFlight <= 7, `in flight at the drain: ${drained.inFlight}`);
  const event = await portico.waitForLog({ event: 'drain', target: a.up.target });
  t.match(event, { upstream: 'app', state: 'draining', inFlight: drained.inFlight });

  let waitDone = false;
  const waited = json(admin(portico, `${target}/drain?wait=60s`, 'POST')).finally(() => (waitDone = true));

  // Requests picked before the drain may still arrive; after that, A gets nothing new.
  const count = () => traffic.results.length;
  let mark = count();
  await eventually(() => count() > mark + 100, { within: 20_000 });
  const hitsAfterDrain = a.hits;
  mark = count();
  await eventually(() => count() > mark + 300, { within: 30_000, message: '300 more requests' });
  t.equal(a.hits, hitsAfterDrain, 'no new request reaches the drained target');

  t.equal(await roundTrip(ws, 'still there?'), 'echo:A:still there?', 'the WebSocket on the drained target keeps working');
  a.streams[0]!.write('data: more from A\n\n');
  await sse.waitFor(2);
  t.equal(sse.events[1], 'more from A', 'the SSE stream on the drained target keeps flowing');

  a.held.shift()!.end('slow A');
  t.equal((await slow[slow.length - 1]!).body, 'slow A', 'the in-flight request finishes on the drained target');
  await eventually(async () => (await json(admin(portico, target))).inFlight === 2);
  t.notOk(waitDone, '?wait is still waiting: the WebSocket and the SSE stream are in flight');
  ws.close();
  sse.close();
  t.same(await waited, { upstream: 'app', target: a.up.target, state: 'drained', inFlight: 0 }, '?wait returns once nothing is in flight');

  const view = await json<{ app: { targets: { target: string; state: string }[] } }>(admin(portico, '/upstreams'));
  t.same(view.app.targets.map((x) => [x.target, x.state]), [[a.up.target, 'drained'], [b.up.target, 'active']]);
  const metrics = (await admin(portico, '/metrics')).body;
  t.match(metrics, `portico_upstream_target_state{upstream="app",target="${a.up.url}",state="drained"} 1`);
  t.match(metrics, `portico_upstream_target_state{upstream="app",target="${a.up.url}",state="active"} 0`);
  t.match(metrics, `portico_upstream_target_state{upstream="app",target="${b.up.url}",state="active"} 1`);

  // A reload (a file edit that changes the upstream) keeps the drain.
  await portico.writeConfig(config(`["${a.up.target}", { url: "${b.up.target}", weight: 2 }]`));
  await portico.waitForLog({ event: 'reload', result: 'ok' });
  t.equal((await json(admin(portico, target))).state, 'drained', 'still drained after the reload');
  mark = count();
  await eventually(() => count() > mark + 200, { within: 30_000 });
  t.equal(a.hits, hitsAfterDrain, 'and still gets nothing');

  const enabled = await json(admin(portico, `${target}/enable`, 'POST'));
  t.same(enabled, { upstream: 'app', target: a.up.target, state: 'active', inFlight: 0 });
  await eventually(() => a.hits > hitsAfterDrain + 20, { within: 20_000, message: 'traffic returns to the enabled target' });

  b.held.forEach((r) => r.end('slow B'));
  await Promise.all(slow);
  const { total, failures } = await traffic.stop();
  t.ok(total > 600, `${total} requests during the drain, reload and enable`);
  t.same(failures, [], 'no request failed');
});

t.test('drain API: unknown upstream or target 404, wrong method 405, bad wait 400; an idle target', async (t) => {
  const a = await startApp(t, 'A');
  const portico = await start(t, config(`["${a.up.target}"]`));
  t.equal((await admin(portico, `/upstreams/nope/targets/${a.up.target}/drain`, 'POST')).status, 404);
  t.equal((await admin(portico, '/upstreams/app/targets/127.0.0.1:1/drain', 'POST')).status, 404);
  t.equal((await admin(portico, `/upstreams/app/targets/${a.up.target}/drain`)).status, 405, 'GET of a POST endpoint');
  t.equal((await admin(portico, `/upstreams/app/targets/${a.up.target}/drain?wait=soon`, 'POST')).status, 400);
  t.equal((await json(admin(portico, `/upstreams/app/targets/${encodeURIComponent(a.up.url)}`))).target, a.up.target, 'the full URL names the target too');
  t.equal((await request(portico.http, '/', { headers: { host: HOST } })).body, 'A', 'nothing was drained by the failed calls');

  // An idle target: drain answers "draining" (as always without ?wait), its state is "drained".
  const target = `/upstreams/app/targets/${a.up.target}`;
  t.same(await json(admin(portico, `${target}/drain`, 'POST')), { upstream: 'app', target: a.up.target, state: 'draining', inFlight: 0 });
  t.equal((await json(admin(portico, target))).state, 'drained');
  t.equal((await json(admin(portico, `${target}/drain?wait=1s`, 'POST'))).state, 'drained', '?wait on an idle target answers at once');
  t.equal((await request(portico.http, '/', { headers: { host: HOST } })).status, 502, 'the only target drained: 502 at once');
  t.equal((await json(admin(portico, `${target}/enable`, 'POST'))).state, 'active');
  t.equal((await request(portico.http, '/', { headers: { host: HOST } })).body, 'A');
});

t.test('weights through the gateway: 1:3 split, standby gets nothing, a blue/green switch is one edit', async (t) => {
  const blue = await startApp(t, 'blue');
  const green = await startApp(t, 'green');
  const portico = await start(t, config(`[{ url: "${blue.up.target}", weight: 1 }, { url: "${green.up.target}", weight: 3 }]`));

  const run = async (n: number) => {
    const before = [blue.hits, green.hits];
    const traffic = startTraffic({ port: portico.http, host: HOST, concurrency: 2 });
    await eventually(() => traffic.results.length >= n, { within: 30_000 });
    const { total, failures } = await traffic.stop();
    t.same(failures, [], 'no request failed');
    return { total, blue: blue.hits - before[0]!, green: green.hits - before[1]! };
  };
  const split = await run(800);
  t.ok(Math.abs(split.blue / split.total - 0.25) < 0.05, `blue gets a quarter: ${split.blue} of ${split.total}`);

  await portico.writeConfig(config(`[{ url: "${blue.up.target}", weight: 0 }, { url: "${green.up.target}", weight: 1 }]`));
  await portico.waitForLog({ event: 'reload', result: 'ok' });
  const standby = await run(300);
  t.equal(standby.blue, 0, 'blue on standby (weight 0) gets nothing');
  t.equal((await json<{ app: { targets: { state: string }[] } }>(admin(portico, '/upstreams'))).app.targets[0]!.state, 'standby');

  await portico.writeConfig(config(`[{ url: "${blue.up.target}", weight: 1 }, { url: "${green.up.target}", weight: 0 }]`));
  await eventually(() => portico.find({ event: 'reload', result: 'ok' }).length >= 2);
  const switched = await run(300);
  t.equal(switched.green, 0, 'after the switch, green gets nothing');
  t.equal(switched.blue, switched.total, 'and blue everything');
});

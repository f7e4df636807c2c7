import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadHttpProxy } from '../../src/proxy/load-http-proxy.js';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { rawExchange } from '../helpers/raw-http.js';
import { startPortico } from '../helpers/start-portico.js';
import { startUpstream } from '../helpers/start-upstream.js';
import { openSse, sseFeed } from '../helpers/streams.js';

// The four known defects of http-proxy 1.18.1 (STYLE §2.14), each shown guarded in Portico:
// (1) a client abort did not reach the upstream request; (2) an error without a callback throws;
// (3) proxyTimeout is a socket-idle timer, not a time-to-first-byte limit; (4) util._extend
// (DEP0060) is called on every request.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // build-test/test/integration → repo
const LOADER = fileURLToPath(new URL('../../src/proxy/load-http-proxy.js', import.meta.url));

/** An upstream that holds requests and reports when each one's connection closes. */
async function holdingUpstream() {
  const events: { held: number; closedAt: number[] } = { held: 0, closedAt: [] };
  const u = await startUpstream((req: IncomingMessage) => {
    events.held++;
    req.socket.once('close', () => events.closedAt.push(Date.now()));
  });
  t.teardown(() => u.close());
  return { ...u, close: u.close, events };
}

/** Sends a GET over a raw socket and destroys the socket once `ready()` holds: a client abort. */
async function abortAfter(port: number, host: string, ready: () => boolean): Promise<number> {
  const { connect } = await import('node:net');
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(`GET /hold HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  await eventually(ready, { within: 3000 });
  socket.destroy();
  return Date.now();
}

t.test('(1) a client abort destroys the upstream request promptly', async (t) => {
  const up = await holdingUpstream();
  const p = await startPortico(`
hosts:
  g.test: { tls: off, routes: [ { upstream: "${up.target}" } ] }
`);
  t.teardown(() => p.close());
  const abortedAt = await abortAfter(p.http, 'g.test', () => up.events.held === 1);
  await eventually(() => up.events.closedAt.length === 1, { within: 2000, message: 'upstream connection closed' });
  const lag = up.events.closedAt[0]! - abortedAt;
  t.ok(lag < 500, `the upstream saw the close ${lag} ms after the client left`);
  const view = async () => JSON.parse((await request(p.admin, '/upstreams', { headers: { host: '127.0.0.1' } })).body) as Record<string, { targets: { inFlight: number }[] }>;
  await eventually(async () => Object.values(await view())[0]!.targets[0]!.inFlight === 0, { within: 2000 });
  t.pass('the in-flight count went back to 0');
  const line = await eventually(() => p.logs.find({ event: 'access', status: 499 }), { within: 2000 });
  t.ok(line, 'logged as 499 (client closed)');
});

t.test('(1, control) bare http-proxy 1.18.1 leaks the upstream request on the same abort', async (t) => {
  const up = await holdingUpstream();
  const proxy = loadHttpProxy().createProxyServer({});
  const front = createServer((req, res) => proxy.web(req, res, { target: up.url }, () => res.destroy()));
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    front.closeAllConnections();
    front.close(() => resolve());
  }));
  await abortAfter((front.address() as AddressInfo).port, 'g.test', () => up.events.held === 1);
  await new Promise((r) => setTimeout(r, 300)); // the leak under test: nothing happens in this window
  t.equal(up.events.closedAt.length, 0, 'without the guard the upstream request is still open 300 ms later');
  proxy.close();
});

t.test('(2) upstream errors never crash the process', async (t) => {
  const midway = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial ');
    setImmediate(() => res.socket?.destroy()); // killed mid-response
  });
  t.teardown(() => midway.close());
  const early = await startUpstream((req) => req.socket.destroy()); // killed before answering
  t.teardown(() => early.close());
  const dead = await startUpstream();
  await dead.close();
  const p = await startPortico(`
hosts:
  g.test:
    tls: off
    routes:
      - { path: /midway, upstream: "${midway.target}" }
      - { path: /early, upstream: "${early.target}" }
      - { path: /dead-ws, upstream: "${dead.target}" }
      - { path: /ok, respond: { body: "alive" } }
`);
  t.teardown(() => p.close());

  for (let i = 0; i < 3; i++) {
    const r = await rawExchange(p.http, 'GET /midway HTTP/1.1\r\nHost: g.test\r\n\r\n', { within: 2000 });
    t.equal(r.status, 200, 'the head had already gone out');
    t.ok(r.closed, 'the client connection is cut, so the truncation is visible');
    t.notMatch(r.data, /\r\n0\r\n\r\n$/, 'no terminating chunk: the response is not passed off as complete');
  }
  const ws = await rawExchange(
    p.http,
    'GET /dead-ws HTTP/1.1\r\nHost: g.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  t.equal(ws.status, 502, 'a WebSocket upgrade to a refusing upstream → 502, socket closed');
  const e = await request(p.http, '/early', { method: 'POST', body: 'x', headers: { host: 'g.test' } });
  t.equal(e.status, 502, 'a reset before the response → 502');
  await eventually(() => p.logs.filter({ event: 'upstream_error' }).length >= 5, { within: 2000 });
  t.equal((await request(p.http, '/ok', { headers: { host: 'g.test' } })).body, 'alive', 'the process is alive and serving');
});

t.test('(2, control) bare http-proxy without an error callback throws on the first refused connection', async (t) => {
  const dead = await startUpstream();
  await dead.close();
  // The front listens on another loopback address: on 127.0.0.1 port 0 could hand it the dead
  // port, and the script would proxy to itself until it ran out of file descriptors.
  const script = `
    const http = require('node:http');
    const proxy = require('http-proxy').createProxyServer({});
    const front = http.createServer((req, res) => proxy.web(req, res, { target: 'http://${dead.target}' }));
    front.listen(0, '127.0.0.3', () => http.get({ port: front.address().port, host: '127.0.0.3' }).on('error', () => {}));`;
  const { code, stderr } = await run(['-e', script]);
  t.not(code, 0, 'the process died');
  t.match(stderr, /ECONNREFUSED/);
});

t.test('(3) the response timeout is time-to-first-byte: quiet SSE is not cut, silence gets 504', async (t) => {
  const feed = sseFeed();
  const up = await startUpstream((req, res) => {
    if (req.url === '/events') feed.handler(req, res);
    // anything else: never answered
  });
  t.teardown(() => up.close());
  const p = await startPortico(`
upstreams:
  app: { targets: ["${up.target}"], timeouts: { response: 150ms } }
hosts:
  g.test: { tls: off, routes: [ { upstream: app } ] }
`);
  t.teardown(() => p.close());

  const sse = await openSse(p.http, '/events', { host: 'g.test' });
  t.teardown(() => sse.close());
  const res = await feed.next();
  await new Promise((r) => setTimeout(r, 400)); // idle well past the 150 ms response timeout
  res.write('data: still here\n\n');
  await sse.waitFor(1);
  t.same(sse.events, ['still here'], 'the idle stream was not cut');
  res.end();

  const started = Date.now();
  const silent = await request(p.http, '/silent', { headers: { host: 'g.test' } });
  t.equal(silent.status, 504);
  t.ok(Date.now() - started < 1000, 'no first byte → 504 at the response timeout');
});

t.test('(4) loading http-proxy through Portico does not emit DEP0060 (util._extend)', async (t) => {
  // Node 22+ warns on util._extend at runtime; Node 20 only documents the deprecation, and
  // --pending-deprecation does not cover it there. Each child therefore also runs with
  // util._extend wrapped in util.deprecate(…, 'DEP0060'), i.e. as Node 22 ships it.
  const child = (mode: 'portico' | 'bare', emulateNode22: boolean) => `
    import util from 'node:util';
    import http from 'node:http';
    import { once } from 'node:events';
    import { createRequire } from 'node:module';
    const require = createRequire(${JSON.stringify(ROOT + 'package.json')});
    const original = util._extend;
    if (${emulateNode22}) util._extend = util.deprecate(original, 'The util._extend API is deprecated.', 'DEP0060');
    const before = util._extend;
    const HttpProxy = ${mode === 'portico' ? `(await import(${JSON.stringify(LOADER)})).loadHttpProxy()` : "require('http-proxy')"};
    const upstream = http.createServer((q, s) => s.end('proxied')).listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const proxy = HttpProxy.createProxyServer({});
    const front = http.createServer((q, s) => proxy.web(q, s, { target: 'http://127.0.0.1:' + upstream.address().port }, () => s.end('error')));
    front.listen(0, '127.0.0.1');
    await once(front, 'listening');
    const res = await new Promise((resolve) => http.get({ host: '127.0.0.1', port: front.address().port, agent: false }, resolve));
    let body = '';
    for await (const c of res) body += c;
    console.log(JSON.stringify({ body, replaced: util._extend !== before }));
    front.close(); upstream.close();`;

  for (const emulate of [false, true]) {
    const bare = await run(['--pending-deprecation', '--input-type=module', '-e', child('bare', emulate)]);
    const ours = await run(['--pending-deprecation', '--input-type=module', '-e', child('portico', emulate)]);
    const label = emulate ? 'util._extend deprecated as in Node 22' : `native ${process.version}`;
    t.same(JSON.parse(ours.stdout), { body: 'proxied', replaced: true }, `${label}: Portico's loader proxies and replaced util._extend`);
    t.notMatch(ours.stderr, /DEP0060/, `${label}: no DEP0060 through loadHttpProxy`);
    t.same(JSON.parse(bare.stdout), { body: 'proxied', replaced: false }, `${label}: the control proxied with the original util._extend`);
    if (emulate) t.match(bare.stderr, /DEP0060/, `${label}: the control does print DEP0060, so the check is live`);
    else if (/DEP0060/.test(bare.stderr)) t.pass(`${label}: the control prints DEP0060 natively`);
    else t.comment(`${label}: util._extend is not runtime-deprecated on this Node; the emulated run carries the check`);
  }
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}


import t from 'tap';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import bcrypt from 'bcryptjs';
import WebSocket, { WebSocketServer } from 'ws';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { startPortico } from '../helpers/start-portico.js';
import { deadTarget, startUpstream } from '../helpers/start-upstream.js';

interface H2Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function session(port: number, servername: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = connect(`https://127.0.0.1:${port}`, { servername, rejectUnauthorized: false });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function h2(s: ClientHttp2Session, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string; authority?: string } = {}): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = s.request({ ':method': opts.method ?? 'GET', ':path': path, ':authority': opts.authority ?? 'h2.test', ...opts.headers });
    let headers: IncomingHttpHeaders = {};
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => (headers = h));
    stream.on('data', (d: string) => (body += d));
    stream.on('end', () => resolve({ status: Number(headers[':status']), headers, body }));
    stream.on('error', reject);
    stream.end(opts.body);
  });
}

t.test('HTTP/2 via ALPN and HTTP/1.1 fallback on the same port, with every feature', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));

  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const sse = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write('data: first\n\n');
    setTimeout(() => res.end('data: last\n\n'), 300);
  });
  t.teardown(() => sse.close());
  const hash = await bcrypt.hash('pw', 4);
  const portico = await startPortico(`hosts:
  h2.test:
    tls: self-signed
    headers: { X-Env: test }
    routes:
      - { path: /, upstream: "${upstream.target}" }
      - { path: /events, upstream: "${sse.target}" }
      - { path: /hello, respond: { status: 200, body: "hello\\n" } }
      - { path: /limited, upstream: "${upstream.target}", rateLimit: { rate: 1/m, burst: 1 } }
      - { path: /down, upstream: "127.0.0.1:1" }
  auth.test:
    tls: self-signed
    basicAuth: { realm: H2, users: { alice: "${hash}" } }
    routes: [ { upstream: "${upstream.target}" } ]
`);
  t.teardown(() => portico.close());

  const s = await session(portico.https, 'h2.test');
  t.teardown(() => s.close());
  t.equal(s.alpnProtocol, 'h2', 'h2 negotiated by ALPN');

  const r = await h2(s, '/users?page=2');
  t.equal(r.status, 200);
  const seen = JSON.parse(r.body) as { url: string; headers: Record<string, string> };
  t.equal(seen.url, '/users?page=2');
  t.equal(seen.headers.host, 'h2.test', ':authority becomes Host for the HTTP/1.1 upstream');
  t.equal(seen.headers['x-forwarded-proto'], 'https');
  t.notOk(Object.keys(seen.headers).some((h) => h.startsWith(':')), 'no pseudo-headers reach the upstream');
  t.equal(r.headers['x-env'], 'test', 'host headers applied');
  t.equal(r.headers['x-content-type-options'], 'nosniff', 'security headers applied');
  t.ok(r.headers['x-request-id'], 'request id echoed');
  t.equal(r.headers.connection, undefined, 'no Connection header on HTTP/2');

  const post = await h2(s, '/echo', { method: 'POST', body: 'payload', headers: { 'content-type': 'text/plain' } });
  t.equal(JSON.parse(post.body).body, 'payload', 'request body streamed to the upstream');

  const own = await h2(s, '/hello');
  t.equal(own.body, 'hello\n', 'respond action over h2');
  t.equal((await h2(s, '/x', { authority: 'nowhere.test' })).status, 404, 'unknown host 404 over h2');
  t.equal((await h2(s, '/down')).status, 502, 'unreachable upstream 502 over h2');
  t.equal((await h2(s, '/limited')).status, 200);
  const limited = await h2(s, '/limited');
  t.equal(limited.status, 429, 'rate limit over h2');
  t.ok(Number(limited.headers['retry-after']) >= 1);

  // Concurrent streams on one session.
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => h2(s, `/n/${i}`)));
  t.ok(many.every((m, i) => m.status === 200 && JSON.parse(m.body).url === `/n/${i}`), '20 concurrent streams');

  // SSE over h2: the first event arrives while the upstream is still open.
  const firstEvent = await new Promise<number>((resolve, reject) => {
    const started = Date.now();
    const stream = s.request({ ':path': '/events', ':authority': 'h2.test' });
    stream.setEncoding('utf8');
    stream.once('data', () => {
      resolve(Date.now() - started);
      stream.close();
    });
    stream.on('error', reject);
    stream.end();
  });
  t.ok(firstEvent < 250, `first SSE event not buffered until the end (${firstEvent} ms)`);

  const a = await session(portico.https, 'auth.test');
  t.teardown(() => a.close());
  const denied = await h2(a, '/', { authority: 'auth.test' });
  t.equal(denied.status, 401);
  t.equal(denied.headers['www-authenticate'], 'Basic realm="H2"');
  const allowed = await h2(a, '/', { authority: 'auth.test', headers: { authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` } });
  t.equal(allowed.status, 200, 'basic auth over h2');

  // HTTP/1.1 clients still work on the same port.
  const h1 = await request(portico.https, '/users', { https: true, headers: { host: 'h2.test' } });
  t.equal(h1.status, 200, 'HTTP/1.1 fallback');
  t.equal(JSON.parse(h1.body).url, '/users');

  t.same(warnings.filter((w) => /HTTP\/2|connection header|Status message/i.test(w)), [], 'no HTTP/2 compatibility warnings');
});

t.test('WebSocket keeps working over HTTP/1.1 on the HTTP/2-capable listener', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => wss.close(() => resolve())));
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${String(m)}`)));
  const port = (wss.address() as { port: number }).port;
  const portico = await startPortico(`hosts:
  ws.test: { tls: self-signed, routes: [ { upstream: "127.0.0.1:${port}" } ] }
`);
  t.teardown(() => portico.close());
  const ws = new WebSocket(`wss://127.0.0.1:${portico.https}/socket`, { headers: { host: 'ws.test' }, rejectUnauthorized: false, ...({ servername: 'ws.test' } as object) });
  const reply = await new Promise<string>((resolve, reject) => {
    ws.once('open', () => ws.send('hi'));
    ws.once('message', (m) => resolve(String(m)));
    ws.once('error', reject);
  });
  ws.close();
  t.equal(reply, 'echo:hi');
});

t.test('shutdown sends GOAWAY to idle HTTP/2 sessions instead of waiting for the drain limit', async (t) => {
  const portico = await startPortico(`hosts:
  h2.test: { tls: self-signed, routes: [ { respond: { body: "ok" } } ] }
`);
  const s = await session(portico.https, 'h2.test');
  t.equal((await h2(s, '/')).body, 'ok');
  const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
  const started = Date.now();
  await portico.close();
  await closed;
  t.ok(Date.now() - started < 3000, `closed in ${Date.now() - started} ms`);
});

t.test('an HTTP/2 PUT whose body has no Content-Length is not retried without its body', async (t) => {
  // HTTP/2 sends a body as DATA frames, with or without Content-Length: the request's stream
  // not ending on its HEADERS frame is what tells of a body.
  const dead = await deadTarget();
  const live = await startUpstream();
  t.teardown(() => live.close());
  const portico = await startPortico(`
upstreams:
  pair: { targets: ["${dead}", "${live.target}"] }
hosts:
  h2.test: { tls: self-signed, routes: [ { upstream: pair } ] }
`);
  t.teardown(() => portico.close());
  const s = await session(portico.https, 'h2.test');
  t.teardown(() => s.close());
  // Round robin starts at the first target, which is the dead one.
  const failed = await h2(s, '/put', { method: 'PUT', body: 'payload' });
  t.equal(failed.status, 502, 'the failure is reported, not replayed elsewhere');
  t.equal(live.requests.length, 0, 'the live target never saw it');
  const next = await h2(s, '/put', { method: 'PUT', body: 'payload' });
  t.equal(next.status, 200);
  t.equal((JSON.parse(next.body) as { body: string }).body, 'payload', 'the body reached the live target');
  const bodiless = await h2(s, '/get');
  t.equal(bodiless.status, 200, 'a GET (no body) is retried on the live target after a connect failure');
  t.equal((JSON.parse(bodiless.body) as { method: string }).method, 'GET');
});

t.test('HTTP/2 access lines count the response body (streams share the connection)', async (t) => {
  const body = 'x'.repeat(1000) + 'é'; // 1002 bytes in UTF-8
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.write(body.slice(0, 500));
    res.end(body.slice(500));
  });
  t.teardown(() => upstream.close());
  const portico = await startPortico(`hosts:
  h2.test:
    tls: self-signed
    routes:
      - { path: /own, respond: { status: 200, body: "hello\\n" } }
      - { upstream: "${upstream.target}" }
`);
  t.teardown(() => portico.close());
  const s = await session(portico.https, 'h2.test');
  t.teardown(() => s.close());
  const bytesOf = async (requestId: string) => {
    const line = await eventually(() => portico.logs.find({ event: 'access', requestId }));
    return line?.bytes;
  };
  t.equal((await h2(s, '/proxied', { headers: { 'x-request-id': 'h2-bytes-1' } })).body, body);
  t.equal(await bytesOf('h2-bytes-1'), 1002, 'a proxied body, streamed in chunks');
  t.equal((await h2(s, '/own', { headers: { 'x-request-id': 'h2-bytes-2' } })).body, 'hello\n');
  t.equal(await bytesOf('h2-bytes-2'), 6, 'a local reply');
  t.equal((await h2(s, '/proxied', { method: 'HEAD', headers: { 'x-request-id': 'h2-bytes-3' } })).body, '');
  t.equal(await bytesOf('h2-bytes-3'), 0, 'HEAD: no body sent, none counted');
});

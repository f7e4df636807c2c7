import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { rawBody, rawExchange } from '../helpers/raw-http.js';
import { startPortico } from '../helpers/start-portico.js';
import { echoHandler, startUpstream } from '../helpers/start-upstream.js';

// SPEC §3 Proxying, Client IP, Security headers and Logs, through a real Portico and a real
// upstream that echoes what it received.

interface Echo {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
  body: string;
}

const echo = await startUpstream(echoHandler('echo'));
t.teardown(() => echo.close());

/** An upstream that sets its own response headers, to see what Portico does with them. */
const loud = await startUpstream((req, res) => {
  res.writeHead(200, {
    'content-type': 'text/plain',
    server: 'loud-upstream/1.0',
    'x-frame-options': 'ALLOWALL',
    'referrer-policy': 'no-referrer',
    'x-upstream': 'kept',
    connection: 'X-Internal-Hop',
    'x-internal-hop': 'secret',
    'keep-alive': 'timeout=5, max=1000',
    upgrade: 'foo/1',
  });
  res.end(`loud ${req.url}`);
});
t.teardown(() => loud.close());
const cookies = await startUpstream((_req, res) => {
  res.writeHead(200, ['Set-Cookie', 'a=1', 'X-Custom-Case', 'v', 'Set-Cookie', 'b=2', 'X-Request-Id', 'upstream-id', 'Content-Length', '2']);
  res.end('ok');
});
t.teardown(() => cookies.close());

const portico = await startPortico(`
upstreams:
  api: { targets: ["${echo.target}"] }
hosts:
  example.test:
    tls: off
    routes:
      - { path: /api/, upstream: api, stripPrefix: true }
      - { path: /health, upstream: api, rewrite: /live }
      - { path: /root-rewrite, upstream: api, rewrite: / }
      - { path: /maintenance, respond: { status: 503, body: "Back soon\\n", headers: { Retry-After: "120" } } }
      - { path: /plain-respond, respond: { body: "hi" } }
      - { path: /old/, redirect: { to: "https://example.test/new/", status: 301 } }
      - { path: /moved, redirect: { to: "/elsewhere?x=1" } }
      - { path: /loud, upstream: "${loud.target}" }
      - { path: /, upstream: api }
  headers.test:
    tls: off
    headers: { X-Frame-Options: DENY, Server: null, X-Added: "yes", Referrer-Policy: null }
    routes:
      - { path: /loud, upstream: "${loud.target}" }
      - { path: /own, respond: { status: 200, body: "own" } }
      - { upstream: api }
  secure.test:
    tls: self-signed
    routes: [ { upstream: api } ]
  cookies.test:
    tls: off
    routes: [ { upstream: "${cookies.target}" } ]
`);
t.teardown(() => portico.close());

async function proxied(path: string, opts: Parameters<typeof request>[2] = {}): Promise<{ echo: Echo; headers: Record<string, unknown>; status: number }> {
  const r = await request(opts.https ? portico.https : portico.http, path, { ...opts, headers: { host: 'example.test', ...opts.headers } });
  if (r.status !== 200) throw new Error(`${path}: expected 200, got ${r.status} ${r.body}`);
  return { echo: JSON.parse(r.body) as Echo, headers: r.headers, status: r.status };
}

t.test('the Host header is passed unchanged', async (t) => {
  const { echo: e } = await proxied('/x', { headers: { host: 'Example.Test:8080' } });
  t.equal(e.headers.host, 'Example.Test:8080');
});

t.test('X-Forwarded-For appends the TCP peer to what was received', async (t) => {
  t.equal((await proxied('/')).echo.headers['x-forwarded-for'], '127.0.0.1', 'set when absent');
  const { echo: e } = await proxied('/', { headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.1' } });
  t.equal(e.headers['x-forwarded-for'], '203.0.113.9, 198.51.100.1, 127.0.0.1', 'appended to the received list');
});

t.test('X-Forwarded-Proto says http or https; an untrusted client cannot forge it', async (t) => {
  t.equal((await proxied('/')).echo.headers['x-forwarded-proto'], 'http');
  t.equal((await proxied('/', { headers: { 'x-forwarded-proto': 'https' } })).echo.headers['x-forwarded-proto'], 'http');
  const r = await request(portico.https, '/', { https: true, headers: { host: 'secure.test' } });
  t.equal(r.status, 200);
  const e = JSON.parse(r.body) as Echo;
  t.equal(e.headers['x-forwarded-proto'], 'https');
  t.equal(e.headers.host, 'secure.test');
});

t.test('X-Forwarded-Host carries the Host the client sent', async (t) => {
  t.equal((await proxied('/', { headers: { host: 'example.test:81' } })).echo.headers['x-forwarded-host'], 'example.test:81');
  t.equal((await proxied('/', { headers: { 'x-forwarded-host': 'evil.test' } })).echo.headers['x-forwarded-host'], 'example.test', 'not believed from an untrusted peer');
});

t.test('X-Real-IP is the TCP peer when the peer is not trusted (X-Forwarded-For not believed)', async (t) => {
  const { echo: e } = await proxied('/', { headers: { 'x-forwarded-for': '203.0.113.9' } });
  t.equal(e.headers['x-real-ip'], '127.0.0.1');
});

t.test('X-Real-IP follows the Client IP rule with trustedProxies', async (t) => {
  const p = await startPortico(`
trustedProxies: [127.0.0.1, 10.0.0.0/8]
hosts:
  example.test: { tls: off, routes: [ { upstream: "${echo.target}" } ] }
`);
  t.teardown(() => p.close());
  const realIp = async (xff?: string) => {
    const r = await request(p.http, '/', { headers: { host: 'example.test', ...(xff ? { 'x-forwarded-for': xff } : {}) } });
    return (JSON.parse(r.body) as Echo).headers['x-real-ip'];
  };
  t.equal(await realIp(), '127.0.0.1', 'no header: the peer');
  t.equal(await realIp('198.51.100.7'), '198.51.100.7', 'a trusted peer is believed');
  t.equal(await realIp('6.6.6.6, 198.51.100.7, 10.1.2.3'), '198.51.100.7', 'right-most untrusted entry');
  t.equal(await realIp('10.9.9.9, 10.1.2.3'), '10.9.9.9', 'all trusted: the left-most');
  t.equal(await realIp('198.51.100.7, not-an-ip, 10.1.2.3'), '10.1.2.3', 'a malformed entry stops the walk at the last trusted');
  t.equal(await realIp('198.51.100.7, garbage'), '127.0.0.1', 'right-most malformed: the TCP peer');
});

t.test('X-Request-Id is kept when sent, generated otherwise, and echoed on the response', async (t) => {
  const sent = await proxied('/', { headers: { 'x-request-id': 'abc-123' } });
  t.equal(sent.echo.headers['x-request-id'], 'abc-123');
  t.equal(sent.headers['x-request-id'], 'abc-123');

  const gen = await proxied('/');
  const id = gen.echo.headers['x-request-id'];
  t.match(id, /^[0-9a-f-]{16,}$/, 'generated');
  t.equal(gen.headers['x-request-id'], id, 'the response echoes the id the upstream saw');
  t.not((await proxied('/')).echo.headers['x-request-id'], id, 'a fresh id per request');

  const own = await request(portico.http, '/maintenance', { headers: { host: 'example.test', 'x-request-id': 'own-1' } });
  t.equal(own.headers['x-request-id'], 'own-1', "Portico's own replies echo it too");
  const unknown = await request(portico.http, '/', { headers: { host: 'unknown.test' } });
  t.match(unknown.headers['x-request-id'], /\S/);
});

t.test('hop-by-hop request headers are not forwarded (RFC 9110 §7.6.1)', async (t) => {
  // Raw bytes: Node's client would normalise Connection, and "Upgrade" without
  // "Connection: upgrade" is just a header on an ordinary request.
  const { data: raw } = await rawExchange(
    portico.http,
    'GET /hop HTTP/1.1\r\nHost: example.test\r\nConnection: close, X-Secret-Hop\r\nX-Secret-Hop: 1\r\n' +
      'Keep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: h2c\r\nProxy-Connection: keep-alive\r\nX-End-To-End: yes\r\n\r\n',
  );
  const e = JSON.parse(rawBody(raw)) as Echo;
  t.equal(e.headers['x-end-to-end'], 'yes', 'end-to-end headers pass');
  for (const h of ['x-secret-hop', 'keep-alive', 'te', 'upgrade', 'proxy-connection']) t.equal(e.headers[h], undefined, `${h} dropped`);
});

t.test('Connection: close from the client is honoured on a proxied response', async (t) => {
  // http-proxy 1.18.1 writes `Connection: keep-alive` on every response unless told otherwise,
  // which kept this socket open for the whole keep-alive timeout.
  const r = await rawExchange(portico.http, 'GET /c HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n', { within: 2000 });
  t.equal(r.status, 200);
  t.ok(r.closed, 'Portico closed the connection after the response');
  t.match(r.data, /\r\nconnection: close\r\n/i);
  const ka = await rawExchange(portico.http, 'GET /c HTTP/1.1\r\nHost: example.test\r\n\r\n', { within: 300 });
  t.equal(ka.status, 200);
  t.notOk(ka.closed, 'a keep-alive request keeps its connection');
});

t.test('hop-by-hop response headers are not forwarded', async (t) => {
  const r = await request(portico.http, '/loud', { headers: { host: 'example.test' } });
  t.equal(r.status, 200);
  t.equal(r.headers['x-upstream'], 'kept');
  t.equal(r.headers['x-internal-hop'], undefined, 'Connection-listed header dropped');
  t.equal(r.headers.upgrade, undefined, 'Upgrade dropped on a non-upgrade response');
  t.not(r.headers['keep-alive'], 'timeout=5, max=1000', "the upstream's Keep-Alive is not passed on");
});

t.test('upstream header case, repeated Set-Cookie lines and its X-Request-Id', async (t) => {
  const { data } = await rawExchange(portico.http, 'GET /cookies HTTP/1.1\r\nHost: cookies.test\r\nConnection: close\r\nX-Request-Id: mine-7\r\n\r\n');
  const head = data.slice(0, data.indexOf('\r\n\r\n'));
  t.match(head, /\r\nSet-Cookie: a=1\r\nX-Custom-Case: v\r\nSet-Cookie: b=2\r\n/, 'each cookie on its own line, in the order sent');
  t.match(head, /\r\nX-Custom-Case: v\r\n/, "the upstream's header case is kept");
  t.match(head, /\r\nx-request-id: mine-7\r\n/, "the request's id, not the upstream's");
  t.notMatch(head, /upstream-id/);
});

t.test('stripPrefix removes the route prefix and keeps the query', async (t) => {
  t.equal((await proxied('/api/users?q=1')).echo.url, '/users?q=1');
  t.equal((await proxied('/api/')).echo.url, '/');
  t.equal((await proxied('/api/a/b/?x=%20y')).echo.url, '/a/b/?x=%20y');
});

t.test('rewrite replaces the matched prefix and keeps the query', async (t) => {
  t.equal((await proxied('/health/x?q')).echo.url, '/live/x?q');
  t.equal((await proxied('/health')).echo.url, '/live');
  t.equal((await proxied('/health?full=1')).echo.url, '/live?full=1');
  t.equal((await proxied('/root-rewrite')).echo.url, '/', 'an empty result is /');
  t.equal((await proxied('/root-rewrite/a?b')).echo.url, '/a?b');
});

t.test('respond answers with the configured status, body and headers', async (t) => {
  const r = await request(portico.http, '/maintenance', { headers: { host: 'example.test' } });
  t.equal(r.status, 503);
  t.equal(r.body, 'Back soon\n');
  t.equal(r.headers['retry-after'], '120');
  const plain = await request(portico.http, '/plain-respond', { headers: { host: 'example.test' } });
  t.equal(plain.status, 200, 'status defaults to 200');
  t.equal(plain.body, 'hi');
});

t.test('redirect sends Location verbatim; status defaults to 308', async (t) => {
  const r = await request(portico.http, '/old/some/page?x=1', { headers: { host: 'example.test' } });
  t.equal(r.status, 301);
  t.equal(r.headers.location, 'https://example.test/new/', 'no path or query appended');
  const d = await request(portico.http, '/moved/deeper', { headers: { host: 'example.test' } });
  t.equal(d.status, 308);
  t.equal(d.headers.location, '/elsewhere?x=1');
});

t.test('host headers add, override and remove (null) response headers', async (t) => {
  const r = await request(portico.http, '/loud', { headers: { host: 'headers.test' } });
  t.equal(r.status, 200);
  t.equal(r.headers.server, undefined, "Server: null removes the upstream's Server header");
  t.equal(r.headers['x-frame-options'], 'DENY', "overrides the upstream's value");
  t.equal(r.headers['x-added'], 'yes', 'added');
  t.equal(r.headers['referrer-policy'], undefined, 'null removes even a header the upstream set');
  t.equal(r.headers['x-content-type-options'], 'nosniff', 'untouched defaults still apply');

  const own = await request(portico.http, '/own', { headers: { host: 'headers.test' } });
  t.equal(own.headers['x-frame-options'], 'DENY', "applies to Portico's own replies");
  t.equal(own.headers['x-added'], 'yes');
  t.equal(own.headers['referrer-policy'], undefined);
});

t.test('security headers are added to proxied and own responses unless set upstream or overridden', async (t) => {
  const defaults = { 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN', 'referrer-policy': 'strict-origin-when-cross-origin' };
  const cases: [string, string, string][] = [
    ['proxied', 'example.test', '/'],
    ['respond', 'example.test', '/maintenance'],
    ['redirect', 'example.test', '/old/'],
    ['unknown host 404', 'nowhere.test', '/'],
    ['TLS host redirect', 'secure.test', '/'],
  ];
  for (const [what, host, path] of cases) {
    const r = await request(portico.http, path, { headers: { host } });
    for (const [name, value] of Object.entries(defaults)) t.equal(r.headers[name], value, `${what}: ${name}`);
  }
  const https = await request(portico.https, '/', { https: true, headers: { host: 'secure.test' } });
  for (const [name, value] of Object.entries(defaults)) t.equal(https.headers[name], value, `https: ${name}`);

  const loudR = await request(portico.http, '/loud', { headers: { host: 'example.test' } });
  t.equal(loudR.headers['x-frame-options'], 'ALLOWALL', "the upstream's own value wins over a default");
  t.equal(loudR.headers['referrer-policy'], 'no-referrer');
  t.equal(loudR.headers['x-content-type-options'], 'nosniff', 'defaults fill the rest');
});

t.test('an unknown host gets 404 with a short plain body', async (t) => {
  const r = await request(portico.http, '/anything', { headers: { host: 'nowhere.test' } });
  t.equal(r.status, 404);
  t.match(r.headers['content-type'], /^text\/plain/);
  t.ok(r.body.length < 64, JSON.stringify(r.body));
});

t.test('one access log line per request with the SPEC fields', async (t) => {
  await proxied('/api/users?q=1', { headers: { 'x-request-id': 'log-me-1', 'x-forwarded-for': '203.0.113.9' } });
  const line = (await eventually(() => portico.logs.find({ event: "access", requestId: "log-me-1" })))!;
  t.match(line, {
    time: String,
    requestId: 'log-me-1',
    clientIp: '127.0.0.1',
    host: 'example.test',
    method: 'GET',
    path: '/api/users?q=1',
    status: 200,
    bytes: Number,
    durationMs: Number,
    route: '/api',
    upstream: echo.url,
  });
  t.ok(!Number.isNaN(Date.parse(line.time as string)), 'time is a timestamp');
  t.ok((line.bytes as number) > 0);
  t.equal(portico.logs.filter({ event: 'access', requestId: 'log-me-1' }).length, 1, 'exactly one line');

  // bytes: what went out on the connection for this response, head and body; pipelined
  // responses on one connection are each counted once.
  const pipelined = await rawExchange(portico.http,
    'GET /api/a HTTP/1.1\r\nHost: example.test\r\nX-Request-Id: bytes-1\r\n\r\n' +
    'GET /api/bb HTTP/1.1\r\nHost: example.test\r\nX-Request-Id: bytes-2\r\nConnection: close\r\n\r\n');
  const [b1, b2] = await Promise.all(['bytes-1', 'bytes-2'].map((id) => eventually(() => portico.logs.find({ event: 'access', requestId: id }))));
  t.equal((b1!.bytes as number) + (b2!.bytes as number), pipelined.data.length, 'the two lines add up to every byte the client received');
  t.ok(pipelined.data.indexOf('HTTP/1.1', 1) === b1!.bytes, 'the first line counts exactly the first response');

  await request(portico.http, '/', { headers: { host: 'nowhere.test', 'x-request-id': 'log-me-2' } });
  const own = await eventually(() => portico.logs.find({ event: 'access', requestId: 'log-me-2' }));
  t.match(own, { status: 404, route: '-', upstream: null });
});

t.test('the upstream receives the path exactly as sent (repeated slashes, encodings, query)', async (t) => {
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const portico = await startPortico(`hosts:
  raw.test: { tls: off, routes: [ { upstream: "${upstream.target}" } ] }
`);
  t.teardown(() => portico.close());
  for (const path of ['/a//b', '/a/%2F/b?x=1&y=%20', '/caf%C3%A9/./x', '//lead']) {
    const r = await request(portico.http, path, { headers: { host: 'raw.test' } });
    t.equal(JSON.parse(r.body).url, path, `${path} forwarded unchanged`);
  }
});

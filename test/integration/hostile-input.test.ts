import type { ListenerSet } from '../../src/server/listener-set.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { createHttpListener } from '../../src/server/listeners.js';
import { request } from '../helpers/http-request.js';
import { rawBody, rawExchange } from '../helpers/raw-http.js';
import { startPortico } from '../helpers/start-portico.js';
import { echoHandler, startUpstream } from '../helpers/start-upstream.js';

// SPEC §3 "Bad input never crashes the process" and Path matching, with raw sockets so that
// inputs Node's client refuses to produce can be sent: 400, 431, 413, 408, smuggling framing,
// path tricks. After each one a normal request must still succeed.

const up = await startUpstream(echoHandler('up'));
t.teardown(() => up.close());

const portico = await startPortico(`
hosts:
  h.test:
    tls: off
    maxBodySize: 1k
    routes:
      - { path: /admin, respond: { status: 403, body: "protected\\n" } }
      - { path: /, upstream: "${up.target}" }
`);
t.teardown(() => portico.close());

const CRLF = '\r\n';
const req = (lines: string[], body = '') => lines.join(CRLF) + CRLF + CRLF + body;

/** A plain request still works: the process survived and the listener is healthy. */
async function stillServing(t: { equal(a: unknown, b: unknown, m: string): void }): Promise<void> {
  const r = await request(portico.http, '/ok', { headers: { host: 'h.test' } });
  t.equal(r.status, 200, 'a normal request still succeeds afterwards');
}

t.test('a malformed request line → 400, connection closed', async (t) => {
  for (const line of ['GARBAGE', 'GET  HTTP/1.1', '\x00\x01\x02 / HTTP/1.1']) {
    const r = await rawExchange(portico.http, req([line, 'Host: h.test']));
    t.equal(r.status, 400, JSON.stringify(line));
    t.ok(r.closed, 'closed');
    t.match(r.data, /\r\nx-content-type-options: nosniff\r\n/i, 'security headers even before parsing succeeded');
  }
  // A well-formed line with a version Portico does not speak: SPEC §3 says 505.
  const r = await rawExchange(portico.http, req(['GET / HTTP/9.9', 'Host: h.test']));
  t.equal(r.status, 505, 'GET / HTTP/9.9');
  t.ok(r.closed, 'closed');
  await stillServing(t);
});

t.test('headers larger than 16 KiB → 431', async (t) => {
  const r = await rawExchange(portico.http, req(['GET / HTTP/1.1', 'Host: h.test', `X-Big: ${'a'.repeat(17 * 1024)}`]));
  t.equal(r.status, 431);
  t.ok(r.closed);
  t.equal(up.requests.filter((q) => q.headers['x-big'] !== undefined).length, 0, 'nothing reached the upstream');
  const many = Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'b'.repeat(50)}`);
  t.equal((await rawExchange(portico.http, req(['GET / HTTP/1.1', 'Host: h.test', ...many]))).status, 431, 'many headers adding up');
  await stillServing(t);
});

t.test('both Content-Length and Transfer-Encoding → 400 and close (no smuggling)', async (t) => {
  const before = up.requests.length;
  const smuggled = req(['GET /smuggled HTTP/1.1', 'Host: h.test'], '');
  const r = await rawExchange(
    portico.http,
    req(['POST / HTTP/1.1', 'Host: h.test', 'Content-Length: 4', 'Transfer-Encoding: chunked'], `0${CRLF}${CRLF}${smuggled}`),
  );
  t.equal(r.status, 400);
  t.ok(r.closed, 'the connection is closed, so no second request is read from it');
  t.notMatch(r.data, /HTTP\/1\.1 200/, 'the smuggled request was not answered');
  t.equal(up.requests.length, before, 'nothing reached the upstream');
  await stillServing(t);
});

t.test('maxBodySize with a declared length → 413 before anything is forwarded', async (t) => {
  const before = up.requests.length;
  const r = await rawExchange(portico.http, req(['POST /upload HTTP/1.1', 'Host: h.test', 'Content-Length: 2048'], 'x'.repeat(2048)));
  t.equal(r.status, 413);
  t.equal(up.requests.length, before, 'the upstream never saw it');
  const small = await request(portico.http, '/upload', { method: 'POST', body: 'y'.repeat(1024), headers: { host: 'h.test' } });
  t.equal(small.status, 200, 'exactly the limit is allowed');
  await stillServing(t);
});

t.test('maxBodySize with a chunked body over the limit → 413', async (t) => {
  const chunk = (s: string) => `${s.length.toString(16)}${CRLF}${s}${CRLF}`;
  const head = req(['POST /upload HTTP/1.1', 'Host: h.test', 'Transfer-Encoding: chunked']);
  const r = await rawExchange(portico.http, [head, chunk('a'.repeat(600)), chunk('b'.repeat(600)), `0${CRLF}${CRLF}`]);
  t.equal(r.status, 413);
  t.ok(r.closed, 'the rest of the body is unread: the connection is closed');
  const closeHead = req(['POST /upload HTTP/1.1', 'Host: h.test', 'Transfer-Encoding: chunked', 'Connection: close']);
  const ok = await rawExchange(portico.http, [closeHead, chunk('a'.repeat(300)), chunk('b'.repeat(300)), `0${CRLF}${CRLF}`]);
  t.equal(ok.status, 200, 'a chunked body under the limit goes through');
  t.equal((JSON.parse(rawBody(ok.data)) as { body: string }).body.length, 600);
  await stillServing(t);
});

t.test('dot segments and encodings cannot sidestep a route; the upstream gets the path as sent', async (t) => {
  for (const path of ['/api/../admin', '/api/%2e%2e/admin', '/%61dmin/x', '//admin', '/./admin/', '/api/..%2Fadmin']) {
    const r = await rawExchange(portico.http, req([`GET ${path} HTTP/1.1`, 'Host: h.test', 'Connection: close']));
    t.equal(r.status, 403, `${path} matched the /admin route`);
  }
  const r = await rawExchange(portico.http, req(['GET /api/../public?x=1 HTTP/1.1', 'Host: h.test', 'Connection: close']));
  t.equal(r.status, 200);
  t.equal((JSON.parse(rawBody(r.data)) as { url: string }).url, '/api/../public?x=1', 'the upstream received the target unchanged');
  await stillServing(t);
});

t.test('a malformed percent-encoding or NUL in the path → 400', async (t) => {
  for (const path of ['/%zz', '/a%2', '/x%00y']) {
    const r = await rawExchange(portico.http, req([`GET ${path} HTTP/1.1`, 'Host: h.test', 'Connection: close']));
    t.equal(r.status, 400, path);
    t.match(r.data, /\r\nx-content-type-options: nosniff\r\n/i, 'security headers on the 400');
  }
  await stillServing(t);
});

t.test('the public listeners use the SPEC header and keep-alive timeouts', async (t) => {
  const { listeners } = portico.gateway as unknown as { listeners: ListenerSet };
  for (const [name, server] of [['http', listeners.get('http') as unknown as Server], ['https', listeners.get('https') as unknown as Server]] as const) {
    t.equal(server.headersTimeout, 30_000, `${name}: headers must be complete within 30 s`);
    t.equal(server.keepAliveTimeout, 60_000, `${name}: idle keep-alive connections close after 60 s`);
  }
});

t.test('slowloris: headers not completed in time → 408 and close (lowered timeouts)', async (t) => {
  // The production listener, with only its timers scaled down: Node checks headersTimeout every
  // connectionsCheckingInterval (read when the server starts listening).
  const server = createHttpListener({ request: (_req, res) => res.end('ok'), upgrade: (_req, socket) => socket.destroy(), refused: () => {} });
  server.headersTimeout = 300;
  server.requestTimeout = 300;
  // A real property read at listen time; @types/node only knows the constructor option.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = 50;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const { port } = server.address() as AddressInfo;

  const started = Date.now();
  const r = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: h.test\r\nX-Slow: 1\r\n', { within: 3000 });
  const took = Date.now() - started;
  t.equal(r.status, 408);
  t.ok(r.closed, 'the connection is closed');
  t.ok(took >= 250 && took < 2000, `after ${took} ms`);
  t.match(r.data, /x-content-type-options: nosniff/i);

  const ok = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: h.test\r\nConnection: close\r\n\r\n');
  t.equal(ok.status, 200, 'the listener still serves');
});

import { connect as h2connect } from 'node:http2';
import t from 'tap';
import { rawExchange, rawBody } from '../../helpers/raw-http.js';
import { proxyHost, startOwnedRecordingUpstream, startPorticoWithHosts } from '../helpers/portico-process.js';

// SPEC §3 Proxying and Path matching, against the built CLI: what the upstream receives when
// a client tries to strip or spoof Portico's headers, hides separators in percent-encoding,
// offers h2c, or sends absolute-form targets and duplicate Host fields.

const up = await startOwnedRecordingUpstream(t);
const portico = await startPorticoWithHosts(t, [
  `  public.test:
    tls: off
    routes:
      - { path: /health, rewrite: /live, upstream: "${up.target}" }
      - { path: /api, stripPrefix: true, upstream: "${up.target}" }
      - { path: /, upstream: "${up.target}" }
`,
  proxyHost('secure.test', up.target, 'self-signed'),
  proxyHost('"*"', up.target),
]);

const last = () => up.requests[up.requests.length - 1]!;
const CRLF = '\r\n';
/** One raw request on its own connection; `Connection: close` so the exchange ends with the response. */
const raw = (lines: string[]) =>
  rawExchange(portico.http, (lines.some((l) => /^connection:/i.test(l)) ? lines : [...lines, 'Connection: close']).join(CRLF) + CRLF + CRLF, { within: 3000 });

t.test('a Connection list cannot remove the forwarding headers Portico adds', async (t) => {
  const r = await raw([
    'GET /conn HTTP/1.1',
    'Host: public.test',
    'Connection: close, X-Forwarded-For, X-Real-IP, X-Forwarded-Proto, X-Forwarded-Host, X-Request-Id, Host, Content-Length',
  ]);
  t.equal(r.status, 200);
  const h = last().headers;
  t.equal(last().url, '/conn');
  t.equal(h['x-forwarded-for'], '127.0.0.1', 'X-Forwarded-For');
  t.equal(h['x-real-ip'], '127.0.0.1', 'X-Real-IP');
  t.equal(h['x-forwarded-proto'], 'http', 'X-Forwarded-Proto');
  t.equal(h['x-forwarded-host'], 'public.test', 'X-Forwarded-Host');
  t.match(h['x-request-id'], /^[0-9a-f-]{36}$/, 'X-Request-Id');
  t.equal(h.host, 'public.test', 'Host is never removed by a Connection list');
});

t.test('X-Forwarded-Host is always the routed host, over HTTP/1.0 and HTTP/2', async (t) => {
  let r = await raw(['GET /spoof10 HTTP/1.0', 'X-Forwarded-Host: evil.example']);
  t.equal(r.status, 200, 'HTTP/1.0 without Host reaches the catch-all');
  t.not(last().headers['x-forwarded-host'], 'evil.example', 'HTTP/1.0: the client value is not passed on');
  r = await raw(['GET /spoof11 HTTP/1.1', 'Host: public.test', 'X-Forwarded-Host: evil.example']);
  t.equal(last().headers['x-forwarded-host'], 'public.test', 'HTTP/1.1: replaced by the request host');

  const session = h2connect(`https://127.0.0.1:${portico.https}`, { rejectUnauthorized: false, servername: 'secure.test' });
  t.teardown(() => session.close());
  for (const spoof of [true, false]) {
    const headers: Record<string, string> = { ':path': '/h2', ':authority': 'secure.test' };
    if (spoof) headers['x-forwarded-host'] = 'evil.example';
    await new Promise<void>((resolve, reject) => {
      const s = session.request(headers);
      s.on('response', () => undefined);
      s.on('end', resolve);
      s.on('error', reject);
      s.resume();
    });
    t.equal(last().headers['x-forwarded-host'], 'secure.test', `HTTP/2 ${spoof ? 'with' : 'without'} a client value: the :authority`);
  }
});

t.test('percent-encoded separators never climb out of a rewrite or stripPrefix target', async (t) => {
  let r = await raw(['GET /health%2fa%2fb/..%2f..%2fsecret HTTP/1.1', 'Host: public.test']);
  t.equal(r.status, 200);
  t.equal(decodeURIComponent(last().url), '/live/secret', 'rewrite: the normalised path, inside /live');
  r = await raw(['GET /api%2fusers?x=1 HTTP/1.1', 'Host: public.test']);
  t.equal(r.status, 200);
  t.equal(last().url, '/users?x=1', 'stripPrefix: the hidden segment is the one stripped');
  r = await raw(['GET /api/caf%C3%A9 HTTP/1.1', 'Host: public.test']);
  t.equal(last().url, '/caf%C3%A9', 'ordinary encodings pass as sent');
});

t.test('Upgrade: h2c is ignored: the request is served as HTTP/1.1', async (t) => {
  const before = up.requests.length;
  const r = await raw(['GET /h2c HTTP/1.1', 'Host: public.test', 'Connection: Upgrade, HTTP2-Settings', 'Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA']);
  t.equal(r.status, 200, 'answered, not dropped');
  t.match(rawBody(r.data), /"url":"\/h2c"/, 'with the upstream body');
  t.equal(up.requests.length, before + 1, 'one upstream request');
  t.equal(last().headers.upgrade, undefined, 'without the Upgrade offer');
  const access = await portico.waitForLog((l) => l.event === 'access' && l.path === '/h2c');
  t.equal(access.status, 200, 'the access line says 200, not 101');

  const post = await rawExchange(
    portico.http,
    ['POST /h2c-body HTTP/1.1', 'Host: public.test', 'Connection: Upgrade, HTTP2-Settings', 'Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA', 'Content-Length: 5'].join(CRLF) + CRLF + CRLF + 'hello',
    { within: 3000 },
  );
  t.equal(post.status, 200, 'a sized body with h2c is served');
  t.equal(last().url, '/h2c-body');
  t.equal(last().body.toString(), 'hello', 'with its body');
  t.ok(post.closed, 'and the connection closes after the response');
  const chunked = await rawExchange(
    portico.http,
    ['POST /h2c-chunked HTTP/1.1', 'Host: public.test', 'Connection: Upgrade, HTTP2-Settings', 'Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA', 'Transfer-Encoding: chunked'].join(CRLF) + CRLF + CRLF + '5' + CRLF + 'hello' + CRLF + '0' + CRLF + CRLF,
    { within: 3000 },
  );
  t.equal(chunked.status, 400, 'a chunked body with h2c cannot be re-parsed here: 400');
  t.match(chunked.data, /x-content-type-options: nosniff/i, 'with the security headers');
  t.notOk(up.requests.some((r) => r.url === '/h2c-chunked'), 'and nothing forwarded');
});

t.test('absolute-form targets route by their authority; duplicate Host and odd codings are refused', async (t) => {
  let r = await raw(['GET http://public.test/abs?q=1 HTTP/1.1', 'Host: other.example']);
  t.equal(r.status, 200, 'absolute-form accepted');
  t.equal(last().url, '/abs?q=1', 'the upstream gets origin-form');
  t.equal(last().headers.host, 'public.test', 'and the authority as Host');
  const before = up.requests.length;
  r = await raw(['GET /dup HTTP/1.1', 'Host: public.test', 'Host: secure.test']);
  t.equal(r.status, 400, 'two Host fields → 400');
  r = await rawExchange(portico.http, `POST /te HTTP/1.1${CRLF}Host: public.test${CRLF}Connection: close${CRLF}Transfer-Encoding: gzip, chunked${CRLF}${CRLF}3${CRLF}abc${CRLF}0${CRLF}${CRLF}`, { within: 3000 });
  t.equal(r.status, 400, 'a transfer coding other than chunked → 400');
  t.equal(up.requests.length, before, 'neither reached the upstream');
});

import { connect as h2connect, constants as h2 } from 'node:http2';
import t from 'tap';
import { rawExchange } from '../../helpers/raw-http.js';
import { eventually } from '../../helpers/eventually.js';
import { guardedAdminHost, proxyHost, startOwnedRecordingUpstream, startPorticoWithHosts } from '../helpers/portico-process.js';

// What an adversarial run found holding up (issue: security), kept that way against the built
// CLI: malformed framing is refused before any upstream sees it, Host-header variants never
// reach a Basic-Auth host's upstream without credentials, path tricks cannot sidestep a route,
// and HTTP/2 floods are cut without harming other clients.

const up = await startOwnedRecordingUpstream(t);
// bcrypt hash of "secret" at cost 4 (test speed; production uses 12).
const HASH = '$2b$04$SC3fHWDv7p6XbFgm0NH39uE0v1tre4jpIEC8/m.QWOAzLcBz6X8FW';
const portico = await startPorticoWithHosts(t, [
  guardedAdminHost('public.test', up.target),
  `  dev.test:
    tls: off
    basicAuth: { realm: Dev, users: { alice: "${HASH}" } }
    routes: [ { upstream: "${up.target}" } ]
`,
  proxyHost('secure.test', up.target, 'self-signed'),
]);

const CRLF = '\r\n';
const send = (text: string) => rawExchange(portico.http, text, { within: 3000 });

t.test('malformed framing → 400, nothing forwarded, process alive', async (t) => {
  const cases: Record<string, string> = {
    'CL and TE': `POST /a HTTP/1.1${CRLF}Host: public.test${CRLF}Content-Length: 4${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}0${CRLF}${CRLF}`,
    'obfuscated TE': `POST /a HTTP/1.1${CRLF}Host: public.test${CRLF}Transfer-Encoding: xchunked${CRLF}${CRLF}0${CRLF}${CRLF}`,
    'TE with space before colon': `POST /a HTTP/1.1${CRLF}Host: public.test${CRLF}Transfer-Encoding : chunked${CRLF}${CRLF}0${CRLF}${CRLF}`,
    'double CL': `POST /a HTTP/1.1${CRLF}Host: public.test${CRLF}Content-Length: 4${CRLF}Content-Length: 5${CRLF}${CRLF}abcde`,
    'bad chunk size': `POST /a HTTP/1.1${CRLF}Host: public.test${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}zz${CRLF}abc${CRLF}0${CRLF}${CRLF}`,
    'bare LF in headers': `GET /a HTTP/1.1\nHost: public.test\nX-A: b\n\n`,
    'obs-fold': `GET /a HTTP/1.1${CRLF}Host: public.test${CRLF}X-A: b${CRLF} folded${CRLF}${CRLF}`,
    'NUL in header': `GET /a HTTP/1.1${CRLF}Host: public.test${CRLF}X-A: b\0c${CRLF}${CRLF}`,
    'CR in header value': `GET /a HTTP/1.1${CRLF}Host: public.test${CRLF}X-A: b\rc${CRLF}${CRLF}`,
  };
  const before = up.requests.length;
  for (const [name, bytes] of Object.entries(cases)) {
    const r = await send(bytes);
    t.equal(r.status, 400, name);
  }
  t.equal(up.requests.length, before, 'none of them reached the upstream');
  const line = 'GET /' + 'a'.repeat(17 * 1024) + ` HTTP/1.1${CRLF}Host: public.test${CRLF}${CRLF}`;
  t.equal((await send(line)).status, 431, 'a 17 KB request line → 431');
  t.equal((await send(`GET /ok HTTP/1.1${CRLF}Host: public.test${CRLF}Connection: close${CRLF}${CRLF}`)).status, 200, 'still serving');
});

t.test('Host variants never reach a Basic-Auth host upstream without credentials', async (t) => {
  const before = up.requests.length;
  const variants = [
    'Host: dev.test',
    'Host: DEV.TEST',
    'Host: dev.test.',
    'Host: dev.test:80',
    'Host: dev.test:1',
    'Host: Dev.Test.:8080',
  ];
  for (const host of variants) {
    const r = await send(`GET /x HTTP/1.1${CRLF}${host}${CRLF}Connection: close${CRLF}${CRLF}`);
    t.equal(r.status, 401, host);
  }
  const abs = await send(`GET http://dev.test/x HTTP/1.1${CRLF}Host: public.test${CRLF}Connection: close${CRLF}${CRLF}`);
  t.equal(abs.status, 401, 'absolute-form naming the protected host');
  const twice = await send(`GET /x HTTP/1.1${CRLF}Host: public.test${CRLF}Host: dev.test${CRLF}Connection: close${CRLF}${CRLF}`);
  t.equal(twice.status, 400, 'a second Host field');
  t.equal(up.requests.length, before, 'the protected upstream saw nothing');
});

t.test('path tricks cannot sidestep a route', async (t) => {
  for (const path of ['/admin', '/api/../admin', '/api/%2e%2e/admin', '/%61dmin/x', '//admin', '/./admin/', '/api/..%2Fadmin', '/ADMIN/../admin']) {
    const r = await send(`GET ${path} HTTP/1.1${CRLF}Host: public.test${CRLF}Connection: close${CRLF}${CRLF}`);
    t.equal(r.status, 403, path);
  }
  t.notOk(up.requests.some((r) => /admin/i.test(decodeURIComponent(r.url))), 'no admin path reached the upstream');
});

t.test('HTTP/2 rapid reset and PING floods are cut; other clients are served', async (t) => {
  // Rapid reset (CVE-2023-44487): open and cancel streams as fast as possible.
  const attacker = h2connect(`https://127.0.0.1:${portico.https}`, { rejectUnauthorized: false, servername: 'secure.test' });
  attacker.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
  await new Promise<void>((resolve) => attacker.once('connect', () => resolve()));
  let opened = 0;
  for (let i = 0; i < 5000 && !attacker.destroyed && !attacker.closed; i++) {
    try {
      const s = attacker.request({ ':path': `/r${i}`, ':authority': 'secure.test' });
      s.on('error', () => undefined);
      s.close(h2.NGHTTP2_CANCEL);
      opened++;
    } catch {
      break;
    }
    if (i % 200 === 0) await new Promise((r) => setImmediate(r));
  }
  await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
  t.ok(attacker.destroyed || attacker.closed, `the rapid-reset session is closed (after ${opened} streams)`);
  t.ok(up.requests.filter((r) => r.url.startsWith('/r')).length < 1000, 'most cancelled streams never reached the upstream');

  // PING flood: pings without waiting for acknowledgements.
  const pinger = h2connect(`https://127.0.0.1:${portico.https}`, { rejectUnauthorized: false, servername: 'secure.test', maxOutstandingPings: 100_000 });
  pinger.on('error', () => undefined);
  await new Promise<void>((resolve) => pinger.once('connect', () => resolve()));
  const pingerClosed = new Promise<void>((resolve) => pinger.once('close', () => resolve()));
  for (let i = 0; i < 20_000 && !pinger.destroyed; i++) {
    try {
      pinger.ping(Buffer.alloc(8), () => undefined);
    } catch {
      break;
    }
  }
  await Promise.race([pingerClosed, new Promise((r) => setTimeout(r, 5000))]);

  // Whatever happened to them, an ordinary client is served.
  const ok = await eventually(async () => (await send(`GET /after HTTP/1.1${CRLF}Host: public.test${CRLF}Connection: close${CRLF}${CRLF}`)).status === 200, { within: 5000 });
  t.ok(ok, 'an ordinary request still succeeds');
  pinger.destroy();
  t.equal(portico.child.exitCode, null, 'the process is alive');
});

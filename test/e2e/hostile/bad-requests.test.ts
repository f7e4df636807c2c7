import t from 'tap';
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { rawExchange } from '../../helpers/raw-http.js';
import { proxyHost, startPorticoWithHosts, type PorticoProcess } from '../helpers/portico-process.js';
import { startRecordingUpstream } from '../helpers/recording-upstream.js';

// SPEC §3 "Bad input never crashes the process": requests the listener itself refuses, sent as
// raw bytes (HTTP/1) or through Node's HTTP/2 client, against the built CLI. None of them may
// reach the upstream, and each gets a response (and an access line), not a dropped socket.

const upstream = await startRecordingUpstream();
t.teardown(() => upstream.close());
const portico: PorticoProcess = await startPorticoWithHosts(t, [proxyHost('plain.test', upstream.target), proxyHost('secure.test', upstream.target, 'self-signed')]);

/** `n` header fields named x-f0…, each with a value of `size` bytes. */
function fields(n: number, size = 1): string {
  let text = '';
  for (let i = 0; i < n; i++) text += `x-f${i}: ${'v'.repeat(size)}\r\n`;
  return text;
}

async function upstreamCount(path: string): Promise<number> {
  return upstream.requests.filter((r) => r.url === path).length;
}

t.test('CONNECT gets 405 with Allow, and an access line', async (t) => {
  const r = await rawExchange(portico.http, 'CONNECT plain.test:443 HTTP/1.1\r\nHost: plain.test:443\r\n\r\n', { within: 10_000 });
  t.equal(r.status, 405, r.data.slice(0, 200));
  t.match(r.data, /\r\nallow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n/i);
  t.match(r.data, /\r\nx-content-type-options: nosniff\r\n/i);
  t.ok(r.closed, 'the connection is closed after the 405');
  await portico.waitForLog({ event: 'access', method: 'CONNECT', status: 405 });
});

t.test('an HTTP version other than 1.0/1.1 gets 505, not 500', async (t) => {
  for (const version of ['HTTP/2.0', 'HTTP/1.2', 'HTTP/3.0', 'HTTP/0.9']) {
    const r = await rawExchange(portico.http, `GET /v HTTP/${version.slice(5)}\r\nHost: plain.test\r\n\r\n`, { within: 10_000 });
    t.equal(r.status, 505, `${version}: ${r.data.slice(0, 120)}`);
  }
  const bareLf = await rawExchange(portico.http, 'GET /v HTTP/1.1\nHost: plain.test\n\n', { within: 10_000 });
  t.equal(bareLf.status, 400, 'a malformed line (bare LF after the version) is still a 400');
  t.equal(await upstreamCount('/v'), 0, 'nothing reached the upstream');
  t.same(portico.find({ event: 'internal_error' }), [], 'no internal error logged');
  t.equal(portico.child.exitCode, null, 'still running');
});

t.test('100 header fields pass; 101, 2500 fields or 17 KiB of headers get 431', async (t) => {
  const ok = await rawExchange(portico.http, `GET /h100 HTTP/1.1\r\nHost: plain.test\r\nConnection: close\r\n${fields(98)}\r\n`, { within: 10_000 });
  t.equal(ok.status, 200, 'exactly 100 fields (Host, Connection and 98 more) are served');
  const seen = upstream.requests.find((r) => r.url === '/h100');
  t.ok(seen && seen.rawHeaders.filter((_, i) => i % 2 === 0 && /^x-f\d+$/.test(seen.rawHeaders[i]!)).length === 98, 'all 98 x-f fields forwarded, none dropped');
  for (const [path, headers] of [['/h101', fields(100)], ['/h2500', fields(2499)], ['/big', fields(17, 1000)]] as const) {
    const r = await rawExchange(portico.http, `GET ${path} HTTP/1.1\r\nHost: plain.test\r\n${headers}\r\n`, { within: 10_000 });
    t.equal(r.status, 431, `${path}: ${r.data.slice(0, 120)}`);
    t.equal(await upstreamCount(path), 0, `${path} never reached the upstream`);
  }
});

t.test('HTTP/2: the same limits, and at most 128 concurrent streams', async (t) => {
  const session: ClientHttp2Session = h2connect(`https://127.0.0.1:${portico.https}`, { servername: 'secure.test', rejectUnauthorized: false });
  t.teardown(() => session.destroy());
  session.on('error', () => {});
  await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
  t.equal(session.remoteSettings.maxConcurrentStreams, 128, 'SETTINGS_MAX_CONCURRENT_STREAMS is 128');
  const ask = (path: string, extra: Record<string, string>) =>
    new Promise<{ status: number | undefined; reset: boolean }>((resolve) => {
      const stream = session.request({ ':path': path, ':authority': 'secure.test', ...extra });
      let status: number | undefined;
      stream.on('response', (h: IncomingHttpHeaders) => (status = Number(h[':status'])));
      stream.on('error', () => {});
      stream.resume();
      stream.on('close', () => resolve({ status, reset: stream.rstCode !== 0 }));
    });
  const many = (n: number, size = 1) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-f${i}`, 'v'.repeat(size)]));
  t.equal((await ask('/h2-100', many(100))).status, 200, '100 fields are served');
  for (const [path, extra] of [['/h2-101', many(101)], ['/h2-2500', many(2500)], ['/h2-big', many(17, 1000)]] as const) {
    const r = await ask(path, extra);
    t.ok(r.reset || r.status === 431, `${path}: refused (reset: ${r.reset}, status ${r.status})`);
    t.equal(await upstreamCount(path), 0, `${path} never reached the upstream`);
  }
  t.equal((await ask('/h2-after', {})).status, 200, 'the connection still serves afterwards');
});

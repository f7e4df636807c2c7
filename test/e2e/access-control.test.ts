import bcrypt from 'bcryptjs';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import t from 'tap';
import { request } from '../helpers/http-request.js';
import { rawExchange } from '../helpers/raw-http.js';
import { startUpstream } from '../helpers/start-upstream.js';
import { removeDir, startPorticoProcess } from './helpers/portico-process.js';

// SPEC §4 Access control through the built CLI: deny before allow, IPv4 and IPv6, a route's
// lists replacing its host's, the client IP behind a trusted proxy, WebSocket upgrades, and a
// refusal that comes before Basic Auth (no bcrypt) and before rate limits (no token).

interface Opts {
  readonly host: string;
  readonly headers?: OutgoingHttpHeaders;
  /** Local address to connect from (127.0.0.2 is the trusted proxy). */
  readonly from?: string;
  readonly https?: { port: number };
}

function status(port: number, path: string, opts: Opts): Promise<number> {
  return new Promise((resolve, reject) => {
    const common = { path, headers: { host: opts.host, ...opts.headers }, agent: false as const };
    const onRes = (res: import('node:http').IncomingMessage) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    };
    const req = opts.https
      ? httpsRequest({ ...common, host: '::1', port: opts.https.port, rejectUnauthorized: false, servername: opts.host }, onRes)
      : httpRequest({ ...common, host: '127.0.0.1', port, localAddress: opts.from }, onRes);
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Sends a WebSocket upgrade and returns the status line's code. */
async function upgradeStatus(port: number, path: string, host: string, from?: string, xff?: string): Promise<number> {
  const head =
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
    (xff ? `X-Forwarded-For: ${xff}\r\n` : '') +
    '\r\n';
  return (await rawExchange(port, head, { untilHead: true, localAddress: from, within: 15_000 })).status;
}

async function metric(admin: number, name: string): Promise<number> {
  const text = (await request(admin, '/metrics', { headers: { host: '127.0.0.1' } })).body;
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && !line.startsWith('#')) sum += Number(line.split(' ').pop());
  return sum;
}

t.test('access control', async (t) => {
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  upstream.server.on('upgrade', (_req, socket) => {
    socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  });
  t.teardown(() => upstream.close());
  const hash = bcrypt.hashSync('right', 10);

  const gw = await startPorticoProcess({
    config: `listen: { http: "127.0.0.1:0", https: "[::1]:0" }
admin: 127.0.0.1:0
tls: { certs: ./certs }
trustedProxies: [127.0.0.2]
hosts:
  v4.test:
    tls: off
    allow: [127.0.0.1, 203.0.113.0/24, "2001:db8::/32"]
    deny: [203.0.113.9, "2001:db8::bad"]
    routes:
      - { path: /, upstream: "${upstream.target}" }
      - { path: /admin/, upstream: "${upstream.target}", allow: [198.51.100.0/24] }
      - { path: /open/, upstream: "${upstream.target}", deny: [] }
  v6.test:
    allow: ["::1"]
    routes:
      - { path: /, upstream: "${upstream.target}" }
      - { path: /v4-only/, upstream: "${upstream.target}", allow: [127.0.0.0/8] }
  guarded.test:
    tls: off
    deny: [203.0.113.66]
    rateLimit: { rate: 1/m, burst: 2 }
    basicAuth: { users: { alice: "${hash}" } }
    routes: [ { upstream: "${upstream.target}" } ]
  paths.test:
    tls: off
    deny: [127.0.0.1]
    routes: [ { path: /only/, upstream: "${upstream.target}" } ]
`,
  });
  t.teardown(async () => {
    await gw.stop();
    await removeDir(gw.dir);
  });
  const port = gw.http;
  const viaProxy = (xff: string): Pick<Opts, 'from' | 'headers'> => ({ from: '127.0.0.2', headers: { 'x-forwarded-for': xff } });

  await t.test('IPv4: deny first, then allow; a route list replaces the host list', async (t) => {
    t.equal(await status(port, '/', { host: 'v4.test' }), 200, '127.0.0.1 is allowed on the host');
    t.equal(await status(port, '/admin/x', { host: 'v4.test' }), 403, "the route's allow replaces the host's");
    t.equal(await status(port, '/open/x', { host: 'v4.test', ...viaProxy('10.9.9.9') }), 200, 'deny: [] on a route lifts the host lists');
    t.equal(await status(port, '/', { host: 'v4.test', ...viaProxy('203.0.113.10') }), 200, 'in the allowed CIDR');
    t.equal(await status(port, '/', { host: 'v4.test', ...viaProxy('203.0.113.9') }), 403, 'deny wins over an allowed CIDR');
    t.equal(await status(port, '/', { host: 'v4.test', ...viaProxy('192.0.2.1') }), 403, 'not in allow');
    t.equal(await status(port, '/admin/x', { host: 'v4.test', ...viaProxy('198.51.100.7') }), 200, 'the route allows its own range');
    t.equal(await status(port, '/', { host: 'v4.test', ...viaProxy('198.51.100.7') }), 403, 'which the host does not');
  });

  await t.test('the client IP behind a trusted proxy, never from an untrusted peer', async (t) => {
    t.equal(await status(port, '/admin/x', { host: 'v4.test', headers: { 'x-forwarded-for': '198.51.100.7' } }), 403, "an untrusted peer's X-Forwarded-For is not believed");
    t.equal(await status(port, '/admin/x', { host: 'v4.test', ...viaProxy('198.51.100.7, 127.0.0.2') }), 200, 'trusted hops are skipped');
    t.equal(await status(port, '/', { host: 'v4.test', from: '127.0.0.2' }), 403, 'the proxy itself is not in allow');
  });

  await t.test('IPv6', async (t) => {
    t.equal(await status(port, '/', { host: 'v4.test', ...viaProxy('2001:db8::1') }), 200, 'an IPv6 client in an allowed prefix');
    t.equal(await status(port, '/', { host: 'v4.test', ...viaProxy('2001:db8:0:0::bad') }), 403, 'a denied IPv6 address, written differently');
    t.equal(await status(port, '/', { host: 'v4.test', ...viaProxy('2001:db9::1') }), 403, 'outside the prefix');
    t.equal(await status(0, '/', { host: 'v6.test', https: { port: gw.https } }), 200, 'a real ::1 peer on the IPv6 listener');
    t.equal(await status(0, '/v4-only/', { host: 'v6.test', https: { port: gw.https } }), 403, 'and refused where only IPv4 is allowed');
  });

  await t.test('WebSocket upgrades are refused too', async (t) => {
    t.equal(await upgradeStatus(port, '/', 'v4.test'), 101, 'an allowed client is tunnelled');
    t.equal(await upgradeStatus(port, '/admin/ws', 'v4.test'), 403, 'a refused client gets 403 on the upgrade');
    t.equal(await upgradeStatus(port, '/admin/ws', 'v4.test', '127.0.0.2', '198.51.100.7'), 101, 'behind the trusted proxy too');
  });

  await t.test('a path no route matches is refused by the host lists, not answered 404', async (t) => {
    t.equal(await status(port, '/nope', { host: 'paths.test' }), 403);
  });

  await t.test('403 comes before Basic Auth (no bcrypt) and before rate limits (no token)', async (t) => {
    const basic = (pw: string) => ({ authorization: `Basic ${Buffer.from(`alice:${pw}`).toString('base64')}` });
    const failuresBefore = await metric(gw.admin, 'portico_auth_failures_total');
    for (let i = 0; i < 5; i++) {
      const s = await status(port, '/', { host: 'guarded.test', from: '127.0.0.2', headers: { 'x-forwarded-for': '203.0.113.66', ...basic('wrong') } });
      t.equal(s, 403, `refused request ${i + 1}: 403, never 401 or 429`);
    }
    t.equal(await metric(gw.admin, 'portico_auth_failures_total'), failuresBefore, 'no credential was checked for a refused client');
    t.equal(await metric(gw.admin, 'portico_rate_limited_total'), 0, 'and no rate limit saw it');
    // The same host for an allowed client: the counters do move, so the checks above can fail.
    t.equal(await status(port, '/', { host: 'guarded.test', from: '127.0.0.2', headers: { 'x-forwarded-for': '203.0.113.67', ...basic('wrong') } }), 401);
    t.equal(await metric(gw.admin, 'portico_auth_failures_total'), failuresBefore + 1, 'a wrong password from an allowed client runs bcrypt');
    t.equal(await status(port, '/', { host: 'guarded.test', from: '127.0.0.2', headers: { 'x-forwarded-for': '203.0.113.67', ...basic('right') } }), 200);
    t.equal(await status(port, '/', { host: 'guarded.test', from: '127.0.0.2', headers: { 'x-forwarded-for': '203.0.113.67', ...basic('right') } }), 429, 'its burst of 2 is spent');
  });
});

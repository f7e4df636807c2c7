import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { startPortico } from '../helpers/start-portico.js';
import { startUpstream } from '../helpers/start-upstream.js';

// Listen and admin addresses follow routes.yaml on reload, as nginx's listen does: the new
// address is bound first (a failure rejects the reload and changes nothing), then the old
// listener stops accepting while its requests in flight finish.

// New addresses are other loopback addresses with port 0 (Linux routes all of 127.0.0.0/8 to
// lo), so every bind is the OS's choice: no port is probed and then reused.
function preamble(http: string, https: string, admin: string): string {
  return `listen: { http: "${http}", https: "${https}" }
admin: ${admin}
tls: { certs: ./certs }
`;
}
const LO = '127.0.0.1:0';

/** Listening TCP sockets of this process's network namespace on `address` (from /proc/net/tcp). */
async function listenersOn(address: string): Promise<number> {
  const hex = address.split('.').reverse().map((b) => Number(b).toString(16).padStart(2, '0')).join('').toUpperCase();
  const table = await readFile('/proc/net/tcp', 'utf8');
  return table.split('\n').filter((line) => {
    const cols = line.trim().split(/\s+/);
    return cols[1]?.startsWith(`${hex}:`) && cols[3] === '0A';
  }).length;
}

const slowUp = await startUpstream((req, res) => {
  const delay = req.url === '/slow' ? 400 : 0;
  setTimeout(() => res.end(`up ${req.url}`), delay);
});
t.teardown(() => slowUp.close());

const hosts = (body: string) => `hosts:
  move.test:
    tls: off
    routes:
      - { path: /own, respond: { status: 200, body: "${body}" } }
      - { upstream: "${slowUp.target}" }
  secure.test:
    tls: self-signed
    routes: [ { respond: { status: 200, body: "secure" } } ]
`;

t.test('http, https and admin move to new ports on reload; in-flight requests finish on the old', async (t) => {
  const portico = await startPortico(hosts('one'), { preamble: preamble(LO, LO, LO), watch: false });
  t.teardown(() => portico.close());
  const old = portico.gateway.ports();
  const inFlight = request(old.http, '/slow', { headers: { host: 'move.test' } });
  await eventually(() => slowUp.requests.some((r) => r.url === '/slow') || undefined, { message: 'slow request reached the upstream' });

  const address = '127.0.0.2';
  await portico.replaceConfig(preamble(`${address}:0`, `${address}:0`, `${address}:0`) + hosts('two'));
  const result = await portico.gateway.reload('test');
  t.match(result, { ok: true });
  const { http, https, admin } = portico.gateway.ports();
  t.equal(await listenersOn(address), 3, 'serving on the new address');

  t.equal((await request(http, '/own', { address, headers: { host: 'move.test' } })).body, 'two', 'new http port, new routes');
  t.equal((await request(https, '/', { address, https: true, headers: { host: 'secure.test' } })).body, 'secure', 'new https port, TLS with SNI');
  t.equal((await request(admin!, '/healthz', { address, headers: { host: '127.0.0.1' } })).status, 200, 'new admin port');
  const redirect = await request(http, '/x', { address, headers: { host: 'secure.test' } });
  t.equal(redirect.headers.location, `https://secure.test:${https}/x`, 'redirects name the new https port');

  const finished = await inFlight;
  t.equal(finished.status, 200, 'the request in flight on the old port finished');
  t.equal(finished.body, 'up /slow');
  for (const port of [old.http, old.https, old.admin!]) {
    const refused = await request(port, '/', { headers: { host: 'move.test' } }).then(() => false, (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
    t.ok(refused, `old port ${port} no longer accepts`);
  }
  const moved = portico.logs.filter({ event: 'listening' }).map((l) => l.moved).filter(Boolean);
  t.same(moved, [['http', 'https', 'admin']], 'the move is logged once');
});

t.test('a reload whose port is taken is rejected; the old listeners and routes keep serving', async (t) => {
  const portico = await startPortico(hosts('one'), { preamble: preamble(LO, LO, LO), watch: false });
  t.teardown(() => portico.close());
  const before = portico.gateway.ports();
  const squatter: Server = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const taken = (squatter.address() as { port: number }).port;
  const newHttp = '127.0.0.3';

  // http is bound first, then admin fails: the new http listener must be closed again.
  await portico.replaceConfig(preamble(`${newHttp}:0`, LO, `127.0.0.1:${taken}`) + hosts('two'));
  const result = await portico.gateway.reload('test');
  t.match(result, { ok: false, message: new RegExp(`cannot listen on 127\\.0\\.0\\.1:${taken} \\(admin\\): .*EADDRINUSE`) });
  t.same(portico.gateway.ports(), before, 'the same ports');
  t.equal((await request(before.http, '/own', { headers: { host: 'move.test' } })).body, 'one', 'the old routes');
  await eventually(async () => (await listenersOn(newHttp)) === 0, { message: 'the http listener bound for the failed reload was closed again' });
  t.pass('the http listener bound for the failed reload was closed again');
  t.equal((await request(before.admin!, '/healthz', { headers: { host: '127.0.0.1' } })).status, 200, 'the old admin port');
});

import { createServer, type Server } from 'node:net';
import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { startPortico } from '../helpers/start-portico.js';
import { startUpstream } from '../helpers/start-upstream.js';

// Listen and admin addresses follow routes.yaml on reload, as nginx's listen does: the new
// address is bound first (a failure rejects the reload and changes nothing), then the old
// listener stops accepting while its requests in flight finish.

/** A port the OS just handed out and that nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function preamble(http: number | 0, https: number | 0, admin: number | 0): string {
  return `listen: { http: "127.0.0.1:${http}", https: "127.0.0.1:${https}" }
admin: 127.0.0.1:${admin}
tls: { certs: ./certs }
`;
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
  const portico = await startPortico(hosts('one'), { preamble: preamble(0, 0, 0), watch: false });
  t.teardown(() => portico.close());
  const old = portico.gateway.ports();
  const inFlight = request(old.http, '/slow', { headers: { host: 'move.test' } });
  await eventually(() => slowUp.requests.some((r) => r.url === '/slow') || undefined, { message: 'slow request reached the upstream' });

  const [http, https, admin] = [await freePort(), await freePort(), await freePort()];
  await portico.replaceConfig(preamble(http, https, admin) + hosts('two'));
  const result = await portico.gateway.reload('test');
  t.match(result, { ok: true });
  t.same(portico.gateway.ports(), { http, https, admin }, 'serving on the new ports');

  t.equal((await request(http, '/own', { headers: { host: 'move.test' } })).body, 'two', 'new http port, new routes');
  t.equal((await request(https, '/', { https: true, headers: { host: 'secure.test' } })).body, 'secure', 'new https port, TLS with SNI');
  t.equal((await request(admin, '/healthz', { headers: { host: '127.0.0.1' } })).status, 200, 'new admin port');
  const redirect = await request(http, '/x', { headers: { host: 'secure.test' } });
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
  const portico = await startPortico(hosts('one'), { preamble: preamble(0, 0, 0), watch: false });
  t.teardown(() => portico.close());
  const before = portico.gateway.ports();
  const squatter: Server = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const taken = (squatter.address() as { port: number }).port;
  const freeHttp = await freePort();

  // http is bound first, then admin fails: the new http listener must be closed again.
  await portico.replaceConfig(preamble(freeHttp, 0, taken) + hosts('two'));
  const result = await portico.gateway.reload('test');
  t.match(result, { ok: false, message: new RegExp(`cannot listen on 127\\.0\\.0\\.1:${taken} \\(admin\\): .*EADDRINUSE`) });
  t.same(portico.gateway.ports(), before, 'the same ports');
  t.equal((await request(before.http, '/own', { headers: { host: 'move.test' } })).body, 'one', 'the old routes');
  const httpRefused = await request(freeHttp, '/own', { headers: { host: 'move.test' } }).then(() => false, (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
  t.ok(httpRefused, 'the http listener bound for the failed reload was closed again');
  t.equal((await request(before.admin!, '/healthz', { headers: { host: '127.0.0.1' } })).status, 200, 'the old admin port');
});

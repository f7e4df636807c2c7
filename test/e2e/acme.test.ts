import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { eventually } from '../helpers/eventually.js';
import { startPebble, type PebbleProcess } from '../helpers/start-pebble.js';
import { startRedis } from '../helpers/start-redis.js';
import { removeDir, startPorticoProcess, type LogLine, type PorticoProcess } from './helpers/portico-process.js';
import { startTraffic, type Traffic } from './helpers/traffic.js';

// Names no system resolver knows: only pebble-challtestsrv (Pebble's DNS) answers for them.
// Portico must never need to resolve them itself (SPEC §3 ACME).
const APP = 'app.e2e.test';
const ISSUANCE_MS = 30_000;

interface Served {
  readonly serial: string;
  readonly issuer: string;
}

/** The certificate Portico presents for `servername` over TLS with SNI. */
function served(port: number, servername: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const cert = new X509Certificate(socket.getPeerCertificate().raw);
      socket.destroy();
      resolve({ serial: cert.serialNumber, issuer: cert.issuer });
    });
    socket.on('error', reject);
  });
}

/** Resolves with the certificate once Pebble's intermediate issued the one served for `name`. */
function pebbleCertificate(port: number, name: string, notSerial?: string): Promise<Served> {
  return eventually(async () => {
    const cert = await served(port, name);
    return /Pebble Intermediate/.test(cert.issuer) && cert.serial !== notSerial ? cert : undefined;
  }, { within: ISSUANCE_MS, message: `a Pebble certificate for ${name}${notSerial ? ` other than ${notSerial}` : ''}` });
}

async function startApp(t: Tap): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('app\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function adminPost(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, method: 'POST' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject).end();
  });
}

interface Tap {
  teardown(fn: () => unknown): void;
}

interface ConfigOptions {
  readonly app: string;
  readonly pebble?: PebbleProcess;
  readonly renewBefore?: string;
  readonly redis?: string;
  readonly extraHosts?: readonly string[];
}

/** routes.yaml on loopback ports 0; without `pebble`, no ACME (the hosts get self-signed certificates). */
function config(o: ConfigOptions): string {
  const acme = o.pebble
    ? `\n  acme: { email: ops@e2e.test, directory: "${o.pebble.directoryUrl}", caFile: "${o.pebble.caFile}", renewBefore: ${o.renewBefore ?? '30d'} }`
    : '';
  const hosts = [APP, ...(o.extraHosts ?? [])].map((h) => `  ${h}:\n    routes: [ { upstream: "${o.app}" } ]\n`).join('');
  return `listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" }
admin: 127.0.0.1:0
tls:
  certs: ./certs${acme}
${o.redis ? `redis: { url: "${o.redis}", prefix: "e2e:" }\n` : ''}log: { level: info, access: false }
hosts:
${hosts}`;
}

async function start(t: Tap, o: ConfigOptions & { dir?: string }): Promise<PorticoProcess> {
  const portico = await startPorticoProcess({ config: config(o), ...(o.dir ? { dir: o.dir } : {}) });
  t.teardown(() => portico.stop());
  return portico;
}

const issued = (p: PorticoProcess, host = APP) => p.find((l) => l.event === 'certificate' && l.action === 'issued' && l.host === host);
/** Waits until `n` issued lines are logged (lines arrive up to ~1 s after the event), then counts them. */
async function issuedCount(p: PorticoProcess, n: number, host = APP): Promise<number> {
  await eventually(() => issued(p, host).length >= n, { within: 5_000, message: `${n} issued line(s) for ${host}` });
  return issued(p, host).length;
}
const ordering = (p: PorticoProcess) => p.find((l) => l.event === 'certificate' && l.result === 'ordering');

function httpsTraffic(t: Tap, portico: PorticoProcess): Traffic {
  const traffic = startTraffic({ port: portico.https, host: APP, tls: { servername: APP }, concurrency: 2, intervalMs: 50 });
  t.teardown(() => traffic.stop());
  return traffic;
}

t.test('ACME with Pebble and names only Pebble can resolve: issue, renew live, refuse, reuse after restart', async (t) => {
  const app = await startApp(t);
  // Portico first (its http port is known only once it listens), then Pebble validating on that port.
  const first = await start(t, { app });
  const pebble = await startPebble({ httpPort: first.http });
  t.teardown(() => pebble.stop());
  const traffic = httpsTraffic(t, first);
  await eventually(() => traffic.results.length > 5, { message: 'HTTPS traffic flowing' });

  // Issuance, switched on by a reload, while HTTPS traffic runs.
  const started = Date.now();
  await first.writeConfig(config({ app, pebble }));
  const cert = await pebbleCertificate(first.https, APP);
  t.comment(`issued and served ${Date.now() - started} ms after the reload`);
  t.match(cert.issuer, /Pebble Intermediate/, 'served over TLS with SNI, issued by Pebble');
  t.equal(await issuedCount(first, 1), 1, 'one order');

  // Live renewal: renewBefore longer than the certificate's lifetime makes it due at once.
  await first.writeConfig(config({ app, pebble, renewBefore: '36500d' }));
  const renewed = await pebbleCertificate(first.https, APP, cert.serial);
  t.equal(await issuedCount(first, 2), 2, 'renewed once, not in a loop');
  t.not(renewed.serial, cert.serial, 'the new certificate is served without a restart');

  // A name Pebble cannot validate (its DNS points at an address nothing listens on): the CA's
  // reason is logged well within 2 minutes, with a retry scheduled.
  await pebble.setDnsA('bad.e2e.test', ['127.0.0.2']);
  const badSince = Date.now();
  await first.writeConfig(config({ app, pebble, renewBefore: '36500d', extraHosts: ['bad.e2e.test'] }));
  const failure = await first.waitForLog((l) => l.event === 'certificate' && l.result === 'error' && l.host === 'bad.e2e.test', 120_000);
  const message = String((failure.err as LogLine | undefined)?.message ?? '');
  t.comment(`failed after ${Date.now() - badSince} ms: ${message}`);
  t.match(message, /127\.0\.0\.2/, 'the CA\'s reason, naming the address it tried');
  t.match(failure, { attempt: 1, retryInMs: Number }, 'retried with backoff');
  t.equal((await served(first.https, APP)).serial, renewed.serial, 'the good host keeps its certificate');
  t.equal(issued(first).length, 2, 'still two orders for the good host: no renewal loop');

  const { total, failures } = await traffic.stop();
  t.ok(total > 20, `${total} HTTPS requests across issuance, renewal and the failed order`);
  t.same(failures, [], 'zero failed HTTPS requests');

  // Restart on the same certs directory: the stored certificate is served, no new order.
  await first.stop();
  const second = await start(t, { app, pebble, dir: first.dir });
  t.teardown(() => removeDir(first.dir));
  await second.waitForLog((l) => l.event === 'certificate' && l.host === APP && l.temporary === false);
  t.equal((await served(second.https, APP)).serial, renewed.serial, 'the stored certificate, at once');
  // The renewal check runs as soon as the listener is up; a reload's log line comes after any
  // "ordering" line it would have written, so its absence then means no order was started.
  await adminPost(second.admin, '/reload');
  await second.waitForLog({ event: 'reload', result: 'ok' });
  t.same(ordering(second), [], 'no new order after a restart');
});

t.test('two instances on one Redis: one order, both serve the certificate', async (t) => {
  const app = await startApp(t);
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const a = await start(t, { app, redis: redis.url });
  const b = await start(t, { app, redis: redis.url });
  t.teardown(async () => {
    await removeDir(a.dir);
    await removeDir(b.dir);
  });
  // Pebble validates on A's port only: if B takes the order, A answers B's challenge from Redis.
  const pebble = await startPebble({ httpPort: a.http });
  t.teardown(() => pebble.stop());
  const trafficA = httpsTraffic(t, a);
  const trafficB = httpsTraffic(t, b);

  await Promise.all([a.writeConfig(config({ app, pebble, redis: redis.url })), b.writeConfig(config({ app, pebble, redis: redis.url }))]);
  const [certA, certB] = await Promise.all([pebbleCertificate(a.https, APP), pebbleCertificate(b.https, APP)]);
  t.equal(certA.serial, certB.serial, 'both serve the same certificate');
  await eventually(() => issued(a).length + issued(b).length >= 1, { within: 5_000, message: 'the issued line' });
  t.equal(issued(a).length + issued(b).length, 1, 'exactly one order between the two');

  const results = await Promise.all([trafficA.stop(), trafficB.stop()]);
  t.same(results.flatMap((r) => r.failures), [], 'zero failed HTTPS requests on either instance');
});

import t from 'tap';
import { startPebble } from '../helpers/start-pebble.js';
import { removeDir, type LogLine } from './helpers/portico-process.js';
import { APP, adminPost, config, httpsTraffic, issued, issuedCount, ordering, pebbleCertificate, served, start, startApp } from './helpers/acme-scenario.js';
import { eventually } from '../helpers/eventually.js';

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

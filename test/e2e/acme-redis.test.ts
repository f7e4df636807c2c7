import t from 'tap';
import { startPebble } from '../helpers/start-pebble.js';
import { startRedis } from '../helpers/start-redis.js';
import { eventually } from '../helpers/eventually.js';
import { removeDir } from './helpers/portico-process.js';
import { APP, config, httpsTraffic, issued, pebbleCertificate, start, startApp } from './helpers/acme-scenario.js';

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

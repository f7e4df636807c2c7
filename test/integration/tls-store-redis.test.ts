import t from 'tap';
import path from 'node:path';
import { Redis } from 'ioredis';
import { FileCertStore } from '../../src/tls/file-cert-store.js';
import { LayeredCertStore } from '../../src/tls/layered-cert-store.js';
import { RedisCertStore } from '../../src/tls/redis-cert-store.js';
import { RedisChallengeStore } from '../../src/tls/redis-challenge-store.js';
import { startRedis } from '../helpers/start-redis.js';
import { eventually } from '../helpers/eventually.js';
import { createLogSink } from '../helpers/log-sink.js';

t.test('Redis certificate and challenge stores', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  // enableOfflineQueue false, as Portico's connection: an outage fails fast instead of queueing.
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 50 });
  client.on('error', () => undefined);
  t.teardown(() => client.disconnect());
  await eventually(() => client.status === 'ready', { message: 'redis connection' });
  const store = new RedisCertStore({ client, prefix: 'p1:' });

  await t.test('store, load, list under the prefix', async (t) => {
    t.equal(await store.load('acme/a.test.crt'), undefined);
    await store.store('acme/a.test.crt', Buffer.from('CERT'));
    await store.store('acme/a.test.key', Buffer.from([0, 1, 2, 255]));
    await store.store('self-signed/b.test.crt', Buffer.from('X'));
    await new RedisCertStore({ client, prefix: 'p2:' }).store('acme/other.crt', Buffer.from('Y'));
    t.equal((await store.load('acme/a.test.crt'))?.toString(), 'CERT');
    t.same(await store.load('acme/a.test.key'), Buffer.from([0, 1, 2, 255]), 'binary-safe');
    t.same(await store.list('acme/'), ['acme/a.test.crt', 'acme/a.test.key'], 'other prefixes are invisible');
  });

  await t.test('lock: exclusive, expires, released only by its owner', async (t) => {
    const first = await store.lock('acme/a.test', 60_000);
    t.ok(first);
    t.equal(await store.lock('acme/a.test', 60_000), undefined, 'held');
    await first?.release();
    const short = await store.lock('acme/a.test', 30);
    t.ok(short);
    const next = await eventually(() => store.lock('acme/a.test', 60_000), { message: 'lock expiry' });
    await short?.release(); // the expired holder must not delete the new lock
    t.equal(await store.lock('acme/a.test', 60_000), undefined, 'still held by the new owner');
    await next.release();
    t.ok(await store.lock('acme/a.test', 60_000), 'free after the owner released it');
  });

  await t.test('lock refresh: extends a held lock, refused once it lapsed or changed owner', async (t) => {
    const held = (await store.lock('acme/r.test', 150))!;
    const until = Date.now() + 400;
    while (Date.now() < until) {
      t.equal(await held.refresh(150), true, 'refreshed while held');
      if (await store.lock('acme/r.test', 60_000)) return t.fail('taken while refreshed past its first TTL');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    t.ok(Number(await client.pttl('p1:certlocks:acme/r.test')) > 0, 'still held after 400 ms on a 150 ms lock');
    await held.release();
    const lapsing = (await store.lock('acme/r.test', 30))!;
    const taker = await eventually(() => store.lock('acme/r.test', 60_000), { message: 'lock expiry' });
    t.equal(await lapsing.refresh(60_000), false, 'the old holder cannot refresh the new lock');
    t.equal(await taker.refresh(60_000), true);
    await taker.release();
  });

  await t.test('challenge tokens are shared and expire', async (t) => {
    const a = new RedisChallengeStore({ client, prefix: 'p1:' });
    const b = new RedisChallengeStore({ client, prefix: 'p1:', ttlMs: 30 });
    await a.set('tok', 'tok.auth');
    t.equal(await b.get('tok'), 'tok.auth', 'visible to another instance');
    await a.remove('tok');
    t.equal(await b.get('tok'), undefined, 'removed');
    await b.set('short', 'short.auth');
    await eventually(async () => (await a.get('short')) === undefined, { message: 'ttl expiry' });
    t.pass('expired');
  });

  await t.test('layered store: mirrors writes, reads the mirror while Redis is down', async (t) => {
    const { logger: log, lines } = createLogSink();
    const mirror = new FileCertStore(path.join(t.testdir(), 'certs'));
    const layered = new LayeredCertStore({ shared: store, mirror, log });
    await layered.store('acme/m.test.crt', Buffer.from('M1'));
    t.equal((await mirror.load('acme/m.test.crt'))?.toString(), 'M1', 'written to the mirror');
    await store.store('acme/m.test.crt', Buffer.from('M2')); // another instance renewed it
    t.equal((await layered.load('acme/m.test.crt'))?.toString(), 'M2', 'shared store wins');
    t.equal((await mirror.load('acme/m.test.crt'))?.toString(), 'M2', 'mirror repaired on read');
    await redis.stop();
    t.equal((await layered.load('acme/m.test.crt'))?.toString(), 'M2', 'served from the mirror during the outage');
    t.ok(lines.some((l) => l.code === 'PORTICO_STORE_UNAVAILABLE'), 'outage logged');
    await t.rejects(layered.store('acme/n.test.crt', Buffer.from('N')), 'a failed shared write is reported');
    t.equal((await mirror.load('acme/n.test.crt'))?.toString(), 'N', 'but the certificate is kept locally');
  });
});

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

  // Store, list, lock and refresh are in cert-store-contract.test.ts; here is what only the
  // Redis store does: key prefixes and where the lock lives.
  await t.test('each prefix is its own store', async (t) => {
    await store.store('acme/a.test.crt', Buffer.from('CERT'));
    await new RedisCertStore({ client, prefix: 'p2:' }).store('acme/other.crt', Buffer.from('Y'));
    t.same(await store.list('acme/'), ['acme/a.test.crt'], 'other prefixes are invisible');
    t.equal((await client.getBuffer('p1:certs:acme/a.test.crt'))?.toString(), 'CERT', 'value at PREFIX certs:KEY');
  });

  await t.test('a lock is PREFIX certlocks:KEY with its TTL, extended by refresh', async (t) => {
    const held = (await store.lock('acme/r.test', 5_000))!;
    const before = Number(await client.pttl('p1:certlocks:acme/r.test'));
    t.ok(before > 0 && before <= 5_000, `PTTL ${before}`);
    t.equal(await held.refresh(60_000), true);
    t.ok(Number(await client.pttl('p1:certlocks:acme/r.test')) > 5_000, 'refresh sets the new TTL');
    await held.release();
    t.equal(await client.exists('p1:certlocks:acme/r.test'), 0, 'released');
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

import t from 'tap';
import path from 'node:path';
import { Redis } from 'ioredis';
import { FileCertStore } from '../../src/tls/file-cert-store.js';
import { RedisCertStore } from '../../src/tls/redis-cert-store.js';
import { certStoreContract } from '../helpers/cert-store-contract.js';
import { startRedis } from '../helpers/start-redis.js';

// One set of CertStore promises, run against every implementation. What only one store does
// (file modes, key prefixes) stays in that store's own tests.

t.test('FileCertStore', (t) =>
  certStoreContract(t, async (t) => {
    const dir = path.join(t.testdir(), 'certs');
    return { open: () => new FileCertStore(dir) };
  }),
);

t.test('RedisCertStore', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  let run = 0;
  await certStoreContract(t, async (t) => {
    // A fresh prefix per case is fresh storage; each handle has its own connection, as a
    // second Portico instance would.
    const prefix = `contract${++run}:`;
    return {
      open: () => {
        const client = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: true });
        client.on('error', () => undefined);
        t.teardown(() => client.disconnect());
        return new RedisCertStore({ client, prefix });
      },
    };
  });
});

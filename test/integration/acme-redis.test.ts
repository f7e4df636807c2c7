import t from 'tap';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createCertificateManager, type CertificateManager } from '../../src/tls/certificate-manager.js';
import { FileCertStore } from '../../src/tls/file-cert-store.js';
import { LayeredCertStore } from '../../src/tls/layered-cert-store.js';
import { RedisCertStore } from '../../src/tls/redis-cert-store.js';
import { RedisChallengeStore } from '../../src/tls/redis-challenge-store.js';
import { startPebble } from '../helpers/start-pebble.js';
import { startRedis } from '../helpers/start-redis.js';
import { tlsConfig, tlsHost } from '../helpers/tls-config.js';
import { eventually } from '../helpers/eventually.js';
import { createLogSink } from '../helpers/log-sink.js';
import { presentedCertificate, startTlsServer } from '../helpers/tls-probe.js';


interface Instance {
  readonly manager: CertificateManager;
  readonly lines: Record<string, unknown>[];
  readonly certs: string;
}

t.test('two instances sharing Redis obtain one certificate; either answers the challenge', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const dir = t.testdir();
  const instances: Instance[] = [];
  const answeredBy: number[] = [];

  // The CA's validation request may reach any instance: answer through the one that did NOT order.
  const server = http.createServer((req, res) => {
    const token = /^\/\.well-known\/acme-challenge\/([^/?]+)$/.exec(req.url ?? '')?.[1] ?? '';
    const orderer = instances.findIndex((i) => i.lines.some((l) => l.result === 'ordering'));
    const other = orderer === 0 ? 1 : 0;
    answeredBy.push(other);
    void (instances[other]?.manager.challengeResponse(token) ?? Promise.resolve(undefined)).then((answer) => {
      res.writeHead(answer ? 200 : 404).end(answer ?? 'not found');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const httpPort = (server.address() as AddressInfo).port;
  const pebble = await startPebble({ httpPort, dir });
  t.teardown(() => pebble.stop());

  const hosts = [tlsHost('shared.test', { kind: 'acme' }, ['www.shared.test'])];
  const acme = { email: 'ops@example.test', directoryUrl: pebble.directoryUrl, caFile: pebble.caFile, renewBeforeMs: 30 * 86_400_000 };
  for (const name of ['a', 'b']) {
    // One client per instance, as separate processes would have.
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    t.teardown(() => client.quit());
    const certs = path.join(dir, name);
    const sink = createLogSink();
    const store = new LayeredCertStore({ shared: new RedisCertStore({ client, prefix: 'portico:' }), mirror: new FileCertStore(certs), log: sink.logger });
    const manager = createCertificateManager({
      log: sink.logger, store, challenges: new RedisChallengeStore({ client, prefix: 'portico:' }),
      acmePollMs: 50, backoffBaseMs: 50, lockPollMs: 50,
    });
    t.teardown(() => manager.close());
    instances.push({ manager, lines: sink.lines, certs });
  }
  await Promise.all(instances.map(async ({ manager }) => {
    await manager.apply(tlsConfig(path.join(dir, 'unused'), hosts, acme));
    manager.setHttpListener({ address: '127.0.0.1', port: httpPort }); // both start ordering at the same moment
  }));

  const serials = await eventually(() => {
    const found = instances.map((i) => i.manager.status()[0]);
    return found.every((s) => s && !s.temporary) ? found.map((s) => s?.serial) : undefined;
  }, { message: 'both instances serve a real certificate', within: 20_000 });
  t.equal(serials[0], serials[1], 'the same certificate on both');
  const orders = instances.map((i) => i.lines.filter((l) => l.result === 'ordering').length);
  t.same(orders.slice().sort(), [0, 1], 'exactly one order across both instances');
  t.ok(answeredBy.length > 0 && answeredBy.every((i) => orders[i] === 0), 'challenges answered by the instance that did not order');

  for (const instance of instances) {
    const server = await startTlsServer(instance.manager);
    t.teardown(() => server.close());
    t.equal((await presentedCertificate(server.port, 'www.shared.test')).serialNumber, serials[0], 'served by both');
    const mirrored = await eventually(() => fs.readdir(path.join(instance.certs, 'acme')).catch(() => undefined), { message: 'mirror' });
    t.ok(mirrored.includes('shared.test.crt') && mirrored.includes('shared.test.key'), 'local mirror holds the certificate');
  }
});

import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import type { AcmeConfig } from '../../src/config/config-types.js';
import type { CertStore } from '../../src/tls/cert-store.js';
import { createCertificateManager, type CertificateManager } from '../../src/tls/certificate-manager.js';
import { FileCertStore } from '../../src/tls/file-cert-store.js';
import { createMemoryChallengeStore } from '../../src/tls/memory-challenge-store.js';
import { startPebble, type PebbleProcess } from '../helpers/start-pebble.js';
import { tlsConfig, tlsHost } from '../helpers/tls-config.js';
import { eventually } from '../helpers/eventually.js';
import { createLogSink } from '../helpers/log-sink.js';
import { presentedCertificate, startTlsServer } from '../helpers/tls-probe.js';

const DAY = 86_400_000;

/** Stands in for Portico's HTTP listener: answers HTTP-01 from whichever manager `pick` returns. */
async function startChallengeServer(t: Tap, pick: () => CertificateManager | undefined): Promise<number> {
  const server = http.createServer((req, res) => {
    const token = /^\/\.well-known\/acme-challenge\/([^/?]+)$/.exec(req.url ?? '')?.[1];
    const manager = pick();
    void (token && manager ? manager.challengeResponse(token) : Promise.resolve(undefined)).then((answer) => {
      res.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain' }).end(answer ?? 'not found');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

interface Tap {
  teardown(fn: () => unknown): void;
}

function acmeFor(pebble: PebbleProcess, renewBeforeMs = 30 * DAY): AcmeConfig {
  return { email: 'ops@example.test', directoryUrl: pebble.directoryUrl, caFile: pebble.caFile, renewBeforeMs };
}

function newManager(t: Tap, store: CertStore, httpPort: number, extra: { backoffBaseMs?: number } = {}) {
  const sink = createLogSink();
  const manager = createCertificateManager({ log: sink.logger, store, challenges: createMemoryChallengeStore(), acmePollMs: 50, backoffBaseMs: extra.backoffBaseMs ?? 50 });
  manager.setHttpListener({ address: '127.0.0.1', port: httpPort });
  t.teardown(() => manager.close());
  return { manager, lines: sink.lines };
}

/** Connects verifying the chain against Pebble's root and the name: what a browser would do. */
function verifiedConnect(port: number, servername: string, rootPem: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca: rootPem }, () => {
      socket.destroy();
      resolve();
    });
    socket.on('error', reject);
  });
}

const hosts = [tlsHost('example.test', { kind: 'acme' }, ['www.example.test'])];
const serialOf = (m: CertificateManager): string | undefined => m.status().find((s) => !s.temporary)?.serial;

t.test('ACME with Pebble: issue, reuse, renew, survive an outage', async (t) => {
  let current: CertificateManager | undefined;
  const httpPort = await startChallengeServer(t, () => current);
  const dir = t.testdir();
  const pebble = await startPebble({ httpPort, dir });
  t.teardown(() => pebble.stop());
  const certs = path.join(dir, 'certs');
  const store = new FileCertStore(certs);
  let firstSerial = '';

  await t.test('issues a certificate for the host and its alias', async (t) => {
    const started = Date.now();
    const { manager, lines } = newManager(t, store, httpPort);
    current = manager;
    await manager.apply(tlsConfig(certs, hosts, acmeFor(pebble)));
    const server = await startTlsServer(manager);
    t.teardown(() => server.close());
    t.ok(manager.status()[0]?.temporary, 'temporary certificate until issuance');
    firstSerial = await eventually(() => serialOf(manager), { message: 'issuance', within: 20_000 });
    t.comment(`issued in ${Date.now() - started} ms`);
    const served = await presentedCertificate(server.port, 'www.example.test');
    t.equal(served.serialNumber, firstSerial, 'served via SNI, swapped in live');
    t.equal(served.subjectAltName?.split(', ').sort().join(', '), 'DNS:example.test, DNS:www.example.test');
    await verifiedConnect(server.port, 'www.example.test', pebble.rootPem);
    await verifiedConnect(server.port, 'example.test', pebble.rootPem);
    t.pass('chain verifies against Pebble\'s root');
    t.match(manager.status()[0], { host: 'example.test', source: 'acme', temporary: false, issuer: /^Pebble Intermediate CA/ });
    t.same((await fs.readdir(path.join(certs, 'acme'))).sort(), ['account.key', 'example.test.crt', 'example.test.key']);
    t.equal((await fs.stat(path.join(certs, 'acme', 'example.test.key'))).mode & 0o777, 0o600);
    t.equal((await fs.stat(path.join(certs, 'acme', 'account.key'))).mode & 0o777, 0o600);
    const chain = await fs.readFile(path.join(certs, 'acme', 'example.test.crt'), 'utf8');
    t.ok((chain.match(/BEGIN CERTIFICATE/g) ?? []).length >= 2, 'full chain stored');
    t.equal(lines.filter((l) => l.action === 'issued').length, 1, 'one order');
  });

  await t.test('a restarted instance reuses the stored certificate', async (t) => {
    const { manager, lines } = newManager(t, store, httpPort);
    current = manager;
    await manager.apply(tlsConfig(certs, hosts, acmeFor(pebble)));
    t.equal(serialOf(manager), firstSerial, 'same serial at once');
    t.notOk(lines.some((l) => l.result === 'ordering'), 'no new order');
  });

  await t.test('renewBefore longer than the lifetime: renewed and swapped live', async (t) => {
    const { manager, lines } = newManager(t, store, httpPort);
    current = manager;
    await manager.apply(tlsConfig(certs, hosts, acmeFor(pebble, 100 * 365 * DAY)));
    const server = await startTlsServer(manager);
    t.teardown(() => server.close());
    const renewed = await eventually(async () => {
      const serial = (await presentedCertificate(server.port, 'example.test')).serialNumber;
      return serial !== firstSerial ? serial : undefined;
    }, { message: 'renewal', within: 20_000 });
    t.not(renewed, firstSerial, 'new serial served');
    t.equal(new X509Certificate(await fs.readFile(path.join(certs, 'acme', 'example.test.crt'))).serialNumber, renewed, 'stored');
    t.equal(lines.filter((l) => l.action === 'issued').length, 1, 'renewed once, not in a loop');
    firstSerial = renewed;
  });

  await t.test('a CA that refuses every request: errors logged, retried with backoff, the old certificate keeps serving', async (t) => {
    // A directory that answers 404 fails each order at once (acme-client retries connection
    // errors and 5xx for over a minute per request, which is right against a real CA outage).
    const brokenCa = http.createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('no such directory\n'));
    await new Promise<void>((resolve) => brokenCa.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => brokenCa.close(() => resolve())));
    const { manager, lines } = newManager(t, store, httpPort, { backoffBaseMs: 50 });
    current = manager;
    const broken = { ...acmeFor(pebble, 100 * 365 * DAY), directoryUrl: `http://127.0.0.1:${(brokenCa.address() as AddressInfo).port}/dir` };
    await manager.apply(tlsConfig(certs, hosts, broken));
    const server = await startTlsServer(manager);
    t.teardown(() => server.close());
    const errors = await eventually(() => {
      const found = lines.filter((l) => l.event === 'certificate' && l.result === 'error' && l.host === 'example.test');
      return found.length >= 3 ? found : undefined;
    }, { message: 'three failed attempts', within: 20_000 });
    t.same(errors.slice(0, 3).map((l) => [l.attempt, l.retryInMs]), [[1, 50], [2, 100], [3, 200]], 'exponential backoff');
    t.match(errors[0], { err: { code: 'PORTICO_ACME_FAILED' } });
    t.equal((await presentedCertificate(server.port, 'example.test')).serialNumber, firstSerial, 'old certificate still served');
    t.notOk(manager.status()[0]?.temporary);
    t.ok(await fs.stat(path.join(certs, 'acme', 'example.test.crt')), 'stored certificate untouched');
  });
});

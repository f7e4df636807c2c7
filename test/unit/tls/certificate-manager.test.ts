import t from 'tap';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { createCertificateManager, type CertificateManager } from '../../../src/tls/certificate-manager.js';
import { FileCertStore } from '../../../src/tls/file-cert-store.js';
import { createMemoryChallengeStore } from '../../../src/tls/memory-challenge-store.js';
import { createSelfSignedCertificate } from '../../../src/tls/self-signed.js';
import { makeTestCertificate } from '../../helpers/tls-certs.js';
import { tlsConfig, tlsHost } from '../../helpers/tls-config.js';
import { eventually } from '../../helpers/eventually.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { presentedCertificate, startTlsServer } from '../../helpers/tls-probe.js';

async function setup(t: { teardown(fn: () => unknown): void }, certsDir: string): Promise<{ manager: CertificateManager; lines: Record<string, unknown>[] }> {
  const { logger: log, lines } = createLogSink();
  const manager = createCertificateManager({ log, store: new FileCertStore(certsDir), challenges: createMemoryChallengeStore() });
  t.teardown(() => manager.close());
  return { manager, lines };
}

const cn = (cert: X509Certificate): string => cert.subject.replace(/^CN=/, '');

t.test('SNI picks each host, alias and one-label wildcard; unknown names get the fallback', async (t) => {
  const dir = t.testdir();
  const pair = await createSelfSignedCertificate(['files.test'], { days: 90 });
  await fs.writeFile(path.join(dir, 'f.crt'), pair.certPem);
  await fs.writeFile(path.join(dir, 'f.key'), pair.keyPem);
  const { manager } = await setup(t, path.join(dir, 'certs'));
  await manager.apply(tlsConfig(path.join(dir, 'certs'), [
    tlsHost('a.test', { kind: 'self-signed' }, ['www.a.test']),
    tlsHost('*.p.test', { kind: 'self-signed' }),
    tlsHost('files.test', { kind: 'file', certFile: path.join(dir, 'f.crt'), keyFile: path.join(dir, 'f.key') }),
    tlsHost('plain.test', { kind: 'off' }),
  ]));
  const server = await startTlsServer(manager);
  t.teardown(() => server.close());

  t.equal(cn(await presentedCertificate(server.port, 'a.test')), 'a.test');
  t.equal((await presentedCertificate(server.port, 'WWW.A.TEST')).subjectAltName, 'DNS:a.test, DNS:www.a.test', 'alias, case-insensitive');
  t.equal(cn(await presentedCertificate(server.port, 'x.p.test')), '*.p.test', 'wildcard');
  t.equal((await presentedCertificate(server.port, 'files.test')).serialNumber, new X509Certificate(pair.certPem).serialNumber, 'file certificate');
  for (const name of ['y.x.p.test', 'p.test', 'plain.test', 'unknown.test', undefined]) {
    t.equal(cn(await presentedCertificate(server.port, name)), 'portico.invalid', `fallback for ${name ?? 'no SNI'}`);
  }
  t.same(manager.status().map((s) => [s.host, s.source, s.temporary]), [['a.test', 'self-signed', false], ['*.p.test', 'self-signed', false], ['files.test', 'file', false]]);
  const stored = await fs.readdir(path.join(dir, 'certs', 'self-signed'));
  t.same(stored.sort(), ['_wildcard_.p.test.crt', '_wildcard_.p.test.key', 'a.test.crt', 'a.test.key']);
});

t.test('self-signed certificates are reused from the store; reload keeps, replaces and drops', async (t) => {
  const dir = t.testdir();
  const certs = path.join(dir, 'certs');
  const first = await setup(t, certs);
  await first.manager.apply(tlsConfig(certs, [tlsHost('a.test', { kind: 'self-signed' }), tlsHost('b.test', { kind: 'self-signed' })]));
  const serialA = first.manager.status()[0]?.serial;
  const second = await setup(t, certs);
  await second.manager.apply(tlsConfig(certs, [tlsHost('a.test', { kind: 'self-signed' }), tlsHost('b.test', { kind: 'self-signed' })]));
  t.equal(second.manager.status()[0]?.serial, serialA, 'a restart reuses the stored certificate');

  const server = await startTlsServer(second.manager);
  t.teardown(() => server.close());
  await second.manager.apply(tlsConfig(certs, [tlsHost('a.test', { kind: 'self-signed' }), tlsHost('c.test', { kind: 'self-signed' })]));
  t.equal((await presentedCertificate(server.port, 'a.test')).serialNumber, serialA, 'unchanged host keeps its certificate');
  t.equal(cn(await presentedCertificate(server.port, 'b.test')), 'portico.invalid', 'removed host is dropped');
  t.equal(cn(await presentedCertificate(server.port, 'c.test')), 'c.test', 'added host is served');
  await second.manager.apply(tlsConfig(certs, [tlsHost('a.test', { kind: 'self-signed' }, ['www.a.test'])]));
  t.equal((await presentedCertificate(server.port, 'www.a.test')).subjectAltName, 'DNS:a.test, DNS:www.a.test', 'new alias: a new certificate covering it');
});

t.test('an expired file certificate is never served; a valid replacement is hot-swapped', async (t) => {
  const dir = t.testdir();
  const certFile = path.join(dir, 'live', 'f.crt');
  const keyFile = path.join(dir, 'live', 'f.key');
  await fs.mkdir(path.dirname(certFile));
  const expired = await makeTestCertificate({ names: ['f.test'], cn: 'Old CA', notBefore: new Date('2019-01-01'), notAfter: new Date('2020-01-01') });
  await fs.writeFile(certFile, expired.certPem);
  await fs.writeFile(keyFile, expired.keyPem);
  const { manager, lines } = await setup(t, path.join(dir, 'certs'));
  await manager.apply(tlsConfig(path.join(dir, 'certs'), [tlsHost('f.test', { kind: 'file', certFile, keyFile })]));
  const server = await startTlsServer(manager);
  t.teardown(() => server.close());
  const served = await presentedCertificate(server.port, 'f.test');
  t.not(served.issuer, 'CN=Old CA', 'not the expired certificate');
  t.ok(Date.parse(served.validTo) > Date.now(), 'an unexpired temporary one');
  t.ok(manager.status()[0]?.temporary);
  t.ok(lines.some((l) => l.event === 'certificate' && l.result === 'error' && l.reason === 'expired'), 'logged');

  const fresh = await createSelfSignedCertificate(['f.test'], { days: 30 });
  // Replace like certbot/editors do: write aside, then rename over the old files.
  await fs.writeFile(`${keyFile}.new`, fresh.keyPem);
  await fs.writeFile(`${certFile}.new`, fresh.certPem);
  await fs.rename(`${keyFile}.new`, keyFile);
  await fs.rename(`${certFile}.new`, certFile);
  const serial = new X509Certificate(fresh.certPem).serialNumber;
  await eventually(async () => (await presentedCertificate(server.port, 'f.test')).serialNumber === serial, { message: 'hot swap' });
  t.notOk(manager.status()[0]?.temporary, 'the new file pair is served, not a temporary stand-in');
});

t.test('a corrupt or mismatched file on swap keeps the old certificate', async (t) => {
  const dir = t.testdir();
  const certFile = path.join(dir, 'f.crt');
  const keyFile = path.join(dir, 'f.key');
  const good = await createSelfSignedCertificate(['f.test'], { days: 30 });
  await fs.writeFile(certFile, good.certPem);
  await fs.writeFile(keyFile, good.keyPem);
  const { manager, lines } = await setup(t, path.join(dir, 'certs'));
  await manager.apply(tlsConfig(path.join(dir, 'certs'), [tlsHost('f.test', { kind: 'file', certFile, keyFile })]));
  const server = await startTlsServer(manager);
  t.teardown(() => server.close());
  const goodSerial = (await presentedCertificate(server.port, 'f.test')).serialNumber;

  const errorsBefore = lines.filter((l) => l.result === 'error').length;
  await fs.writeFile(certFile, '-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n');
  await eventually(() => lines.filter((l) => l.result === 'error').length > errorsBefore, { message: 'corrupt file logged' });
  t.equal((await presentedCertificate(server.port, 'f.test')).serialNumber, goodSerial, 'corrupt cert: old pair served');

  const other = await createSelfSignedCertificate(['f.test'], { days: 30 });
  const errorsMid = lines.filter((l) => l.result === 'error').length;
  await fs.writeFile(certFile, other.certPem); // new cert, old key: mismatched pair
  await eventually(() => lines.filter((l) => l.result === 'error').length > errorsMid, { message: 'mismatch logged' });
  t.equal((await presentedCertificate(server.port, 'f.test')).serialNumber, goodSerial, 'mismatched pair: old pair served');

  await fs.writeFile(keyFile, other.keyPem); // now the pair matches
  const otherSerial = new X509Certificate(other.certPem).serialNumber;
  await eventually(async () => (await presentedCertificate(server.port, 'f.test')).serialNumber === otherSerial, { message: 'swap once both match' });
  t.pass('matching pair swapped in');
});

t.test('an RSA file certificate next to ECDSA ones, acme host before issuance, protocol limits', async (t) => {
  const dir = t.testdir();
  const certFile = path.join(dir, 'rsa.crt');
  const keyFile = path.join(dir, 'rsa.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '30', '-subj', '/CN=rsa.test', '-addext', 'subjectAltName=DNS:rsa.test'], { stdio: 'ignore' });
  const { manager } = await setup(t, path.join(dir, 'certs'));
  const acme = { email: 'ops@example.test', directoryUrl: 'https://127.0.0.1:9/dir', caFile: undefined, renewBeforeMs: 30 * 86_400_000 };
  await manager.apply(tlsConfig(path.join(dir, 'certs'), [tlsHost('rsa.test', { kind: 'file', certFile, keyFile }), tlsHost('acme.test', { kind: 'acme' })], acme));
  const server = await startTlsServer(manager);
  t.teardown(() => server.close());
  t.equal((await presentedCertificate(server.port, 'rsa.test')).publicKey.asymmetricKeyType, 'rsa', 'RSA file cert served');
  t.equal((await presentedCertificate(server.port, 'rsa.test', { maxVersion: 'TLSv1.2' })).publicKey.asymmetricKeyType, 'rsa', 'also over TLS 1.2');
  const temp = await presentedCertificate(server.port, 'acme.test');
  t.equal(cn(temp), 'acme.test', 'temporary certificate for the acme host');
  t.same(await fs.readdir(path.join(dir, 'certs')).catch(() => []), [], 'temporary certificate is not stored');
  t.ok(manager.status().find((s) => s.host === 'acme.test')?.temporary);
  await t.rejects(presentedCertificate(server.port, 'acme.test', { maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA:ECDHE-ECDSA-AES128-SHA' }), 'no CBC suites over TLS 1.2');
  await t.rejects(presentedCertificate(server.port, 'acme.test', { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }), 'TLS 1.1 refused');

  await manager.apply(tlsConfig(path.join(dir, 'certs'), [tlsHost('rsa.test', { kind: 'file', certFile, keyFile })], undefined, 'TLSv1.3'));
  const strict = await startTlsServer(manager);
  t.teardown(() => strict.close());
  await t.rejects(presentedCertificate(strict.port, 'rsa.test', { maxVersion: 'TLSv1.2' }), 'minVersion TLSv1.3 refuses TLS 1.2');
  t.ok(await presentedCertificate(strict.port, 'rsa.test'), 'TLS 1.3 works');
});

t.test('challengeResponse answers stored tokens only', async (t) => {
  const challenges = createMemoryChallengeStore();
  const { logger: log } = createLogSink();
  const manager = createCertificateManager({ log, store: new FileCertStore(t.testdir()), challenges });
  t.teardown(() => manager.close());
  await challenges.set('tok_en-1', 'tok_en-1.thumb');
  t.equal(await manager.challengeResponse('tok_en-1'), 'tok_en-1.thumb');
  t.equal(await manager.challengeResponse('other'), undefined);
  t.equal(await manager.challengeResponse('../etc'), undefined, 'not a base64url token');
});

t.test('a certificate that expires while served is replaced by a temporary one at once', async (t) => {
  const dir = t.testdir();
  const certFile = path.join(dir, 'f.crt');
  const keyFile = path.join(dir, 'f.key');
  const soon = await makeTestCertificate({ names: ['f.test'], cn: 'Soon CA', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 2_000) });
  await fs.writeFile(certFile, soon.certPem);
  await fs.writeFile(keyFile, soon.keyPem);
  const { manager } = await setup(t, path.join(dir, 'certs'));
  await manager.apply(tlsConfig(path.join(dir, 'certs'), [tlsHost('f.test', { kind: 'file', certFile, keyFile })]));
  const server = await startTlsServer(manager);
  t.teardown(() => server.close());
  t.equal((await presentedCertificate(server.port, 'f.test')).issuer, 'CN=Soon CA', 'served while valid');
  const after = await eventually(async () => {
    const cert = await presentedCertificate(server.port, 'f.test');
    return cert.issuer !== 'CN=Soon CA' ? cert : undefined;
  }, { message: 'swap at expiry', within: 5_000 });
  t.ok(Date.parse(after.validTo) > Date.now(), 'an unexpired stand-in');
  t.ok(manager.status()[0]?.temporary);
});

import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runCerts } from '../../../src/commands/certs.js';
import { FileCertStore } from '../../../src/tls/file-cert-store.js';
import { createSelfSignedCertificate } from '../../../src/tls/self-signed.js';
import { makeTestCertificate } from '../../helpers/tls-certs.js';
import { tlsConfig, tlsHost } from '../../helpers/tls-config.js';

t.test('one tab-separated line per TLS host, "-" where no certificate exists', async (t) => {
  const dir = t.testdir();
  const store = new FileCertStore(path.join(dir, 'certs'));
  const acmeCert = await makeTestCertificate({ names: ['example.test'], cn: 'Pebble Intermediate CA 1', notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2027-02-21T10:00:00.500Z') });
  await store.store('acme/example.test.crt', Buffer.from(acmeCert.certPem));
  await store.store('acme/example.test.key', Buffer.from(acmeCert.keyPem));
  const selfSigned = await createSelfSignedCertificate(['*.preview.example.test'], { days: 365 });
  await store.store('self-signed/_wildcard_.preview.example.test.crt', Buffer.from(selfSigned.certPem));
  const expired = await makeTestCertificate({ names: ['files.example.test'], cn: 'Old CA', notBefore: new Date('2019-01-01T00:00:00Z'), notAfter: new Date('2020-01-01T00:00:00Z') });
  await fs.writeFile(path.join(dir, 'f.crt'), expired.certPem);
  await fs.writeFile(path.join(dir, 'f.key'), expired.keyPem);

  const config = tlsConfig(path.join(dir, 'certs'), [
    tlsHost('example.test', { kind: 'acme' }, ['www.example.test']),
    tlsHost('*.preview.example.test', { kind: 'self-signed' }),
    tlsHost('vault.example.test', { kind: 'off' }),
    tlsHost('new.example.test', { kind: 'acme' }),
    tlsHost('files.example.test', { kind: 'file', certFile: path.join(dir, 'f.crt'), keyFile: path.join(dir, 'f.key') }),
    tlsHost('missing.example.test', { kind: 'file', certFile: path.join(dir, 'nope.crt'), keyFile: path.join(dir, 'nope.key') }),
  ]);
  const now = Date.parse('2027-01-01T12:00:00Z');
  const lines = await runCerts(config, store, now);
  const ssNotAfter = new Date(new X509Certificate(selfSigned.certPem).validTo);
  t.same(lines, [
    'example.test\tacme\tPebble Intermediate CA 1\t2027-02-21T10:00:00Z\t50',
    `*.preview.example.test\tself-signed\t*.preview.example.test\t${ssNotAfter.toISOString().replace('.000Z', 'Z')}\t${Math.floor((ssNotAfter.getTime() - now) / 86_400_000)}`,
    'new.example.test\tacme\t-\t-\t-',
    `files.example.test\tfile\tOld CA\t2020-01-01T00:00:00Z\t${Math.floor((Date.parse('2020-01-01T00:00:00Z') - now) / 86_400_000)}`,
    'missing.example.test\tfile\t-\t-\t-',
  ]);
  t.ok(lines[3]?.endsWith('\t-2558'), 'negative days once expired');
});

t.test('defaults to the tls.certs directory', async (t) => {
  const dir = t.testdir();
  const config = tlsConfig(dir, [tlsHost('a.test', { kind: 'self-signed' })]);
  t.same(await runCerts(config), ['a.test\tself-signed\t-\t-\t-']);
});

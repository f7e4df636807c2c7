import t from 'tap';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSelfSignedCertificate } from '../../../src/tls/self-signed.js';

t.test('creates a P-256 certificate with SANs, CN = first name and a matching key', async (t) => {
  const { certPem, keyPem } = await createSelfSignedCertificate(['example.test', 'www.example.test', '*.preview.example.test']);
  const cert = new X509Certificate(certPem);
  t.equal(cert.subject, 'CN=example.test');
  t.equal(cert.subjectAltName, 'DNS:example.test, DNS:www.example.test, DNS:*.preview.example.test');
  t.equal(cert.publicKey.asymmetricKeyType, 'ec');
  t.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  t.ok(cert.checkPrivateKey(createPrivateKey(keyPem)), 'key matches');
  t.ok(cert.verify(cert.publicKey), 'self-signed');
  t.equal(cert.ca, false);
  t.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
});

t.test('validity follows opts.days', async (t) => {
  const { certPem } = await createSelfSignedCertificate(['a.test'], { days: 10 });
  const cert = new X509Certificate(certPem);
  const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
  t.ok(days > 9.9 && days <= 10, `valid ~10 days (${days})`);
  t.ok(Date.parse(cert.validFrom) < Date.now(), 'already valid');
});

t.test('two certificates never share a serial or key', async (t) => {
  const [a, b] = await Promise.all([createSelfSignedCertificate(['a.test']), createSelfSignedCertificate(['a.test'])]);
  t.not(new X509Certificate(a.certPem).serialNumber, new X509Certificate(b.certPem).serialNumber);
  t.not(a.keyPem, b.keyPem);
});

t.test('needs a name', async (t) => {
  await t.rejects(createSelfSignedCertificate([]), TypeError);
});

import t from 'tap';
import { certificateCovers, keyMatchesCert, readCertificateInfo } from '../../../src/tls/certificate-info.js';
import { createSelfSignedCertificate } from '../../../src/tls/self-signed.js';
import { makeTestCertificate } from '../../helpers/tls-certs.js';

const DAY = 86_400_000;

t.test('reads issuer CN, names, serial and notAfter', async (t) => {
  const { certPem } = await createSelfSignedCertificate(['Example.test', 'www.example.test'], { days: 30 });
  const info = readCertificateInfo(certPem);
  t.equal(info.issuer, 'Example.test');
  t.same(info.names, ['example.test', 'www.example.test']);
  t.match(info.serial, /^[0-9A-F]+$/);
  t.ok(info.notAfter instanceof Date);
});

t.test('daysLeft rounds down and goes negative once expired', async (t) => {
  const { certPem } = await createSelfSignedCertificate(['a.test'], { days: 30 });
  const info = readCertificateInfo(certPem);
  const end = info.notAfter.getTime();
  t.equal(info.daysLeft(end - 29.9 * DAY), 29);
  t.equal(info.daysLeft(end - 1), 0);
  t.equal(info.daysLeft(end + 1), -1, 'just expired');
  t.equal(info.daysLeft(end + 3.5 * DAY), -4);
});

t.test('an expired certificate', async (t) => {
  const { certPem, keyPem } = await makeTestCertificate({ names: ['old.test'], cn: 'Old CA', notBefore: new Date('2019-01-01T00:00:00Z'), notAfter: new Date('2020-01-01T00:00:00Z') });
  const info = readCertificateInfo(certPem);
  t.equal(info.issuer, 'Old CA');
  t.equal(info.notAfter.toISOString(), '2020-01-01T00:00:00.000Z');
  t.ok(info.daysLeft(Date.now()) < -365);
  t.ok(keyMatchesCert(certPem, keyPem));
});

t.test('keyMatchesCert', async (t) => {
  const a = await createSelfSignedCertificate(['a.test']);
  const b = await createSelfSignedCertificate(['a.test']);
  t.ok(keyMatchesCert(a.certPem, a.keyPem));
  t.notOk(keyMatchesCert(a.certPem, b.keyPem), 'other key');
  t.notOk(keyMatchesCert('garbage', a.keyPem), 'unparsable cert');
  t.notOk(keyMatchesCert(a.certPem, 'garbage'), 'unparsable key');
});

t.test('certificateCovers: exact names and one-label wildcards', async (t) => {
  t.ok(certificateCovers(['a.test'], 'A.test'));
  t.ok(certificateCovers(['*.p.test'], 'x.p.test'));
  t.notOk(certificateCovers(['*.p.test'], 'y.x.p.test'));
  t.notOk(certificateCovers(['*.p.test'], 'p.test'));
  t.notOk(certificateCovers(['a.test'], 'b.test'));
});

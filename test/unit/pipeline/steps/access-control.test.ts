import t from 'tap';
import { createAccessControlStep } from '../../../../src/pipeline/steps/access-control.js';
import { fakeContext } from '../../../helpers/fake-context.js';

t.test('deny is checked first, then allow when present', async (t) => {
  const step = createAccessControlStep({ allow: ['203.0.113.0/24', '2001:db8::/32'], deny: ['203.0.113.9', '2001:db8::bad'] });
  const status = (ip: string) => (step(fakeContext({ clientIp: ip })) as { status: number } | undefined)?.status ?? 200;
  t.equal(status('203.0.113.10'), 200);
  t.equal(status('203.0.113.9'), 403, 'denied inside an allowed CIDR');
  t.equal(status('198.51.100.1'), 403, 'not allowed');
  t.equal(status('2001:db8::1'), 200);
  t.equal(status('2001:0db8:0000::0bad'), 403, 'any spelling of a denied IPv6 address');
  t.equal(status('::ffff:203.0.113.10'), 200, 'an IPv4-mapped address is its IPv4 address');
  t.equal(status(''), 403, 'no address at all is refused when there is an allow list');
  t.equal(status('203.0.113.9'), 403, 'memoised answers are the same');
});

t.test('deny alone lets everyone else through; allow: [] refuses everyone', async (t) => {
  const denyOnly = createAccessControlStep({ allow: undefined, deny: ['10.0.0.0/8'] });
  t.equal(denyOnly(fakeContext({ clientIp: '10.1.2.3' })), (denyOnly(fakeContext({ clientIp: '10.1.2.3' }))));
  t.equal((denyOnly(fakeContext({ clientIp: '10.1.2.3' })) as { status: number }).status, 403);
  t.equal(denyOnly(fakeContext({ clientIp: '11.1.2.3' })), undefined);
  const nobody = createAccessControlStep({ allow: [], deny: [] });
  t.equal((nobody(fakeContext({ clientIp: '127.0.0.1' })) as { status: number }).status, 403);
  const everybody = createAccessControlStep({ allow: undefined, deny: [] });
  t.equal(everybody(fakeContext({ clientIp: '127.0.0.1' })), undefined);
});

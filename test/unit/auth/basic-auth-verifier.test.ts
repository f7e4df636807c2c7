import bcrypt from 'bcryptjs';
import t from 'tap';
import { createBasicAuthVerifier, parseBasicCredentials } from '../../../src/auth/basic-auth-verifier.js';

const basic = (s: string): string => `Basic ${Buffer.from(s).toString('base64')}`;

t.test('parses Basic credentials; the password may contain colons', async (t) => {
  t.same(parseBasicCredentials(basic('alice:pa:ss')), { user: 'alice', password: 'pa:ss' });
  t.same(parseBasicCredentials(`bAsIc  ${Buffer.from('u:').toString('base64')}`), { user: 'u', password: '' });
  t.same(parseBasicCredentials(basic('ünï:cödé')), { user: 'ünï', password: 'cödé' });
});

t.test('anything else is no credentials', async (t) => {
  t.equal(parseBasicCredentials(undefined), undefined);
  t.equal(parseBasicCredentials('Bearer abc'), undefined);
  t.equal(parseBasicCredentials('Basic'), undefined);
  t.equal(parseBasicCredentials('Basic !!!'), undefined);
  t.equal(parseBasicCredentials(basic('no-colon')), undefined);
});

t.test('verifies known users and refuses wrong passwords', async (t) => {
  const hash = await bcrypt.hash('secret', 4);
  const verifier = createBasicAuthVerifier({ realm: 'r', users: { alice: hash } }, (p, h) => bcrypt.compare(p, h));
  t.equal(verifier.expectedHash('alice'), hash);
  t.equal(await verifier.verify({ user: 'alice', password: 'secret' }, hash), true);
  t.equal(await verifier.verify({ user: 'alice', password: 'nope' }, hash), false);
});

t.test('an unknown user costs one compare against a dummy of the highest cost', async (t) => {
  const low = await bcrypt.hash('a', 4);
  const high = await bcrypt.hash('b', 6);
  const calls: string[] = [];
  const verifier = createBasicAuthVerifier(
    { realm: 'r', users: { low, high, proto: low } },
    async (password, hash) => {
      calls.push(hash);
      return bcrypt.compare(password, hash);
    },
  );
  const dummy = verifier.expectedHash('mallory');
  t.match(dummy, /^\$2b\$06\$[./A-Za-z0-9]{53}$/, 'well-formed, cost of the costliest user');
  t.not(verifier.expectedHash('__proto__'), undefined);
  t.equal(verifier.expectedHash('__proto__'), dummy, 'no prototype lookups');
  t.equal(bcrypt.getRounds(dummy), 6);
  t.equal(await verifier.verify({ user: 'mallory', password: 'x' }, dummy), false);
  t.same(calls, [dummy], 'exactly one bcrypt comparison, against the dummy');
});

t.test('dummy verification is refused even if the comparison said yes', async (t) => {
  const verifier = createBasicAuthVerifier({ realm: 'r', users: {} }, async () => true);
  const dummy = verifier.expectedHash('nobody');
  t.equal(bcrypt.getRounds(dummy), 10, 'default cost without users');
  t.equal(await verifier.verify({ user: 'nobody', password: 'x' }, dummy), false);
});

import bcrypt from 'bcryptjs';
import t from 'tap';
import { fakeContext } from '../../../helpers/fake-context.js';
import { createAuthFailureThrottle } from '../../../../src/auth/auth-failure-throttle.js';
import { BcryptPoolError } from '../../../../src/auth/bcrypt-pool.js';
import { createCredentialCache } from '../../../../src/auth/credential-cache.js';
import type { BasicAuthConfig } from '../../../../src/config/config-types.js';
import type { RequestContext } from '../../../../src/pipeline/request-context.js';
import { createBasicAuthStep } from '../../../../src/pipeline/steps/basic-auth.js';

function ctx(authorization?: string, clientIp = '1.1.1.1'): RequestContext {
  return fakeContext({ clientIp, headers: authorization === undefined ? {} : { authorization }, proto: 'https' });
}
const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const aliceHash = await bcrypt.hash('secret', 4);
const config: BasicAuthConfig = Object.freeze({ realm: 'Staging', users: Object.freeze({ alice: aliceHash }) });

/** A fresh step with a counting bcrypt, its own cache and throttle, and a controllable clock. */
function setup(t: { teardown(fn: () => void): void }, cfg: BasicAuthConfig = config) {
  const clock = { time: 0 };
  const compares: string[] = [];
  const cache = createCredentialCache({ now: () => clock.time });
  const throttle = createAuthFailureThrottle({ now: () => clock.time });
  t.teardown(() => throttle.close());
  const results: boolean[] = [];
  const options = {
    config: cfg,
    cache,
    throttle,
    onResult: (ok: boolean) => results.push(ok),
    compare: (password: string, hash: string) => {
      compares.push(hash);
      return bcrypt.compare(password, hash);
    },
  };
  return { step: createBasicAuthStep(options), options, clock, compares, results, cache, throttle };
}

const unauthorized = {
  status: 401,
  headers: { 'WWW-Authenticate': 'Basic realm="Staging"' },
};

t.test('missing credentials get 401 with the realm challenge', async (t) => {
  const { step, compares } = setup(t);
  t.match(step(ctx()), unauthorized);
  t.match(step(ctx('Bearer x')), unauthorized);
  t.same(compares, [], 'no bcrypt for a missing credential');
});

t.test('the right password passes; a wrong one gets 401', async (t) => {
  const { step, results } = setup(t);
  t.equal(await step(ctx(basic('alice', 'secret'))), undefined);
  t.match(await step(ctx(basic('alice', 'wrong'))), unauthorized);
  t.same(results, [true, false]);
});

t.test('an unknown user costs exactly one bcrypt compare, against a dummy of the same cost', async (t) => {
  const { step, compares } = setup(t);
  t.match(await step(ctx(basic('mallory', 'secret'))), unauthorized);
  t.equal(compares.length, 1);
  t.not(compares[0], aliceHash);
  t.equal(bcrypt.getRounds(compares[0] as string), 4);
});

t.test('a cache hit is synchronous and does not call bcrypt again', async (t) => {
  const { step, compares } = setup(t);
  const header = basic('alice', 'secret');
  t.equal(await step(ctx(header)), undefined);
  t.equal(compares.length, 1);
  const second = step(ctx(header));
  t.notOk(second instanceof Promise, 'no Promise on a cache hit');
  t.equal(second, undefined);
  t.equal(compares.length, 1);
});

t.test('the cache expires after 5 minutes', async (t) => {
  const { step, compares, clock } = setup(t);
  const header = basic('alice', 'secret');
  await step(ctx(header));
  clock.time = 5 * 60_000;
  const again = step(ctx(header));
  t.ok(again instanceof Promise, 'expired: verified again');
  t.equal(await again, undefined);
  t.equal(compares.length, 2);
});

t.test('a changed hash invalidates the cached credential', async (t) => {
  const first = setup(t);
  const header = basic('alice', 'secret');
  t.equal(await first.step(ctx(header)), undefined);
  const newHash = await bcrypt.hash('changed', 4);
  // After a reload the step is rebuilt from the new config but keeps the long-lived cache.
  const reloaded = createBasicAuthStep({ ...first.options, config: { realm: 'Staging', users: { alice: newHash } } });
  const old = reloaded(ctx(header));
  t.ok(old instanceof Promise, 'not answered from the cache');
  t.match(await old, unauthorized, 'the old password no longer works');
  t.equal(await reloaded(ctx(basic('alice', 'changed'))), undefined);
});

t.test('10 concurrent checks of one header share one bcrypt compare', async (t) => {
  const { step, compares } = setup(t);
  const header = basic('alice', 'secret');
  const replies = await Promise.all(Array.from({ length: 10 }, () => step(ctx(header))));
  t.same(replies, Array(10).fill(undefined));
  t.equal(compares.length, 1);
});

t.test('10 wrong credentials from one IP -> 429 with Retry-After until the window ends', async (t) => {
  const { step, clock } = setup(t);
  for (let i = 0; i < 10; i++) {
    t.match(await step(ctx(basic('alice', `guess${i}`))), { status: 401 });
    clock.time += 1_000;
  }
  t.match(step(ctx(basic('alice', 'secret'))), { status: 429, headers: { 'Retry-After': '50' } });
  t.match(step(ctx()), { status: 429 }, 'blocked whatever the request carries');
  t.equal(await step(ctx(basic('alice', 'secret'), '2.2.2.2')), undefined, 'other IPs unaffected');
  clock.time = 60_000;
  t.equal(await step(ctx(basic('alice', 'secret'))), undefined, 'allowed again once the window ends');
});

t.test('the throttle is shared across hosts', async (t) => {
  const a = setup(t);
  const otherHost = createBasicAuthStep({ ...a.options, config: { realm: 'Other', users: { bob: aliceHash } } });
  for (let i = 0; i < 5; i++) await a.step(ctx(basic('alice', `x${i}`)));
  for (let i = 0; i < 5; i++) await otherHost(ctx(basic('bob', `x${i}`)));
  t.match(a.step(ctx(basic('alice', 'secret'))), { status: 429 });
});

t.test('requests without credentials do not count towards the throttle', async (t) => {
  const { step } = setup(t);
  for (let i = 0; i < 50; i++) t.match(step(ctx()), { status: 401 });
  for (let i = 0; i < 9; i++) await step(ctx(basic('alice', 'wrong')));
  t.equal(await step(ctx(basic('alice', 'secret'))), undefined, 'only 9 failures counted');
});

/** A compare that holds every call until the test releases it with a verdict or an error. */
function heldCompare() {
  const held: { hash: string; settle: (ok: boolean | Error) => void }[] = [];
  const compare = (_password: string, hash: string) =>
    new Promise<boolean>((resolve, reject) => {
      held.push({ hash, settle: (ok) => (ok instanceof Error ? reject(ok) : resolve(ok)) });
    });
  return { held, compare };
}

t.test('concurrent wrong credentials from one IP: 10 bcrypt runs, the rest 429 at once', async (t) => {
  const { options } = setup(t);
  const { held, compare } = heldCompare();
  const step = createBasicAuthStep({ ...options, compare });
  const replies = Array.from({ length: 15 }, (_, i) => step(ctx(basic('alice', `guess${i}`))));
  t.equal(held.length, 10, 'only 10 compares started');
  const refused = replies.filter((r) => !(r instanceof Promise));
  t.equal(refused.length, 5, 'five answered synchronously');
  for (const r of refused) t.match(r, { status: 429, headers: { 'Retry-After': '1' } }, 'no window yet: try again in 1 s');
  t.equal(step(ctx(basic('alice', 'secret'), '2.2.2.2')) instanceof Promise, true, 'another IP still gets a check');
  t.equal(held.length, 11);
  for (const h of held) h.settle(false);
  const settled = await Promise.all(replies);
  t.equal(settled.filter((r) => r?.status === 401).length, 10);
  t.match(step(ctx(basic('alice', 'secret'))), { status: 429, headers: { 'Retry-After': '60' } }, 'ten failures: blocked');
});

t.test('right credentials free their slot: a burst of logins is refused only while 10 run', async (t) => {
  const { options } = setup(t);
  const { held, compare } = heldCompare();
  const step = createBasicAuthStep({ ...options, compare });
  const first = Array.from({ length: 10 }, (_, i) => step(ctx(basic(i === 0 ? 'alice' : `user${i}`, 'secret'))));
  t.match(step(ctx(basic('user10', 'secret'))), { status: 429 });
  held.splice(0).forEach((h, i) => h.settle(i === 0));
  const replies = await Promise.all(first);
  t.equal(replies[0], undefined, 'alice is in');
  const next = step(ctx(basic('alice', 'secret')));
  t.equal(next, undefined, 'and cached');
  const later = step(ctx(basic('user11', 'secret')));
  t.ok(later instanceof Promise, 'nine failures + nothing running: one more check may run');
  held.splice(0).forEach((h) => h.settle(false));
  await later;
});

t.test('identical concurrent checks share one compare and one throttle slot', async (t) => {
  const { options, throttle } = setup(t);
  const { held, compare } = heldCompare();
  const step = createBasicAuthStep({ ...options, compare });
  const others = Array.from({ length: 9 }, (_, i) => step(ctx(basic('alice', `other${i}`))));
  const same = Array.from({ length: 20 }, () => step(ctx(basic('alice', 'wrong'))));
  t.equal(held.length, 10, '9 + 1 compares');
  t.ok(same.every((r) => r instanceof Promise), 'all 20 wait for the one check');
  held.splice(0).forEach((h) => h.settle(false));
  await Promise.all([...others, ...same]);
  t.ok(throttle.blockedForMs('1.1.1.1') > 0, 'each joined wrong credential still counts as a failure');
});

t.test('a full bcrypt queue answers 503 and counts no failure', async (t) => {
  const { options, throttle } = setup(t);
  const busy = async (): Promise<boolean> => {
    throw new BcryptPoolError('PORTICO_AUTH_BUSY', 'bcrypt queue is full');
  };
  const step = createBasicAuthStep({ ...options, compare: busy });
  for (let i = 0; i < 20; i++) {
    t.match(await step(ctx(basic('alice', `x${i}`))), { status: 503, headers: { 'Retry-After': '1' } });
  }
  t.equal(throttle.blockedForMs('1.1.1.1'), 0);
  t.equal(throttle.begin('1.1.1.1'), 0, 'every slot was given back');
});

t.test('a dead worker is a server error (logged by the handler), and frees the slot', async (t) => {
  const { options, throttle } = setup(t);
  const { held, compare } = heldCompare();
  const step = createBasicAuthStep({ ...options, compare });
  const reply = step(ctx(basic('alice', 'x')));
  held[0]?.settle(new BcryptPoolError('PORTICO_AUTH_WORKER_FAILED', 'bcrypt worker exited with code 1'));
  await t.rejects(reply as Promise<unknown>, { code: 'PORTICO_AUTH_WORKER_FAILED' });
  t.equal(throttle.blockedForMs('1.1.1.1'), 0);
});

t.test('quotes and backslashes in the realm are escaped', async (t) => {
  const { step } = setup(t, { realm: 'Dev "A"\\B\r\n', users: {} });
  t.match(step(ctx()), { headers: { 'WWW-Authenticate': 'Basic realm="Dev \\"A\\"\\\\B"' } });
});

import t from 'tap';
import { BcryptPoolError } from '../../../src/auth/bcrypt-pool.js';
import { createSharedCompare } from '../../../src/auth/shared-compare.js';

/** A compare that counts its runs and answers when told (`release`), matching `secret` only. */
function slowCompare() {
  const runs: string[] = [];
  const waiting: Array<() => void> = [];
  const compare = (password: string, hash: string) => {
    runs.push(`${password}|${hash}`);
    return new Promise<boolean>((resolve) => waiting.push(() => resolve(password === 'secret')));
  };
  return { compare, runs, release: () => waiting.splice(0).forEach((go) => go()) };
}

t.test('a match is remembered: the same password and hash never run twice within the lifetime', async (t) => {
  let time = 0;
  const slow = slowCompare();
  const shared = createSharedCompare(slow.compare, { now: () => time, ttlMs: 1_000 });
  const first = shared('secret', 'H');
  const joined = shared('secret', 'H'); // another worker asking meanwhile
  t.equal(slow.runs.length, 1, 'concurrent comparisons of one pair run once');
  slow.release();
  t.same(await Promise.all([first, joined]), [true, true]);
  t.equal(await shared('secret', 'H'), true);
  t.equal(slow.runs.length, 1, 'a remembered match costs no run');
  const otherHash = shared('secret', 'H2');
  slow.release();
  t.equal(await otherHash, true);
  t.equal(slow.runs.length, 2, 'another hash (a changed config) is compared again');
  time = 1_000;
  const expired = shared('secret', 'H');
  slow.release();
  t.equal(await expired, true);
  t.equal(slow.runs.length, 3, 'after the lifetime it is compared again');
});

t.test('a mismatch and an error are not remembered', async (t) => {
  const slow = slowCompare();
  const shared = createSharedCompare(slow.compare);
  const wrong = shared('guess', 'H');
  slow.release();
  t.equal(await wrong, false);
  const again = shared('guess', 'H');
  slow.release();
  t.equal(await again, false);
  t.equal(slow.runs.length, 2, 'every wrong guess is compared: the throttle, not a cache, limits them');

  let fail = true;
  const flaky = createSharedCompare(async (password) => {
    if (fail) throw new BcryptPoolError('PORTICO_AUTH_BUSY', 'queue full');
    return password === 'secret';
  });
  await t.rejects(flaky('secret', 'H'), { code: 'PORTICO_AUTH_BUSY' }, 'the error reaches the caller');
  fail = false;
  t.equal(await flaky('secret', 'H'), true, 'and the next call compares');
});

t.test('memory is bounded: the oldest match is forgotten first', async (t) => {
  let runs = 0;
  const shared = createSharedCompare(async () => (++runs, true), { maxEntries: 2 });
  await shared('a', 'H');
  await shared('b', 'H');
  await shared('c', 'H'); // forgets a
  await shared('b', 'H');
  t.equal(runs, 3, 'b is still remembered');
  await shared('a', 'H');
  t.equal(runs, 4, 'a was forgotten');
});

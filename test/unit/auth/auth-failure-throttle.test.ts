import t, { type Test } from 'tap';
import { createAuthFailureThrottle, type AuthFailureThrottleOptions } from '../../../src/auth/auth-failure-throttle.js';

/** A throttle on a clock the test moves by hand (`clock.time = …`), closed at teardown. */
function throttleAt(t: Test, start: number, opts: Omit<AuthFailureThrottleOptions, 'now'> = {}) {
  const clock = { time: start };
  const throttle = createAuthFailureThrottle({ ...opts, now: () => clock.time });
  t.teardown(() => throttle.close());
  return { clock, throttle };
}

t.test('blocks after 10 failures until the window that began at the first one ends', async (t) => {
  const { clock, throttle } = throttleAt(t, 1_000);
  for (let i = 0; i < 9; i++) {
    throttle.recordFailure('1.1.1.1');
    clock.time += 1_000;
  }
  t.equal(throttle.blockedForMs('1.1.1.1'), 0, '9 failures are allowed');
  throttle.recordFailure('1.1.1.1');
  t.equal(throttle.blockedForMs('1.1.1.1'), 51_000, 'blocked until 60 s after the first failure');
  t.equal(throttle.blockedForMs('2.2.2.2'), 0, 'per client IP');
  clock.time = 61_000;
  t.equal(throttle.blockedForMs('1.1.1.1'), 0, 'the window has ended');
  throttle.recordFailure('1.1.1.1');
  t.equal(throttle.blockedForMs('1.1.1.1'), 0, 'a new window starts from one');
});

t.test('failures spread beyond the window never block', async (t) => {
  const { clock, throttle } = throttleAt(t, 0);
  for (let i = 0; i < 30; i++) {
    throttle.recordFailure('1.1.1.1');
    t.equal(throttle.blockedForMs('1.1.1.1'), 0);
    clock.time += 7_000;
  }
});

t.test('the map is bounded', async (t) => {
  const throttle = createAuthFailureThrottle({ maxEntries: 2, maxFailures: 1 });
  t.teardown(() => throttle.close());
  throttle.recordFailure('a');
  throttle.recordFailure('b');
  throttle.recordFailure('c');
  t.equal(throttle.blockedForMs('a'), 0, 'the oldest window was evicted');
  t.ok(throttle.blockedForMs('b') > 0);
  t.ok(throttle.blockedForMs('c') > 0);
});

t.test('verifications in flight count: at most 10 per IP run at once, the rest are refused at once', async (t) => {
  const { clock, throttle } = throttleAt(t, 0);
  for (let i = 0; i < 10; i++) t.equal(throttle.begin('1.1.1.1'), 0, `verification ${i + 1} is granted`);
  t.equal(throttle.begin('1.1.1.1'), 1_000, 'the 11th waits; no window yet, so Retry-After 1 s');
  t.equal(throttle.blockedForMs('1.1.1.1'), 0, 'nothing failed yet: requests that need no bcrypt pass');
  t.equal(throttle.begin('2.2.2.2'), 0, 'per client IP');
  clock.time = 500;
  for (let i = 0; i < 10; i++) throttle.end('1.1.1.1', true);
  t.equal(throttle.blockedForMs('1.1.1.1'), 60_000, 'ten failures: blocked for the window that began at the first');
  t.equal(throttle.begin('1.1.1.1'), 60_000);
  clock.time = 60_500;
  t.equal(throttle.begin('1.1.1.1'), 0, 'a new window');
});

t.test('a right credential frees its slot and counts nothing', async (t) => {
  const { throttle } = throttleAt(t, 0);
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 10; i++) t.equal(throttle.begin('1.1.1.1'), 0);
    for (let i = 0; i < 10; i++) throttle.end('1.1.1.1', false);
  }
  t.equal(throttle.blockedForMs('1.1.1.1'), 0);
  t.equal(throttle.begin('1.1.1.1'), 0, '50 right credentials, no failure');
});

t.test('failures and running verifications share the limit', async (t) => {
  const { clock, throttle } = throttleAt(t, 0);
  for (let i = 0; i < 7; i++) throttle.recordFailure('1.1.1.1');
  clock.time = 10_000;
  t.equal(throttle.begin('1.1.1.1'), 0);
  t.equal(throttle.begin('1.1.1.1'), 0);
  t.equal(throttle.begin('1.1.1.1'), 0);
  t.equal(throttle.begin('1.1.1.1'), 50_000, '7 failures + 3 running: Retry-After until the window ends');
  throttle.end('1.1.1.1', false);
  t.equal(throttle.begin('1.1.1.1'), 0, 'a right one frees its slot');
});

t.test('a verification that outlives its window counts in the next one', async (t) => {
  const { clock, throttle } = throttleAt(t, 0, { sweepIntervalMs: 1 });
  for (let i = 0; i < 9; i++) throttle.recordFailure('1.1.1.1');
  t.equal(throttle.begin('1.1.1.1'), 0, 'the 10th slot');
  clock.time = 60_000;
  t.equal(throttle.blockedForMs('1.1.1.1'), 0, 'the window ended');
  for (let i = 0; i < 9; i++) t.equal(throttle.begin('1.1.1.1'), 0);
  t.equal(throttle.begin('1.1.1.1'), 1_000, 'the one still running holds the 10th slot');
  clock.time = 61_000;
  throttle.end('1.1.1.1', true);
  t.equal(throttle.begin('1.1.1.1'), 60_000, 'its failure opened the new window');
});

import t from 'tap';
import { createAuthFailureThrottle } from '../../../src/auth/auth-failure-throttle.js';

t.test('blocks after 10 failures until the window that began at the first one ends', async (t) => {
  let time = 1_000;
  const throttle = createAuthFailureThrottle({ now: () => time });
  t.teardown(() => throttle.close());
  for (let i = 0; i < 9; i++) {
    throttle.recordFailure('1.1.1.1');
    time += 1_000;
  }
  t.equal(throttle.blockedForMs('1.1.1.1'), 0, '9 failures are allowed');
  throttle.recordFailure('1.1.1.1');
  t.equal(throttle.blockedForMs('1.1.1.1'), 51_000, 'blocked until 60 s after the first failure');
  t.equal(throttle.blockedForMs('2.2.2.2'), 0, 'per client IP');
  time = 61_000;
  t.equal(throttle.blockedForMs('1.1.1.1'), 0, 'the window has ended');
  throttle.recordFailure('1.1.1.1');
  t.equal(throttle.blockedForMs('1.1.1.1'), 0, 'a new window starts from one');
});

t.test('failures spread beyond the window never block', async (t) => {
  let time = 0;
  const throttle = createAuthFailureThrottle({ now: () => time });
  t.teardown(() => throttle.close());
  for (let i = 0; i < 30; i++) {
    throttle.recordFailure('1.1.1.1');
    t.equal(throttle.blockedForMs('1.1.1.1'), 0);
    time += 7_000;
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

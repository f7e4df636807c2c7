import t from 'tap';
import type { RateLimitConfig } from '../../../src/config/config-types.js';
import { createLocalBucketStore } from '../../../src/ratelimit/local-bucket-store.js';

const limit: RateLimitConfig = { ratePerSec: 10, burst: 3, key: { kind: 'ip' }, id: '10/s:3:ip' };

function clock(start = 0): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

t.test('take is synchronous and keys are independent', async (t) => {
  const c = clock();
  const store = createLocalBucketStore({ now: c.now });
  t.teardown(() => store.close());
  const first = store.take('a', limit);
  t.notOk(first instanceof Promise, 'no Promise on the hot path');
  t.same(first, { allowed: true, remaining: 2, retryAfterMs: 0 });
  store.take('a', limit);
  store.take('a', limit);
  t.equal(store.take('a', limit).allowed, false);
  t.equal(store.take('b', limit).allowed, true, 'another key has its own bucket');
  c.advance(100);
  t.equal(store.take('a', limit).allowed, true, 'refills with the injected clock');
});

t.test('the size cap evicts the least recently used bucket', async (t) => {
  const c = clock();
  const store = createLocalBucketStore({ now: c.now, maxKeys: 3 });
  t.teardown(() => store.close());
  for (const key of ['a', 'b', 'c']) {
    store.take(key, limit);
    store.take(key, limit);
    store.take(key, limit);
  }
  t.equal(store.take('a', limit).allowed, false, 'touch a: now the most recent');
  store.take('d', limit);
  t.equal(store.size, 3, 'never more than maxKeys');
  t.equal(store.take('a', limit).allowed, false, 'a survived');
  t.equal(store.take('b', limit).allowed, true, 'b was evicted, so it starts full again');
});

t.test('sweep drops buckets that have refilled to full, and only those', async (t) => {
  const c = clock();
  const store = createLocalBucketStore({ now: c.now });
  t.teardown(() => store.close());
  store.take('once', limit);
  store.take('empty', limit);
  store.take('empty', limit);
  store.take('empty', limit);
  c.advance(100);
  store.sweep();
  t.equal(store.size, 1, 'one token after 100 ms: "once" is full, "empty" is not');
  c.advance(200);
  store.sweep();
  t.equal(store.size, 0);
});

t.test('the periodic sweep runs on its own timer', async (t) => {
  const c = clock();
  const store = createLocalBucketStore({ now: c.now, sweepIntervalMs: 5 });
  t.teardown(() => store.close());
  store.take('x', limit);
  c.advance(1_000);
  const deadline = Date.now() + 2_000;
  while (store.size !== 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  t.equal(store.size, 0);
});

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

t.test('sweep drops buckets that have been full for a sweep interval, and only those', async (t) => {
  const c = clock();
  const store = createLocalBucketStore({ now: c.now, sweepIntervalMs: 1_000 });
  t.teardown(() => store.close());
  store.take('once', limit); // full again at 100 ms
  store.take('empty', limit);
  store.take('empty', limit);
  store.take('empty', limit); // full again at 300 ms
  c.advance(1_000);
  store.sweep();
  t.equal(store.size, 2, 'both full now, neither for a whole interval');
  c.advance(100);
  store.sweep();
  t.equal(store.size, 1, '"once" has been full for 1 s, "empty" for 0.8 s');
  t.equal(store.take('empty', limit).remaining, 2, 'the kept bucket is full: the same answer as a new one');
  c.advance(1_200);
  store.sweep();
  t.equal(store.size, 0);
});

t.test('the order of use survives takes, refunds, evictions and sweeps', async (t) => {
  const c = clock();
  const store = createLocalBucketStore({ now: c.now, maxKeys: 3, sweepIntervalMs: 1_000 });
  t.teardown(() => store.close());
  const drain = (key: string) => [1, 2, 3].forEach(() => store.take(key, limit));
  ['a', 'b', 'c'].forEach(drain); // least recent first: a, b, c, all empty
  store.take('b', limit); // a, c, b
  store.take('a', limit); // c, b, a
  store.take('d', limit); // evicts c: b, a, d
  t.equal(store.size, 3);
  t.equal(store.take('c', limit).remaining, 2, 'c was the least recently used: it was evicted (a new, full bucket)'); // evicts b: a, d, c
  t.equal(store.take('a', limit).allowed, false, 'a kept its empty bucket'); // d, c, a
  t.equal(store.take('b', limit).remaining, 2, 'b went when c came back'); // evicts d: c, a, b
  store.refund('a', limit);
  t.equal(store.take('a', limit).allowed, true, 'a refund is kept in the bucket');
  c.advance(5_000);
  store.sweep();
  t.equal(store.size, 0, 'a sweep empties the list as well as the map');
  ['x', 'y', 'z', 'w'].forEach(drain);
  t.equal(store.size, 3, 'the cap still holds after a sweep emptied the list');
  t.equal(store.take('x', limit).remaining, 2, 'x, the oldest, was evicted');
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

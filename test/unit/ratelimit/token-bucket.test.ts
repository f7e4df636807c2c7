import t from 'tap';
import { fullTokenBucket, msUntilFull, takeToken } from '../../../src/ratelimit/token-bucket.js';

const limit = { ratePerSec: 10, burst: 5 };

t.test('a fresh bucket admits exactly burst requests at once, then rejects', async (t) => {
  const state = fullTokenBucket(limit, 1_000);
  const results = Array.from({ length: 7 }, () => takeToken(state, limit, 1_000));
  t.same(results.map((r) => r.allowed), [true, true, true, true, true, false, false]);
  t.same(results.map((r) => r.remaining), [4, 3, 2, 1, 0, 0, 0]);
  t.equal(results[5]?.retryAfterMs, 100, 'one token at 10/s takes 100 ms');
});

t.test('refill is exact with an injected clock', async (t) => {
  const state = fullTokenBucket(limit, 0);
  for (let i = 0; i < 5; i++) takeToken(state, limit, 0);
  t.equal(takeToken(state, limit, 99).allowed, false, '99 ms is not enough for one token');
  t.equal(takeToken(state, limit, 99).retryAfterMs, 1, 'retry after the missing millisecond');
  t.equal(takeToken(state, limit, 100).allowed, true, 'exactly 100 ms refills one token');
  t.equal(takeToken(state, limit, 100).allowed, false);
  const later = takeToken(state, limit, 400);
  t.equal(later.allowed, true);
  t.equal(later.remaining, 2, '300 ms gave 3 tokens, one taken');
});

t.test('refill never exceeds burst', async (t) => {
  const state = fullTokenBucket(limit, 0);
  takeToken(state, limit, 0);
  const r = takeToken(state, limit, 1_000_000);
  t.equal(r.remaining, 4);
  t.equal(state.tokens, 4);
});

t.test('rejected requests do not consume tokens', async (t) => {
  const state = fullTokenBucket({ ratePerSec: 1, burst: 1 }, 0);
  t.equal(takeToken(state, { ratePerSec: 1, burst: 1 }, 0).allowed, true);
  // Hammer the empty bucket: if rejects consumed, 1 s later there would still be no token.
  for (let ms = 0; ms < 1_000; ms += 10) {
    t.equal(takeToken(state, { ratePerSec: 1, burst: 1 }, ms).allowed, false);
  }
  t.equal(takeToken(state, { ratePerSec: 1, burst: 1 }, 1_000).allowed, true);
});

t.test('retryAfterMs counts down towards the next token', async (t) => {
  const slow = { ratePerSec: 0.5, burst: 1 };
  const state = fullTokenBucket(slow, 0);
  takeToken(state, slow, 0);
  t.equal(takeToken(state, slow, 0).retryAfterMs, 2_000);
  t.equal(takeToken(state, slow, 1_500).retryAfterMs, 500);
});

t.test('a clock stepping backwards neither adds nor removes tokens', async (t) => {
  const state = fullTokenBucket(limit, 10_000);
  takeToken(state, limit, 10_000);
  const r = takeToken(state, limit, 5_000);
  t.equal(r.allowed, true);
  t.equal(r.remaining, 3);
});

t.test('msUntilFull tells when a bucket equals an absent one', async (t) => {
  const state = fullTokenBucket(limit, 0);
  t.equal(msUntilFull(state, limit, 0), 0);
  takeToken(state, limit, 0);
  takeToken(state, limit, 0);
  t.equal(msUntilFull(state, limit, 0), 200);
  t.equal(msUntilFull(state, limit, 150), 50);
  t.equal(msUntilFull(state, limit, 500), 0);
});

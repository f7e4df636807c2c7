import t from 'tap';
import { fakeContext } from '../../../helpers/fake-context.js';
import type { RateLimitConfig } from '../../../../src/config/config-types.js';
import type { RequestContext } from '../../../../src/pipeline/request-context.js';
import { createRateLimitStep } from '../../../../src/pipeline/steps/rate-limit.js';
import type { BucketStore, TakeResult } from '../../../../src/ratelimit/bucket-store.js';
import { createLocalBucketStore } from '../../../../src/ratelimit/local-bucket-store.js';

function ctx(clientIp: string, headers: Record<string, string> = {}): RequestContext {
  return fakeContext({ clientIp, headers });
}

const limit: RateLimitConfig = { ratePerSec: 0.5, burst: 2, key: { kind: 'ip' }, id: '30/m:2:ip' };

t.test('admits burst requests synchronously, then answers 429 with Retry-After', async (t) => {
  let time = 0;
  const store = createLocalBucketStore({ now: () => time });
  t.teardown(() => store.close());
  const limited: string[] = [];
  const step = createRateLimitStep({ scope: 'example.com', limit, store, onLimited: (s) => limited.push(s) });

  t.equal(step(ctx('1.1.1.1')), undefined);
  t.equal(step(ctx('1.1.1.1')), undefined);
  const reply = step(ctx('1.1.1.1'));
  t.notOk(reply instanceof Promise, 'a sync store keeps the step sync');
  t.match(reply, {
    status: 429,
    headers: { 'Retry-After': '2', 'RateLimit-Limit': '2', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '2' },
    body: 'Too Many Requests\n',
  });
  t.same(limited, ['example.com']);
  t.equal(step(ctx('2.2.2.2')), undefined, 'another client is not affected');
  time = 1_999;
  t.match(step(ctx('1.1.1.1')), { headers: { 'Retry-After': '1' } }, 'Retry-After is at least 1');
  time = 2_000;
  t.equal(step(ctx('1.1.1.1')), undefined);
});

t.test('bucket key is scope|limit.id|client, so scopes and limits never share', async (t) => {
  const keys: string[] = [];
  const store: BucketStore = {
    take(key) {
      keys.push(key);
      return { allowed: true, remaining: 1, retryAfterMs: 0 };
    },
  };
  createRateLimitStep({ scope: 'a.com', limit, store })(ctx('1.1.1.1'));
  createRateLimitStep({ scope: 'a.com|/api', limit, store })(ctx('1.1.1.1'));
  const byHeader: RateLimitConfig = { ...limit, key: { kind: 'header', name: 'X-Key' }, id: 'h' };
  createRateLimitStep({ scope: 'a.com', limit: byHeader, store })(ctx('1.1.1.1', { 'x-key': 'k' }));
  t.same(keys, ['a.com|30/m:2:ip|ip:1.1.1.1', 'a.com|/api|30/m:2:ip|ip:1.1.1.1', 'a.com|h|h:k']);
});

t.test('an async store makes the step return a Promise of the same decision', async (t) => {
  const answers: TakeResult[] = [
    { allowed: true, remaining: 0, retryAfterMs: 0 },
    { allowed: false, remaining: 0, retryAfterMs: 2_500 },
  ];
  const store: BucketStore = { take: async () => answers.shift() as TakeResult };
  const step = createRateLimitStep({ scope: 's', limit, store });
  const first = step(ctx('1.1.1.1'));
  t.ok(first instanceof Promise);
  t.equal(await first, undefined);
  t.match(await step(ctx('1.1.1.1')), { status: 429, headers: { 'Retry-After': '3' } });
});

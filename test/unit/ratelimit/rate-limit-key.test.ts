import t from 'tap';
import { fakeContext } from '../../helpers/fake-context.js';
import type { RequestContext } from '../../../src/pipeline/request-context.js';
import { compileRateLimitKey } from '../../../src/ratelimit/rate-limit-key.js';

function ctx(clientIp: string, headers: Record<string, string | string[]> = {}): RequestContext {
  return fakeContext({ clientIp, headers });
}

t.test('ip keys by client IP', async (t) => {
  const key = compileRateLimitKey({ kind: 'ip' });
  t.equal(key(ctx('10.0.0.1')), 'ip:10.0.0.1');
  t.not(key(ctx('10.0.0.1')), key(ctx('10.0.0.2')));
});

t.test('header keys by the header value, name case-insensitive', async (t) => {
  const key = compileRateLimitKey({ kind: 'header', name: 'X-Api-Key' });
  // Node lower-cases incoming header names.
  t.equal(key(ctx('10.0.0.1', { 'x-api-key': 'abc' })), 'h:abc');
  t.equal(key(ctx('10.0.0.2', { 'x-api-key': 'abc' })), 'h:abc', 'same key from two IPs');
});

t.test('header keys fall back to the client IP when the header is absent or empty', async (t) => {
  const key = compileRateLimitKey({ kind: 'header', name: 'X-Api-Key' });
  t.equal(key(ctx('10.0.0.1')), 'ip:10.0.0.1');
  t.equal(key(ctx('10.0.0.1', { 'x-api-key': '' })), 'ip:10.0.0.1');
});

t.test('a header value cannot collide with an IP key', async (t) => {
  const key = compileRateLimitKey({ kind: 'header', name: 'X-Api-Key' });
  t.not(key(ctx('9.9.9.9', { 'x-api-key': '10.0.0.1' })), key(ctx('10.0.0.1')));
  t.not(key(ctx('9.9.9.9', { 'x-api-key': 'ip:10.0.0.1' })), key(ctx('10.0.0.1')));
});

t.test('long header values are hashed to a bounded key', async (t) => {
  const key = compileRateLimitKey({ kind: 'header', name: 'X-Api-Key' });
  const long = 'k'.repeat(10_000);
  const k1 = key(ctx('1.1.1.1', { 'x-api-key': long }));
  t.ok(k1.length < 100);
  t.equal(k1, key(ctx('2.2.2.2', { 'x-api-key': long })));
  t.not(k1, key(ctx('1.1.1.1', { 'x-api-key': `${long}x` })));
});

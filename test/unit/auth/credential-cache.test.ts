import t from 'tap';
import { createCredentialCache } from '../../../src/auth/credential-cache.js';

t.test('keys are SHA-256 digests of the header, never containing the password', async (t) => {
  const cache = createCredentialCache();
  const header = `Basic ${Buffer.from('alice:hunter2').toString('base64')}`;
  const key = cache.keyOf(header);
  t.equal(key, cache.keyOf(header));
  t.not(key, cache.keyOf(`${header}x`));
  t.notMatch(key, /hunter2/);
  t.notMatch(key, Buffer.from('alice:hunter2').toString('base64'));
});

t.test('a verified credential is cached until the TTL, capped at 5 minutes', async (t) => {
  let time = 0;
  const cache = createCredentialCache({ now: () => time, ttlMs: 60 * 60_000 });
  t.equal(await cache.verify('k', 'alice', 'H1', async () => true), true);
  t.equal(cache.lookup('k', 'alice', 'H1'), true);
  time = 5 * 60_000 - 1;
  t.equal(cache.lookup('k', 'alice', 'H1'), true);
  time = 5 * 60_000;
  t.equal(cache.lookup('k', 'alice', 'H1'), false, 'expired at 5 minutes despite a 1 h ttl');
});

t.test('a changed hash or another user invalidates; failures are not cached', async (t) => {
  const cache = createCredentialCache();
  await cache.verify('k', 'alice', 'H1', async () => true);
  t.equal(cache.lookup('k', 'alice', 'H2'), false);
  t.equal(cache.lookup('k', 'alice', 'H1-longer'), false);
  t.equal(cache.lookup('k', 'bob', 'H1'), false);
  await cache.verify('bad', 'alice', 'H1', async () => false);
  t.equal(cache.lookup('bad', 'alice', 'H1'), false);
});

t.test('concurrent checks of one key and hash share one pending check', async (t) => {
  const cache = createCredentialCache();
  let calls = 0;
  let release: (ok: boolean) => void = () => {};
  const check = (): Promise<boolean> => {
    calls++;
    return new Promise((resolve) => (release = resolve));
  };
  const all = Array.from({ length: 10 }, () => cache.verify('k', 'alice', 'H1', check));
  const otherHash = cache.verify('k', 'alice', 'H2', async () => false);
  release(true);
  t.same(await Promise.all(all), Array(10).fill(true));
  t.equal(calls, 1);
  t.equal(await otherHash, false, 'a different hash is its own flight');
  const later = cache.verify('k', 'alice', 'H1', check);
  release(false);
  t.equal(await later, false);
  t.equal(calls, 2, 'the settled flight was dropped: a later verify runs its own check');
});

t.test('a failed check rejects every waiter and is not remembered', async (t) => {
  const cache = createCredentialCache();
  const boom = async (): Promise<boolean> => {
    throw new Error('boom');
  };
  await t.rejects(Promise.all([cache.verify('k', 'a', 'H', boom), cache.verify('k', 'a', 'H', boom)]), /boom/);
  t.equal(await cache.verify('k', 'a', 'H', async () => true), true, 'next verify runs again');
});

t.test('the cache is bounded and evicts the least recently used entry', async (t) => {
  const cache = createCredentialCache({ maxEntries: 2 });
  await cache.verify('a', 'u', 'H', async () => true);
  await cache.verify('b', 'u', 'H', async () => true);
  t.equal(cache.lookup('a', 'u', 'H'), true, 'touch a');
  await cache.verify('c', 'u', 'H', async () => true);
  t.equal(cache.lookup('a', 'u', 'H'), true);
  t.equal(cache.lookup('b', 'u', 'H'), false, 'b was the least recently used');
  t.equal(cache.lookup('c', 'u', 'H'), true);
});

t.test('pending exposes the running check of a key and hash, and only while it runs', async (t) => {
  const cache = createCredentialCache();
  t.equal(cache.pending('k', 'H'), undefined);
  let release: (ok: boolean) => void = () => {};
  const flight = cache.verify('k', 'u', 'H', () => new Promise<boolean>((resolve) => (release = resolve)));
  t.equal(cache.pending('k', 'H'), flight, 'the same promise: joining costs no check');
  t.equal(cache.pending('k', 'H2'), undefined, 'another hash is another check');
  release(true);
  await flight;
  t.equal(cache.pending('k', 'H'), undefined);
});

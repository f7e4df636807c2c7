import type { Test } from 'tap';
import type { CertStore } from '../../src/tls/cert-store.js';
import { eventually } from './eventually.js';

/**
 * How a contract run gets its stores: `open()` returns a new handle on the same storage, as a
 * second Portico instance (another process on the same directory, another connection to the
 * same Redis and prefix) would see it. Every call of `fresh` starts from empty storage.
 */
export interface CertStoreUnderTest {
  open(): CertStore;
}

/**
 * What every CertStore promises (src/tls/cert-store.ts), after certmagic's storage tests: run
 * once per implementation so the file store and the Redis store cannot drift apart. Keys end in
 * `.crt`/`.key` because those are the only values Portico stores.
 */
export async function certStoreContract(t: Test, fresh: (t: Test) => Promise<CertStoreUnderTest>): Promise<void> {
  await t.test('load and list on empty storage', async (t) => {
    const store = (await fresh(t)).open();
    t.equal(await store.load('acme/a.test.crt'), undefined, 'missing key');
    t.same(await store.list('acme/'), [], 'nothing listed');
    t.same(await store.list(''), [], 'nothing listed at the root');
  });

  await t.test('store then load, binary-safe, seen by another handle', async (t) => {
    const storage = await fresh(t);
    const store = storage.open();
    const bytes = Buffer.from([0, 1, 2, 255, 10, 13]);
    await store.store('acme/a.test.key', bytes);
    t.same(await store.load('acme/a.test.key'), bytes, 'same bytes back');
    t.same(await storage.open().load('acme/a.test.key'), bytes, 'another instance reads it');
    await store.store('acme/a.test.key', Buffer.from('KEY2'));
    t.equal((await store.load('acme/a.test.key'))?.toString(), 'KEY2', 'store replaces the value');
  });

  await t.test('list returns the keys under a prefix, sorted', async (t) => {
    const store = (await fresh(t)).open();
    await store.store('self-signed/_wildcard_.p.test.crt', Buffer.from('X'));
    await store.store('acme/b.test.crt', Buffer.from('B'));
    await store.store('acme/a.test.key', Buffer.from('K'));
    await store.store('acme/a.test.crt', Buffer.from('C'));
    t.same(await store.list('acme/'), ['acme/a.test.crt', 'acme/a.test.key', 'acme/b.test.crt']);
    t.same(await store.list('acme/a.'), ['acme/a.test.crt', 'acme/a.test.key']);
    t.same(await store.list(''), ['acme/a.test.crt', 'acme/a.test.key', 'acme/b.test.crt', 'self-signed/_wildcard_.p.test.crt']);
    t.same(await store.list('acme/*'), [], 'glob characters are literal');
    await store.lock('acme/a.test', 60_000);
    t.same(await store.list('acme/'), ['acme/a.test.crt', 'acme/a.test.key', 'acme/b.test.crt'], 'locks are not listed');
  });

  await t.test('a reader never sees a partial value while writers race', async (t) => {
    const store = (await fresh(t)).open();
    const big = (c: string): Buffer => Buffer.alloc(256 * 1024, c);
    await store.store('acme/x.crt', big('a'));
    const writes = ['b', 'c', 'd', 'e'].map((c) => store.store('acme/x.crt', big(c)));
    const reads: Promise<Buffer | undefined>[] = [];
    for (let i = 0; i < 20; i++) reads.push(store.load('acme/x.crt'));
    await Promise.all(writes);
    for (const value of await Promise.all(reads)) {
      t.equal(value?.length, 256 * 1024);
      t.ok(value?.every((byte) => byte === value[0]), 'one write, whole');
    }
  });

  await t.test('lock is exclusive across instances until released', async (t) => {
    const storage = await fresh(t);
    const a = storage.open();
    const b = storage.open();
    const first = await a.lock('acme/a.test', 60_000);
    t.ok(first, 'first holder gets it');
    t.equal(await b.lock('acme/a.test', 60_000), undefined, 'second holder is refused');
    t.equal(await a.lock('acme/a.test', 60_000), undefined, 'not re-entrant');
    t.ok(await b.lock('acme/other.test', 60_000), 'other keys are independent');
    await first?.release();
    const second = await b.lock('acme/a.test', 60_000);
    t.ok(second, 'free again after release');
    await second?.release();
  });

  await t.test('concurrent contenders: exactly one wins', async (t) => {
    const storage = await fresh(t);
    const results = await Promise.all(Array.from({ length: 10 }, () => storage.open().lock('acme/race.test', 60_000)));
    t.equal(results.filter(Boolean).length, 1);
  });

  await t.test('an expired lock is taken over; the old holder cannot release the new lock', async (t) => {
    const store = (await fresh(t)).open();
    const crashed = await store.lock('acme/a.test', 30); // short TTL: like a holder that crashed
    t.ok(crashed);
    const taker = await eventually(() => store.lock('acme/a.test', 60_000), { message: 'lock expiry' });
    await crashed?.release();
    t.equal(await store.lock('acme/a.test', 60_000), undefined, 'still held by the new holder');
    await taker.release();
    t.ok(await store.lock('acme/a.test', 60_000), 'free after the new holder released it');
  });

  await t.test('refresh extends a held lock; refused once it lapsed or changed owner', async (t) => {
    const store = (await fresh(t)).open();
    // A TTL far above one refresh interval, so a busy machine stalling a turn cannot lapse it.
    const held = (await store.lock('acme/r.test', 1_000))!;
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      t.equal(await held.refresh(1_000), true, 'refreshed while held');
      if (await store.lock('acme/r.test', 60_000)) return t.fail('taken while refreshed past its first TTL');
      // The point is wall-clock time passing beyond the first TTL, so this one waits for time.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.pass('held for 1.5 s on a 1 s lock by refreshing');
    await held.release();

    const lapsing = (await store.lock('acme/l.test', 30))!;
    const expiry = Date.now() + 30;
    await eventually(() => Date.now() > expiry + 10, { message: 'the clock passing the TTL' });
    t.equal(await lapsing.refresh(60_000), false, 'expired: not refreshed');
    const taker = await eventually(() => store.lock('acme/l.test', 60_000), { message: 'lock expiry' });
    t.equal(await lapsing.refresh(60_000), false, 'the old holder cannot refresh the new lock');
    t.equal(await taker.refresh(60_000), true, 'the new holder can');
    await taker.release();
  });
}

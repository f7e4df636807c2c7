import t from 'tap';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FileCertStore } from '../../../src/tls/file-cert-store.js';

t.test('store/load/list with atomic writes and private keys', async (t) => {
  const dir = path.join(t.testdir(), 'certs');
  const store = new FileCertStore(dir);
  t.equal(await store.load('acme/a.test.crt'), undefined, 'missing key');
  t.same(await store.list('acme/'), [], 'missing directory lists nothing');
  await store.store('acme/a.test.crt', Buffer.from('CERT1'));
  await store.store('acme/a.test.key', Buffer.from('KEY1'));
  await store.store('self-signed/_wildcard_.p.test.crt', Buffer.from('X'));
  t.equal((await store.load('acme/a.test.crt'))?.toString(), 'CERT1');
  t.equal((await fs.stat(path.join(dir, 'acme/a.test.key'))).mode & 0o777, 0o600, 'key is 0600');
  t.equal((await fs.stat(path.join(dir, 'acme/a.test.crt'))).mode & 0o777, 0o644, 'cert is 0644');
  t.equal((await fs.stat(path.join(dir, 'acme'))).mode & 0o777, 0o700, 'directory is private');
  t.same(await store.list('acme/'), ['acme/a.test.crt', 'acme/a.test.key']);
  t.same(await store.list(''), ['acme/a.test.crt', 'acme/a.test.key', 'self-signed/_wildcard_.p.test.crt']);
  await t.rejects(store.load('../etc/passwd'), TypeError, 'keys cannot escape the directory');
});

t.test('a reader never sees a partial file while writers race', async (t) => {
  const store = new FileCertStore(t.testdir());
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
  const leftovers = (await fs.readdir(path.join(store.dir, 'acme'))).filter((f) => f.includes('.tmp-'));
  t.same(leftovers, [], 'no temporary files left');
});

t.test('lock is exclusive until released', async (t) => {
  const dir = t.testdir();
  const a = new FileCertStore(dir);
  const b = new FileCertStore(dir); // another process would see the same files
  const first = await a.lock('acme/a.test', 60_000);
  t.ok(first, 'first holder gets it');
  t.equal(await b.lock('acme/a.test', 60_000), undefined, 'second holder is refused');
  t.ok(await b.lock('acme/other.test', 60_000), 'other keys are independent');
  await first?.release();
  const second = await b.lock('acme/a.test', 60_000);
  t.ok(second, 'free again after release');
  await second?.release();
});

t.test('concurrent contenders: exactly one wins', async (t) => {
  const dir = t.testdir();
  const results = await Promise.all(Array.from({ length: 10 }, () => new FileCertStore(dir).lock('acme/race.test', 60_000)));
  t.equal(results.filter(Boolean).length, 1);
});

t.test('an expired (stale) lock is taken over; the old holder cannot release the new lock', async (t) => {
  const dir = t.testdir();
  const store = new FileCertStore(dir);
  const crashed = await store.lock('acme/a.test', 1); // expires after 1 ms: like a crashed holder
  t.ok(crashed);
  const lockFile = path.join(dir, 'locks', 'acme', 'a.test.lock');
  // Wait for the expiry by condition, not by a fixed sleep.
  const start = Date.now();
  while (Date.now() - start < 5) await new Promise((resolve) => setImmediate(resolve));
  const taker = await store.lock('acme/a.test', 60_000);
  t.ok(taker, 'stale lock taken over');
  await crashed?.release();
  t.ok(await fs.stat(lockFile), 'late release by the old holder leaves the new lock');
  t.equal(await store.lock('acme/a.test', 60_000), undefined, 'still held by the new holder');
  await taker?.release();
  await t.rejects(fs.stat(lockFile), { code: 'ENOENT' }, 'released');
});

t.test('a torn (unparsable) lock file is stale only once it is old', async (t) => {
  const dir = t.testdir();
  const store = new FileCertStore(dir);
  const lockFile = path.join(dir, 'locks', 'acme', 'b.test.lock');
  await fs.mkdir(path.dirname(lockFile), { recursive: true });
  await fs.writeFile(lockFile, '');
  t.equal(await store.lock('acme/b.test', 60_000), undefined, 'fresh torn file: maybe being written');
  const old = new Date(Date.now() - 60_000);
  await fs.utimes(lockFile, old, old);
  t.ok(await store.lock('acme/b.test', 60_000), 'old torn file is taken over');
});

t.test('refresh extends a held lock; an expired or taken-over lock cannot be refreshed', async (t) => {
  const dir = t.testdir();
  const store = new FileCertStore(dir);
  const held = (await store.lock('acme/a.test', 150))!;
  const until = Date.now() + 400;
  while (Date.now() < until) {
    t.equal(await held.refresh(150), true, 'refreshed while held');
    if (await store.lock('acme/a.test', 60_000)) return t.fail('taken while refreshed past its first TTL');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.pass('held for 400 ms on a 150 ms lock by refreshing');
  const leftovers = (await fs.readdir(path.join(dir, 'locks', 'acme'))).filter((f) => f !== 'a.test.lock');
  t.same(leftovers, [], 'no refresh files left beside the lock');

  const lapsing = (await store.lock('acme/b.test', 1))!;
  const start = Date.now();
  while (Date.now() - start < 5) await new Promise((resolve) => setImmediate(resolve));
  t.equal(await lapsing.refresh(60_000), false, 'expired: not refreshed');
  const taker = (await store.lock('acme/b.test', 60_000))!;
  t.ok(taker, 'taken over');
  t.equal(await lapsing.refresh(60_000), false, 'the old holder cannot refresh the new lock');
  t.equal(await taker.refresh(60_000), true);
  await held.release();
  await taker.release();
});

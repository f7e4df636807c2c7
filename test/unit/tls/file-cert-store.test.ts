import t from 'tap';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FileCertStore } from '../../../src/tls/file-cert-store.js';

// What every CertStore promises is in test/integration/cert-store-contract.test.ts; these are
// the file store's own promises: permissions, the directory boundary, no debris on disk.

t.test('private keys are 0600 and the directories 0700 from creation on', async (t) => {
  const dir = path.join(t.testdir(), 'certs');
  const store = new FileCertStore(dir);
  await store.store('acme/a.test.crt', Buffer.from('CERT1'));
  await store.store('acme/a.test.key', Buffer.from('KEY1'));
  t.equal((await fs.stat(path.join(dir, 'acme/a.test.key'))).mode & 0o777, 0o600, 'key is 0600');
  t.equal((await fs.stat(path.join(dir, 'acme/a.test.crt'))).mode & 0o777, 0o644, 'cert is 0644');
  t.equal((await fs.stat(path.join(dir, 'acme'))).mode & 0o777, 0o700, 'directory is private');
});

t.test('keys cannot escape the directory', async (t) => {
  const store = new FileCertStore(t.testdir());
  await t.rejects(store.load('../etc/passwd'), TypeError);
  await t.rejects(store.store('/etc/passwd', Buffer.from('x')), TypeError);
  await t.rejects(store.lock('../../x', 1_000), TypeError);
});

t.test('racing writers leave no temporary files', async (t) => {
  const store = new FileCertStore(t.testdir());
  await Promise.all(['a', 'b', 'c', 'd'].map((c) => store.store('acme/x.crt', Buffer.alloc(64 * 1024, c))));
  const leftovers = (await fs.readdir(path.join(store.dir, 'acme'))).filter((f) => f !== 'x.crt');
  t.same(leftovers, [], 'only the certificate itself');
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

t.test('lock files: refresh leaves nothing beside the lock, release removes it', async (t) => {
  const dir = t.testdir();
  const store = new FileCertStore(dir);
  const held = (await store.lock('acme/a.test', 60_000))!;
  for (let i = 0; i < 3; i++) t.equal(await held.refresh(60_000), true);
  t.same(await fs.readdir(path.join(dir, 'locks', 'acme')), ['a.test.lock'], 'no refresh files left');
  await held.release();
  t.same(await fs.readdir(path.join(dir, 'locks', 'acme')), [], 'released');
});

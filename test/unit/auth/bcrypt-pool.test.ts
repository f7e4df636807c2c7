import bcrypt from 'bcryptjs';
import t from 'tap';
import { BcryptPoolError, createBcryptPool, defaultBcryptPoolSize, type BcryptResult } from '../../../src/auth/bcrypt-pool.js';

const hash = await bcrypt.hash('secret', 4);
// A worker that never answers, and one that dies on the password "crash" (data: URLs are
// accepted by worker_threads, so no extra file is needed).
const silentWorker = new URL(`data:text/javascript,${encodeURIComponent(`
import { parentPort } from 'node:worker_threads';
parentPort.on('message', () => {});
`)}`);
const crashingWorker = new URL(`data:text/javascript,${encodeURIComponent(`
import { parentPort } from 'node:worker_threads';
parentPort.on('message', (job) => {
  if (job.password === 'crash') process.exit(3);
  parentPort.postMessage({ ok: job.password === 'secret' });
});
`)}`);

t.test('the default size leaves a core to the event loop and stops at 2', async (t) => {
  t.equal(defaultBcryptPoolSize(1), 1);
  t.equal(defaultBcryptPoolSize(2), 1);
  t.equal(defaultBcryptPoolSize(3), 2);
  t.equal(defaultBcryptPoolSize(64), 2);
});

t.test('compares on worker threads, started on demand', async (t) => {
  const results: BcryptResult[] = [];
  const pool = createBcryptPool({ size: 2, onCompare: (r) => results.push(r) });
  t.teardown(() => pool.close());
  t.same(pool.state(), { queued: 0, running: 0, workers: 0 }, 'no thread before the first compare');
  const verdicts = await Promise.all([pool.compare('secret', hash), pool.compare('wrong', hash), pool.compare('secret', hash)]);
  t.same(verdicts, [true, false, true]);
  t.same(results.sort(), ['match', 'match', 'mismatch']);
  t.equal(pool.state().workers, 2, 'never more threads than the size');
  t.same(await pool.compare('x', 'not-a-bcrypt-hash'), false, 'bcryptjs says no to a malformed hash');
});

t.test('the event loop keeps turning while a costly compare runs', async (t) => {
  const pool = createBcryptPool({ size: 1 });
  t.teardown(() => pool.close());
  const costly = await bcrypt.hash('slow', 10);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  t.teardown(() => clearInterval(timer));
  t.equal(await pool.compare('slow', costly), true);
  t.ok(ticks >= 3, `timers fired ${ticks} times during one cost-10 compare`);
});

t.test('the queue is bounded: beyond it, compare rejects at once with PORTICO_AUTH_BUSY', async (t) => {
  let rejected = 0;
  const pool = createBcryptPool({ size: 1, maxQueue: 2, workerFile: silentWorker, onRejected: () => rejected++ });
  t.teardown(() => pool.close());
  const held = [pool.compare('a', hash), pool.compare('b', hash), pool.compare('c', hash)];
  for (const p of held) p.catch(() => {});
  t.same(pool.state(), { queued: 2, running: 1, workers: 1 });
  await t.rejects(pool.compare('d', hash), { name: 'BcryptPoolError', code: 'PORTICO_AUTH_BUSY' });
  t.equal(rejected, 1);
  await pool.close();
  for (const p of held) await t.rejects(p, { code: 'PORTICO_AUTH_CLOSED' }, 'close fails what is pending');
  await t.rejects(pool.compare('e', hash), { code: 'PORTICO_AUTH_CLOSED' });
});

t.test('no queue at all still lets a compare through when a thread is free', async (t) => {
  const pool = createBcryptPool({ size: 1, maxQueue: 0 });
  t.teardown(() => pool.close());
  t.equal(await pool.compare('secret', hash), true);
});

t.test('a crashed worker fails only its own compare and is replaced', async (t) => {
  const exits: number[] = [];
  const results: BcryptResult[] = [];
  const pool = createBcryptPool({
    size: 1,
    workerFile: crashingWorker,
    onWorkerExit: (code) => exits.push(code),
    onCompare: (r) => results.push(r),
  });
  t.teardown(() => pool.close());
  const crashed = pool.compare('crash', hash);
  const queued = pool.compare('secret', hash);
  const err = await crashed.catch((e: unknown) => e);
  t.ok(err instanceof BcryptPoolError);
  t.equal((err as BcryptPoolError).code, 'PORTICO_AUTH_WORKER_FAILED');
  t.equal(await queued, true, 'the queued compare ran on a replacement thread');
  t.same(exits, [3]);
  t.same(results, ['error', 'match']);
  t.equal(pool.state().workers, 1);
});

t.test('close terminates the threads; nothing keeps the process alive', async (t) => {
  const pool = createBcryptPool({ size: 2 });
  await Promise.all([pool.compare('secret', hash), pool.compare('secret', hash)]);
  t.equal(pool.state().workers, 2);
  await pool.close();
  t.equal(pool.state().workers, 0);
});

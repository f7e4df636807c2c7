import { EventEmitter } from 'node:events';
import t from 'tap';
import type { Worker } from 'node:cluster';
import { PendingReplies } from '../../../src/cluster/pending-replies.js';
import type { WorkerHandle } from '../../../src/cluster/supervisor.js';
import { WorkerSlots } from '../../../src/cluster/worker-slots.js';
import { eventually } from '../../helpers/eventually.js';
import { createLogSink } from '../../helpers/log-sink.js';

// The slot logic alone, with stand-in workers: replacement at once, a growing delay while a
// worker keeps dying right after its start, and no replacement once the instance stops.

class FakeWorker extends EventEmitter {
  dead = false;
  constructor(readonly id: number) {
    super();
  }
  isDead() {
    return this.dead;
  }
  isConnected() {
    return !this.dead;
  }
  send(message: { type: string }) {
    if (message.type === 'shutdown') this.die(0);
  }
  die(code: number | null, signal: string | null = null) {
    this.dead = true;
    this.emit('exit', code, signal);
  }
}

function slots(count: number, opts: { stopped?: () => boolean } = {}) {
  const sink = createLogSink();
  const forked: FakeWorker[] = [];
  const handles: WorkerHandle[] = [];
  const s = new WorkerSlots(count, sink.logger, {
    fork: () => {
      const worker = new FakeWorker(forked.length + 1);
      forked.push(worker);
      const h = { worker: worker as unknown as Worker, pending: new PendingReplies(), loaded: { config: {}, digest: '' }, ready: false } as unknown as WorkerHandle;
      handles.push(h);
      return h;
    },
    stopped: opts.stopped ?? (() => false),
  }, { backoffBaseMs: 50, maxBackoffMs: 200 });
  const readyAll = () => handles.forEach((h) => {
    h.ready = true;
    s.ready(h);
  });
  return { s, sink, forked, handles, readyAll };
}

t.test('start resolves once every worker is ready', async (t) => {
  const { s, forked, readyAll } = slots(2);
  const started = s.startAll();
  t.equal(forked.length, 2);
  readyAll();
  await started;
  t.equal(s.handles().length, 2);
});

t.test('a worker that exits before the start completes fails the start', async (t) => {
  const { s, forked } = slots(2);
  const started = s.startAll();
  forked[0]!.die(1);
  await t.rejects(started, /worker 1 exited before serving \(exit code 1\)/);
});

t.test('a dead worker is replaced at once; a crash loop backs off, doubling up to the cap', async (t) => {
  const { s, sink, forked, readyAll } = slots(1);
  const started = s.startAll();
  readyAll();
  await started;
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    const n = forked.length;
    forked[n - 1]!.die(null, 'SIGKILL');
    await eventually(() => forked.length === n + 1, { within: 2_000, message: `replacement ${i + 1}` });
    delays.push(Number(sink.filter({ event: 'worker_exit' })[i]!.restartInMs));
  }
  t.same(delays, [0, 50, 100, 200, 200], 'first at once, then 50, 100, 200 ms (capped)');
  t.match(sink.find({ event: 'worker_exit' }), { level: 'error', signal: 'SIGKILL', worker: 1 });
});

t.test('no replacement once the instance is stopping; stopAll waits for every exit', async (t) => {
  let stopping = false;
  const { s, forked, readyAll } = slots(2, { stopped: () => stopping });
  const started = s.startAll();
  readyAll();
  await started;
  stopping = true;
  await s.stopAll(1_000);
  t.ok(forked.every((w) => w.dead), 'every worker told to stop has exited');
  t.equal(forked.length, 2, 'none replaced');
});

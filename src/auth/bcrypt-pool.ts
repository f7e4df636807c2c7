import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { PorticoError, type PorticoErrorCode } from '../errors.js';
import type { BcryptJob, BcryptReply } from './bcrypt-worker.js';

/** How a comparison ended, for the `portico_auth_bcrypt_compares_total{result}` counter. */
export type BcryptResult = 'match' | 'mismatch' | 'error';

/** Why the pool gave no verdict: its queue was full, a worker died, or it is closed. */
export type BcryptPoolErrorCode = Extract<PorticoErrorCode, 'PORTICO_AUTH_BUSY' | 'PORTICO_AUTH_WORKER_FAILED' | 'PORTICO_AUTH_CLOSED'>;

/** A comparison the pool could not run; `PORTICO_AUTH_BUSY` is answered 503 by the auth step. */
export class BcryptPoolError extends PorticoError {
  declare readonly code: BcryptPoolErrorCode;

  constructor(code: BcryptPoolErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'BcryptPoolError';
  }
}

/** Options of the pool; all have production defaults. */
export interface BcryptPoolOptions {
  /** Worker threads at most (default: one core left to the event loop, 1 to 2 threads). */
  readonly size?: number;
  /** Comparisons waiting for a thread at most; beyond it `compare` rejects at once (default 32). */
  readonly maxQueue?: number;
  /** The worker script; tests pass one that crashes. */
  readonly workerFile?: URL;
  /** Called once per comparison that ran in a worker. */
  readonly onCompare?: (result: BcryptResult) => void;
  /** Called when a comparison is refused because the queue is full. */
  readonly onRejected?: () => void;
  /** Called when a worker thread ends other than by close(); it is replaced on demand. */
  readonly onWorkerExit?: (code: number, err: Error | undefined) => void;
}

/** What the pool is doing right now, read by the metrics at scrape time. */
export interface BcryptPoolState {
  readonly queued: number;
  readonly running: number;
  readonly workers: number;
}

/** bcrypt comparisons on worker threads, so they never hold the thread that serves requests. */
export interface BcryptPool {
  /** Resolves with the verdict; rejects with a BcryptPoolError when it cannot give one. */
  compare(password: string, hash: string): Promise<boolean>;
  state(): BcryptPoolState;
  /** Refuses new work, fails what is queued and terminates the threads. */
  close(): Promise<void>;
}

interface Job extends BcryptJob {
  readonly resolve: (ok: boolean) => void;
  readonly reject: (err: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
}

const DEFAULT_MAX_QUEUE = 32;
const WORKER_FILE = new URL('./bcrypt-worker.js', import.meta.url);

/**
 * The default size: every core but one, at most 2. bcryptjs is pure JavaScript and keeps a core
 * busy for the whole comparison, so a pool as wide as the machine would leave the event loop
 * competing for CPU during a burst; and a Basic-Auth gate sees few distinct credentials (the
 * credential cache answers repeats), so more threads would only buy attackers throughput.
 */
export function defaultBcryptPoolSize(cores = availableParallelism()): number {
  return Math.max(1, Math.min(2, cores - 1));
}

/**
 * Creates the pool. Threads start on demand and run one comparison each at a time; an idle
 * thread is unref'd, so it never keeps the process alive (a running comparison does, as its
 * request would). A thread that dies fails only the comparison it was running and is replaced by
 * the next comparison that needs one, so a worker that cannot start at all costs one failed
 * request per attempt rather than a respawn loop. The queue is bounded: a flood of distinct
 * credentials from many addresses gets an immediate refusal, not minutes of waiting.
 *
 * The body is the pool: threads, queue and their bookkeeping, closed over by the returned methods.
 */
export function createBcryptPool(opts: BcryptPoolOptions = {}): BcryptPool {
  const size = Math.max(1, opts.size ?? defaultBcryptPoolSize());
  const maxQueue = Math.max(0, opts.maxQueue ?? DEFAULT_MAX_QUEUE);
  const workerFile = opts.workerFile ?? WORKER_FILE;
  const slots: Slot[] = [];
  const queue: Job[] = [];
  let running = 0;
  let closed = false;

  const finish = (slot: Slot): Job | undefined => {
    const job = slot.job;
    slot.job = undefined;
    if (job !== undefined) running -= 1;
    slot.worker.unref();
    return job;
  };

  const spawn = (): Slot => {
    // No inherited --import hooks (APM agents, test loaders): the thread only needs bcryptjs.
    const worker = new Worker(workerFile, { execArgv: [] });
    worker.unref();
    const slot: Slot = { worker, job: undefined };
    let failure: Error | undefined;
    worker.on('message', (reply: BcryptReply) => {
      const job = finish(slot);
      if (job === undefined) return;
      if ('ok' in reply) {
        opts.onCompare?.(reply.ok ? 'match' : 'mismatch');
        job.resolve(reply.ok);
      } else {
        opts.onCompare?.('error');
        job.reject(new BcryptPoolError('PORTICO_AUTH_WORKER_FAILED', `bcrypt: ${reply.error}`));
      }
      dispatch();
    });
    worker.on('error', (err) => (failure = err));
    worker.on('exit', (code) => {
      slots.splice(slots.indexOf(slot), 1);
      const job = finish(slot);
      if (closed) return;
      opts.onWorkerExit?.(code, failure);
      if (job !== undefined) {
        opts.onCompare?.('error');
        job.reject(new BcryptPoolError('PORTICO_AUTH_WORKER_FAILED', `bcrypt worker exited with code ${code}`, { cause: failure }));
      }
      dispatch();
    });
    slots.push(slot);
    return slot;
  };

  const dispatch = (): void => {
    while (queue.length > 0 && !closed) {
      const slot = slots.find((s) => s.job === undefined) ?? (slots.length < size ? spawn() : undefined);
      if (slot === undefined) return;
      const job = queue.shift() as Job;
      slot.job = job;
      running += 1;
      slot.worker.ref();
      slot.worker.postMessage({ password: job.password, hash: job.hash } satisfies BcryptJob);
    }
  };

  return {
    compare(password, hash) {
      if (closed) return Promise.reject(new BcryptPoolError('PORTICO_AUTH_CLOSED', 'bcrypt pool is closed'));
      // A comparison that finds a free (or startable) thread never waits, even with no queue.
      if (running >= size && queue.length >= maxQueue) {
        opts.onRejected?.();
        return Promise.reject(new BcryptPoolError('PORTICO_AUTH_BUSY', 'bcrypt queue is full'));
      }
      return new Promise<boolean>((resolve, reject) => {
        queue.push({ password, hash, resolve, reject });
        dispatch();
      });
    },
    state: () => ({ queued: queue.length, running, workers: slots.length }),
    async close() {
      closed = true;
      const error = new BcryptPoolError('PORTICO_AUTH_CLOSED', 'bcrypt pool is closed');
      for (const job of queue.splice(0)) job.reject(error);
      for (const slot of slots) finish(slot)?.reject(error);
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

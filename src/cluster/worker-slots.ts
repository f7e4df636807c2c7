import type { Logger } from '../observability/logger.js';
import type { WorkerHandle } from './supervisor.js';

/** A worker that dies sooner than this after it started counts toward a crash loop. */
const QUICK_DEATH_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;

interface Slot {
  handle: WorkerHandle | undefined;
  startedAt: number;
  /** Quick deaths in a row: the first is replaced at once, then 1 s, 2 s, 4 s … 30 s. */
  quickDeaths: number;
  timer: NodeJS.Timeout | undefined;
}

/** What the slots need from the supervisor. */
export interface SlotHooks {
  fork(): WorkerHandle;
  /** True once the instance is shutting down: exits are expected then. */
  stopped(): boolean;
}

/** Timings; production uses the defaults, tests shorter ones. */
export interface SlotTimings {
  /** Delay before the second replacement in a crash loop; doubles each time (default 1 s). */
  readonly backoffBaseMs?: number;
  readonly maxBackoffMs?: number;
}

/**
 * Keeps `count` workers running. A worker that dies is logged and replaced at once, while the
 * others keep serving; one that keeps dying right after its start is replaced with a growing
 * delay, so a crash loop does not burn the CPU the other workers need.
 */
export class WorkerSlots {
  private readonly slots: Slot[];
  private starting: { resolve(): void; reject(err: Error): void } | undefined;

  private readonly backoffBaseMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    count: number,
    private readonly log: Logger,
    private readonly hooks: SlotHooks,
    timings: SlotTimings = {},
  ) {
    this.backoffBaseMs = timings.backoffBaseMs ?? 1_000;
    this.maxBackoffMs = timings.maxBackoffMs ?? MAX_BACKOFF_MS;
    this.slots = Array.from({ length: count }, () => ({ handle: undefined, startedAt: 0, quickDeaths: 0, timer: undefined }));
  }

  handles(): WorkerHandle[] {
    return this.slots.flatMap((s) => (s.handle ? [s.handle] : []));
  }

  /** Starts every worker; resolves once all serve, rejects if one exits first. */
  startAll(): Promise<void> {
    const started = new Promise<void>((resolve, reject) => (this.starting = { resolve, reject }));
    for (const slot of this.slots) this.spawn(slot);
    return started;
  }

  /** Called when a worker reports that it serves. */
  ready(h: WorkerHandle): void {
    const slot = this.slots.find((s) => s.handle === h);
    if (slot && this.starting === undefined) this.log.info({ event: 'worker_started', worker: h.worker.id }, `worker ${h.worker.id} serving`);
    if (this.starting && this.slots.every((s) => s.handle?.ready)) {
      this.starting.resolve();
      this.starting = undefined;
    }
  }

  /** Tells every worker to drain and resolves once all have exited (killed after `limitMs`). */
  async stopAll(limitMs: number): Promise<void> {
    for (const slot of this.slots) clearTimeout(slot.timer);
    const exits = this.handles().map(
      (h) =>
        new Promise<void>((resolve) => {
          if (h.worker.isDead()) return resolve();
          h.worker.once('exit', () => resolve());
          if (h.worker.isConnected()) h.worker.send({ type: 'shutdown' });
          else h.worker.process.kill('SIGTERM');
        }),
    );
    const limit = setTimeout(() => this.handles().forEach((h) => h.worker.isDead() || h.worker.process.kill('SIGKILL')), limitMs);
    await Promise.all(exits);
    clearTimeout(limit);
  }

  private spawn(slot: Slot): void {
    slot.timer = undefined;
    const h = this.hooks.fork();
    slot.handle = h;
    slot.startedAt = Date.now();
    h.worker.once('exit', (code: number | null, signal: string | null) => this.exited(slot, h, code, signal));
  }

  private exited(slot: Slot, h: WorkerHandle, code: number | null, signal: string | null): void {
    if (this.hooks.stopped()) return;
    if (this.starting) {
      const how = signal ? ` (${signal})` : code ? ` (exit code ${code})` : '';
      this.starting.reject(new Error(`worker ${h.worker.id} exited before serving${how}`));
      this.starting = undefined;
      return;
    }
    const lived = Date.now() - slot.startedAt;
    slot.quickDeaths = lived < QUICK_DEATH_MS ? slot.quickDeaths + 1 : 0;
    const delay = slot.quickDeaths <= 1 ? 0 : Math.min(this.maxBackoffMs, this.backoffBaseMs * 2 ** (slot.quickDeaths - 2));
    this.log.error({ event: 'worker_exit', worker: h.worker.id, code, signal, livedMs: lived, restartInMs: delay }, `worker ${h.worker.id} exited; replacing it`);
    slot.timer = setTimeout(() => this.spawn(slot), delay);
  }
}

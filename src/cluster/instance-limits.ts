import { createAuthFailureThrottle } from '../auth/auth-failure-throttle.js';
import { createLocalBucketStore } from '../ratelimit/local-bucket-store.js';
import type { FromWorker, ToWorker } from './cluster-messages.js';

/** Blocks remembered as announced; beyond this the expired ones are forgotten. */
const MAX_ANNOUNCED = 10_000;

/**
 * The rate-limit buckets and the auth-failure throttle of a multi-process instance, kept in its
 * supervisor so that they hold exactly across workers (SPEC §4 Workers). Workers reach them
 * over IPC (src/cluster/supervised-state.ts); a client that gets blocked is announced to every
 * worker once, so workers refuse it without asking.
 */
export class InstanceLimits {
  private readonly buckets = createLocalBucketStore();
  private readonly throttle = createAuthFailureThrottle();
  private readonly announced = new Map<string, number>();

  constructor(private readonly broadcast: (message: ToWorker) => void) {}

  /** Answers a worker's limit message; `reply` sends to that worker. */
  handle(m: FromWorker, reply: (message: ToWorker) => void): boolean {
    switch (m.type) {
      case 'take':
        reply({ type: 'taken', items: m.items.map(([id, key, limit]) => [id, this.buckets.take(key, limit)] as const) });
        return true;
      case 'refund':
        this.buckets.refund(m.key, m.limit);
        return true;
      case 'auth-begin':
        reply({ type: 'reply', id: m.id, value: this.throttle.begin(m.ip) });
        return true;
      case 'auth-end':
        this.throttle.end(m.ip, m.wrong);
        this.announceBlock(m.ip);
        return true;
      case 'auth-failure':
        this.throttle.recordFailure(m.ip);
        this.announceBlock(m.ip);
        return true;
      default:
        return false;
    }
  }

  /** The clients blocked now, for a worker that starts. */
  blocked(): Array<[string, number]> {
    return this.throttle.blockedList?.() ?? [];
  }

  close(): void {
    this.buckets.close();
    this.throttle.close();
  }

  private announceBlock(ip: string): void {
    const ms = this.throttle.blockedForMs(ip);
    if (ms <= 0) return;
    const until = Date.now() + ms;
    if (Math.abs((this.announced.get(ip) ?? 0) - until) < 1000) return;
    this.announced.set(ip, until);
    if (this.announced.size > MAX_ANNOUNCED) for (const [key, end] of this.announced) if (end < Date.now()) this.announced.delete(key);
    this.broadcast({ type: 'auth-blocked', ip, until });
  }
}

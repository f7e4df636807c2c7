import type { Metrics } from '../admin/metrics.js';
import type { PasswordCompare } from '../auth/basic-auth-verifier.js';
import { BcryptPoolError, type BcryptPool } from '../auth/bcrypt-pool.js';
import { createMeteredBcryptPool } from '../auth/metered-bcrypt-pool.js';
import { createSharedCompare } from '../auth/shared-compare.js';
import type { Logger } from '../observability/logger.js';
import type { CompareReply, FromWorker, ToWorker } from './cluster-messages.js';

/**
 * The bcrypt comparisons of a multi-process instance, run in its supervisor (SPEC §4 Workers):
 * one pool of bcrypt threads, started with the first comparison, and one memory of matched
 * credentials, so a credential costs one bcrypt run for the instance rather than one per
 * worker. Workers ask over IPC on a miss of their own credential cache only.
 */
export class InstanceCredentials {
  private pool: BcryptPool | undefined;
  private compare: PasswordCompare | undefined;

  constructor(
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** Answers a worker's `compare`; `reply` sends to that worker. */
  handle(m: FromWorker, reply: (message: ToWorker) => void): boolean {
    if (m.type !== 'compare') return false;
    const answer = (value: CompareReply) => reply({ type: 'reply', id: m.id, value });
    this.shared()(m.password, m.hash).then(
      (ok) => answer({ ok }),
      (err: unknown) => answer(err instanceof BcryptPoolError ? { error: err.code, message: err.message } : { error: 'PORTICO_AUTH_WORKER_FAILED', message: String((err as Error)?.message ?? err) }),
    );
    return true;
  }

  close(): Promise<void> {
    return this.pool?.close() ?? Promise.resolve();
  }

  private shared(): PasswordCompare {
    if (this.compare === undefined) {
      const pool = createMeteredBcryptPool(this.metrics, this.log);
      this.pool = pool;
      this.compare = createSharedCompare((password, hash) => pool.compare(password, hash));
    }
    return this.compare;
  }
}

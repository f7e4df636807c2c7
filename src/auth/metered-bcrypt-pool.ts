import type { Metrics } from '../admin/metrics.js';
import type { Logger } from '../observability/logger.js';
import { createBcryptPool, type BcryptPool } from './bcrypt-pool.js';

/**
 * The bcrypt worker pool of a process that compares passwords (a single process, or the
 * supervisor of workers), its comparisons, refusals and thread exits counted in `metrics`.
 */
export function createMeteredBcryptPool(metrics: Metrics, log: Logger): BcryptPool {
  const authLog = log.child({ module: 'auth' });
  const pool = createBcryptPool({
    onCompare: (result) => metrics.bcryptCompares.labels(result).inc(),
    onRejected: () => metrics.bcryptRejected.inc(),
    onWorkerExit: (code, err) => {
      metrics.bcryptWorkerExits.inc();
      authLog.error({ event: 'bcrypt_worker_exit', code, err }, 'bcrypt worker thread exited; replaced on demand');
    },
  });
  metrics.bcryptPoolState = () => pool.state();
  return pool;
}

import type { BalanceStrategy } from '../../config/config-types.js';
import type { TargetState } from '../target-state.js';
import type { Balancer } from './balancer.js';
import { createIpHashBalancer } from './ip-hash.js';
import { createLeastConnBalancer } from './least-conn.js';
import { createRoundRobinBalancer } from './round-robin.js';

/** The balancer for a configured strategy over one pool's targets. */
export function createBalancer(strategy: BalanceStrategy, targets: readonly TargetState[]): Balancer {
  switch (strategy) {
    case 'least_conn':
      return createLeastConnBalancer(targets);
    case 'ip_hash':
      return createIpHashBalancer(targets);
    default:
      return createRoundRobinBalancer(targets);
  }
}

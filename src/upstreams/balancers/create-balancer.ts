import type { BalanceStrategy } from '../../config/config-types.js';
import type { Balancer } from './balancer.js';
import { createIpHashBalancer } from './ip-hash.js';
import { createLeastConnBalancer } from './least-conn.js';
import { createRoundRobinBalancer } from './round-robin.js';

/** The balancer for a configured strategy. */
export function createBalancer(strategy: BalanceStrategy): Balancer {
  switch (strategy) {
    case 'least_conn':
      return createLeastConnBalancer();
    case 'ip_hash':
      return createIpHashBalancer();
    default:
      return createRoundRobinBalancer();
  }
}

import type { TargetState } from '../target-state.js';
import type { Balancer } from './balancer.js';

/**
 * Fewest in-flight requests relative to weight (requests, not sockets, as Caddy counts; nginx's
 * least_conn compares conns/weight the same way). Ties are broken at random in proportion to
 * weight, so an idle pool still splits traffic by weight.
 */
export function createLeastConnBalancer(targets: readonly TargetState[], random: () => number = Math.random): Balancer {
  return {
    pick(_clientIp, exclude) {
      let best: TargetState | undefined;
      let tieWeight = 0;
      for (const t of targets) {
        if (!t.selectable || exclude?.has(t)) continue;
        if (best === undefined) {
          best = t;
          tieWeight = t.weight;
          continue;
        }
        // inFlight/weight compared by cross-multiplying: no division, exact for integers.
        const lhs = t.inFlight * best.weight;
        const rhs = best.inFlight * t.weight;
        if (lhs < rhs) {
          best = t;
          tieWeight = t.weight;
        } else if (lhs === rhs) {
          tieWeight += t.weight;
          // Weighted reservoir sampling: each tied target wins with probability weight/tieWeight.
          if (random() * tieWeight < t.weight) best = t;
        }
      }
      return best;
    },
  };
}

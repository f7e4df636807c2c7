import type { TargetState } from '../target-state.js';
import type { Balancer } from './balancer.js';

/**
 * Smooth weighted round robin, nginx's algorithm (ngx_http_upstream_get_peer): every pick adds
 * each selectable target's weight to its running score, takes the highest score and subtracts
 * the total from it. Weights 5:1:1 give a a b a c a a, not a a a a a b c, and equal weights give
 * plain round robin. Unselectable targets keep their score, as nginx's down peers do.
 */
export function createRoundRobinBalancer(targets: readonly TargetState[]): Balancer {
  const current = new Float64Array(targets.length); // compiled once; nothing allocated per pick
  return {
    pick(_clientIp, exclude) {
      let best = -1;
      let total = 0;
      for (let i = 0; i < targets.length; i++) {
        const t = targets[i]!;
        if (!t.selectable || exclude?.has(t)) continue;
        current[i]! += t.weight;
        total += t.weight;
        if (best < 0 || current[i]! > current[best]!) best = i;
      }
      if (best < 0) return undefined;
      current[best]! -= total;
      return targets[best];
    },
  };
}

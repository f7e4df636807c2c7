import type { TargetState } from '../target-state.js';
import type { Balancer } from './balancer.js';

/**
 * Fewest in-flight requests relative to weight (requests, not sockets, as Caddy counts), ties
 * broken by smooth weighted round robin among the tied targets — nginx's least_conn. An idle
 * pool therefore splits traffic exactly by weight, and a pick allocates nothing (integer
 * scores in a typed array compiled with the pool, no random numbers to box).
 */
export function createLeastConnBalancer(targets: readonly TargetState[]): Balancer {
  const current = new Int32Array(targets.length);
  return {
    pick(_clientIp, exclude) {
      // First pass: the least loaded selectable target (inFlight/weight, compared by
      // cross-multiplying: no division, exact for integers).
      let least = -1;
      for (let i = 0; i < targets.length; i++) {
        const t = targets[i]!;
        if (!t.selectable || exclude?.has(t)) continue;
        if (least < 0 || t.inFlight * targets[least]!.weight < targets[least]!.inFlight * t.weight) least = i;
      }
      if (least < 0) return undefined;
      // Second pass: smooth weighted round robin among the targets tied with it.
      const lt = targets[least]!;
      let best = -1;
      let total = 0;
      for (let i = least; i < targets.length; i++) {
        const t = targets[i]!;
        if (!t.selectable || exclude?.has(t) || t.inFlight * lt.weight !== lt.inFlight * t.weight) continue;
        current[i]! += t.weight;
        total += t.weight;
        if (best < 0 || current[i]! > current[best]!) best = i;
      }
      current[best]! -= total;
      return targets[best];
    },
  };
}

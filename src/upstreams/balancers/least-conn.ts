import type { Balancer } from './balancer.js';

/** Fewest in-flight requests (requests, not sockets, as Caddy counts), random among ties. */
export function createLeastConnBalancer(random: () => number = Math.random): Balancer {
  return {
    pick(targets, _clientIp, exclude) {
      let best;
      let ties = 0;
      for (const t of targets) {
        if (!t.available || exclude?.has(t)) continue;
        if (best === undefined || t.inFlight < best.inFlight) {
          best = t;
          ties = 1;
        } else if (t.inFlight === best.inFlight && random() * ++ties < 1) {
          best = t; // reservoir sampling: each tied target is chosen with probability 1/ties
        }
      }
      return best;
    },
  };
}

import type { Balancer } from './balancer.js';

/** Round robin that skips unavailable targets, as Caddy's RoundRobinSelection. */
export function createRoundRobinBalancer(): Balancer {
  let counter = 0;
  return {
    pick(targets, _clientIp, exclude) {
      const n = targets.length;
      for (let i = 0; i < n; i++) {
        const t = targets[(counter + i) % n]!;
        if (t.available && !exclude?.has(t)) {
          counter = (counter + i + 1) % n;
          return t;
        }
      }
      return undefined;
    },
  };
}

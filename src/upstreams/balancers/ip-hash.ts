import { fnv1a } from '../target-state.js';
import type { Balancer } from './balancer.js';

/**
 * Client-IP affinity by rendezvous (highest random weight) hashing, as Traefik's hrw: each
 * available target scores hash(target, ip) and the highest wins. When a target leaves or
 * returns, only the clients whose winner it is move; nginx's modulo hashing moves most clients.
 */
export function createIpHashBalancer(): Balancer {
  return {
    pick(targets, clientIp, exclude) {
      const ipHash = fnv1a(clientIp);
      let best;
      let bestScore = -1;
      for (const t of targets) {
        if (!t.available || exclude?.has(t)) continue;
        const score = mix(t.hashSeed ^ ipHash);
        if (score > bestScore) {
          best = t;
          bestScore = score;
        }
      }
      return best;
    },
  };
}

/** A 32-bit finaliser (murmur3 fmix32) so that seed ^ ipHash scores are well spread. */
function mix(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

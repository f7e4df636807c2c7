import { fnv1a, type TargetState } from '../target-state.js';
import type { Balancer } from './balancer.js';

/** 2^-32: maps a 32-bit hash into (0, 1) with the half-step offset below. */
const UNIT = 1 / 4294967296;

/**
 * Client-IP affinity by weighted rendezvous (highest random weight) hashing, as Traefik's hrw:
 * each selectable target scores -weight / ln(h), with h = hash(target, ip) in (0, 1), and the
 * highest wins. A target wins a share of clients proportional to its weight; when a target
 * leaves, returns or changes weight, only clients won or lost by that target move (nginx's
 * modulo hashing moves most clients). With equal weights the order is that of h alone.
 */
export function createIpHashBalancer(targets: readonly TargetState[]): Balancer {
  return {
    pick(clientIp, exclude) {
      const ipHash = fnv1a(clientIp);
      let best: TargetState | undefined;
      let bestScore = -1;
      for (const t of targets) {
        if (!t.selectable || exclude?.has(t)) continue;
        const h = (mix(t.hashSeed ^ ipHash) + 0.5) * UNIT; // never 0 nor 1: ln(h) is finite and < 0
        const score = -t.weight / Math.log(h);
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

import type { AuthFailureThrottle } from '../auth/auth-failure-throttle.js';
import type { PasswordCompare } from '../auth/basic-auth-verifier.js';
import { BcryptPoolError } from '../auth/bcrypt-pool.js';
import type { RateLimitConfig } from '../config/config-types.js';
import type { BucketStore, TakeResult } from '../ratelimit/bucket-store.js';
import type { CompareReply, FromWorker } from './cluster-messages.js';
import type { PendingReplies } from './pending-replies.js';

/** Sends one message to the supervisor. */
export type SendToSupervisor = (message: FromWorker) => void;

/**
 * The rate-limit buckets of a worker: kept by the supervisor, one set for the whole instance,
 * so a `burst` of B admits B requests in total however connections are spread over workers.
 * The takes of one turn of the event loop go in one message and come back in one (under load a
 * turn parses many requests), so the IPC costs a few system calls per turn, not per request.
 */
export function createSupervisedBucketStore(send: SendToSupervisor, pending: PendingReplies): BucketStore {
  let batch: Array<[number, string, RateLimitConfig]> = [];
  const flush = (): void => {
    const items = batch;
    batch = [];
    send({ type: 'take', items });
  };
  return {
    take(key, limit) {
      const { id, reply } = pending.open<TakeResult>();
      if (batch.length === 0) setImmediate(flush);
      batch.push([id, key, limit]);
      return reply;
    },
    refund(key, limit) {
      send({ type: 'refund', key, limit });
    },
  };
}

/** How many announced blocks a worker keeps before it drops the expired ones. */
const MAX_BLOCKED = 100_000;

/**
 * The auth-failure throttle of a worker. The counts live in the supervisor: a verification is
 * granted there (`begin`, one round trip, only when a credential is not in the cache), and
 * failures are reported there. Blocks the supervisor announces are kept here, so a blocked
 * client is refused without a round trip.
 */
export function createSupervisedThrottle(send: SendToSupervisor, pending: PendingReplies): AuthFailureThrottle & { block(ip: string, until: number): void } {
  const blocked = new Map<string, number>();
  return {
    blockedForMs(ip) {
      const until = blocked.get(ip);
      if (until === undefined) return 0;
      const ms = until - Date.now();
      if (ms > 0) return ms;
      blocked.delete(ip);
      return 0;
    },
    begin(ip) {
      const { id, reply } = pending.open<number>();
      send({ type: 'auth-begin', id, ip });
      return reply;
    },
    end(ip, wrongCredential) {
      send({ type: 'auth-end', ip, wrong: wrongCredential });
    },
    recordFailure(ip) {
      send({ type: 'auth-failure', ip });
    },
    block(ip, until) {
      if (blocked.size >= MAX_BLOCKED) {
        const now = Date.now();
        for (const [key, end] of blocked) if (end <= now) blocked.delete(key);
      }
      blocked.set(ip, until);
    },
    close() {},
  };
}

/**
 * The bcrypt comparison of a worker process: run in the supervisor, which remembers a match
 * and joins concurrent comparisons of one credential, so the instance runs bcrypt once per
 * credential however many workers see it (src/auth/shared-compare.ts).
 */
export function createSupervisedCompare(send: SendToSupervisor, pending: PendingReplies): PasswordCompare {
  return async (password, hash) => {
    const { id, reply } = pending.open<CompareReply>();
    send({ type: 'compare', id, password, hash });
    const answer = await reply;
    if ('ok' in answer) return answer.ok;
    throw new BcryptPoolError(answer.error, answer.message);
  };
}

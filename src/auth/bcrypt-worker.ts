import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

/** One comparison the pool sends; the pool sends the next only after the reply. */
export interface BcryptJob {
  readonly password: string;
  readonly hash: string;
}

/** The worker's answer: the verdict, or why bcryptjs could not give one. */
export type BcryptReply = { readonly ok: boolean } | { readonly error: string };

// The entry point of each bcrypt pool thread. compareSync, not compare: this thread does nothing
// else, so yielding between rounds (what the async variant does) would only make it slower.
parentPort?.on('message', (job: BcryptJob) => {
  let reply: BcryptReply;
  try {
    reply = { ok: bcrypt.compareSync(job.password, job.hash) };
  } catch (err) {
    reply = { error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(reply);
});

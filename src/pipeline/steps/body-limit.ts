import { PAYLOAD_TOO_LARGE } from '../local-replies.js';
import type { Step } from '../step.js';

/**
 * `maxBodySize` for requests that declare their length: 413 before a byte is forwarded.
 * Chunked bodies are counted while they stream (proxy-action.ts).
 */
export function createBodyLimitStep(maxBytes: number): Step {
  return (ctx) => {
    const declared = ctx.req.headers['content-length'];
    return declared !== undefined && Number(declared) > maxBytes ? PAYLOAD_TOO_LARGE : undefined;
  };
}

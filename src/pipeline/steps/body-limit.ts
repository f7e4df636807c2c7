import type { Step } from '../step.js';

/**
 * `maxBodySize` for requests that declare their length: 413 before a byte is forwarded.
 * Chunked bodies are counted while they stream (proxy-action.ts).
 */
export function createBodyLimitStep(maxBytes: number): Step {
  const reply = Object.freeze({ status: 413, body: 'Payload Too Large\n', headers: { connection: 'close' } });
  return (ctx) => {
    const declared = ctx.req.headers['content-length'];
    return declared !== undefined && Number(declared) > maxBytes ? reply : undefined;
  };
}

import type { RequestContext } from './request-context.js';
import type { Step, StepResult } from './step.js';

/**
 * Runs steps in order until one replies. Stays synchronous while the steps are (an in-memory
 * bucket, a cached credential), and switches to a Promise only at the first step that waits.
 */
export function runSteps(steps: readonly Step[], ctx: RequestContext, from = 0): StepResult | Promise<StepResult> {
  for (let i = from; i < steps.length; i++) {
    const result = steps[i]!(ctx);
    if (result instanceof Promise) return result.then((r) => (r ? r : runSteps(steps, ctx, i + 1)));
    if (result) return result;
  }
  return undefined;
}

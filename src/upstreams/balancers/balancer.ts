import type { TargetState } from '../target-state.js';

/**
 * Chooses one selectable target of the pool it was built for (healthy, not drained, weight
 * above 0); `exclude` holds targets that already failed this request.
 */
export interface Balancer {
  pick(clientIp: string, exclude?: ReadonlySet<TargetState>): TargetState | undefined;
}

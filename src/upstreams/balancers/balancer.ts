import type { TargetState } from '../target-state.js';

/** Chooses one available target for a request; `exclude` holds targets that already failed it. */
export interface Balancer {
  pick(targets: readonly TargetState[], clientIp: string, exclude?: ReadonlySet<TargetState>): TargetState | undefined;
}

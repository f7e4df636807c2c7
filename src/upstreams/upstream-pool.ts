import type { UpstreamConfig } from '../config/config-types.js';
import type { Balancer } from './balancers/balancer.js';
import { createBalancer } from './balancers/create-balancer.js';
import type { TargetState } from './target-state.js';

/** One compiled upstream: its targets (from the registry) and its balancing strategy. */
export class UpstreamPool {
  readonly name: string;
  readonly config: UpstreamConfig;
  readonly targets: readonly TargetState[];
  private readonly balancer: Balancer;

  constructor(config: UpstreamConfig, targets: readonly TargetState[]) {
    this.name = config.name;
    this.config = config;
    this.targets = targets;
    this.balancer = createBalancer(config.balance, targets);
  }

  /** A selectable target for this client, or undefined when none is (all down, drained or standby). */
  pick(clientIp: string, exclude?: ReadonlySet<TargetState>): TargetState | undefined {
    return this.balancer.pick(clientIp, exclude);
  }
}

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
    this.balancer = createBalancer(config.balance);
  }

  /** An available target for this client, or undefined when every target is down. */
  pick(clientIp: string, exclude?: ReadonlySet<TargetState>): TargetState | undefined {
    return this.balancer.pick(this.targets, clientIp, exclude);
  }
}

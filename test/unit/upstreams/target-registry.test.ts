import t from 'tap';
import type { UpstreamConfig } from '../../../src/config/config-types.js';
import { TargetRegistry } from '../../../src/upstreams/target-registry.js';

function upstream(targets: { url: string; weight: number }[], healthPath?: string): UpstreamConfig {
  return {
    name: 'app',
    targets,
    balance: 'round_robin',
    healthCheck: healthPath ? { path: healthPath, intervalMs: 60_000, timeoutMs: 1_000, unhealthyAfter: 2, healthyAfter: 1 } : undefined,
    connectTimeoutMs: 5_000,
    responseTimeoutMs: 60_000,
  };
}

const A = 'http://127.0.0.1:1';
const B = 'http://127.0.0.1:2';

t.test('weight follows the config on every compile; a drain survives reloads while the target stays', async (t) => {
  const registry = new TargetRegistry(() => {});
  t.teardown(() => registry.close());
  const [a, b] = registry.acquire(upstream([{ url: A, weight: 1 }, { url: B, weight: 1 }]));
  registry.setDraining(a!, true);
  t.equal(a!.state, 'drained', 'nothing in flight: drained at once');

  // A reload that changes weights keeps the same states, and the drain.
  const [a2, b2] = registry.acquire(upstream([{ url: A, weight: 5 }, { url: B, weight: 0 }]));
  registry.retain(new Set([a2!, b2!]));
  t.equal(a2, a);
  t.equal(a2!.weight, 5);
  t.equal(b2!.weight, 0);
  t.equal(b2!.state, 'standby');
  t.equal(a2!.draining, true, 'still drained after a weight change');

  // A health-check change makes new states (fresh health); the drain carries over to them.
  const [a3, b3] = registry.acquire(upstream([{ url: A, weight: 1 }, { url: B, weight: 1 }], '/live'));
  registry.retain(new Set([a3!, b3!]));
  t.not(a3, a, 'a new state for a new health check');
  t.equal(a3!.draining, true, 'the drain is kept by upstream and target, not by state');
  t.equal(b3!.draining, false);

  // Removed from the config, the target forgets its drain: if it comes back, it comes back active.
  const [b4] = registry.acquire(upstream([{ url: B, weight: 1 }], '/live'));
  registry.retain(new Set([b4!]));
  const [a5] = registry.acquire(upstream([{ url: A, weight: 1 }, { url: B, weight: 1 }], '/live'));
  t.equal(a5!.draining, false);
  t.equal(a5!.state, 'active');

  registry.setDraining(a5!, true);
  registry.setDraining(a5!, false);
  const [a6] = registry.acquire(upstream([{ url: A, weight: 1 }, { url: B, weight: 1 }], '/live'));
  t.equal(a6!.draining, false, 'enable is kept too');
});

t.test('a drained target with requests in flight is draining until they finish', async (t) => {
  const registry = new TargetRegistry(() => {});
  t.teardown(() => registry.close());
  const [a] = registry.acquire(upstream([{ url: A, weight: 1 }]));
  a!.inFlight = 2;
  registry.setDraining(a!, true);
  t.equal(a!.state, 'draining');
  t.equal(a!.selectable, false);
  a!.inFlight = 0;
  t.equal(a!.state, 'drained');
});

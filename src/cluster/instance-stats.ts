import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Metrics } from '../admin/metrics.js';
import type { TargetState } from '../upstreams/target-state.js';
import { addTargetLoad, type TargetLoad, type ToWorker, type WorkerStats } from './cluster-messages.js';
import type { WorkerHandle } from './supervisor.js';

/** A worker that does not answer within this is left out of one admin answer (it may be dying). */
const STATS_TIMEOUT_MS = 2_000;

/**
 * The whole instance's numbers for the admin API, summed over the workers. Collected only when an
 * admin request asks (costs the request path nothing): each worker sends its registry as JSON,
 * its requests per host, and per target its in-flight requests and pool, which are written onto
 * the supervisor's own target states so /upstreams, drains and the state metric read them.
 */
export class InstanceStats {
  private reports: WorkerStats[] = [];

  constructor(
    private readonly metrics: Metrics,
    private readonly workers: () => readonly WorkerHandle[],
  ) {}

  /** Asks every worker; `targets` only refreshes the target states (a drain's wait polls it). */
  async collect(targets: readonly TargetState[], scope: 'targets' | 'all'): Promise<void> {
    const answers = await Promise.all(this.workers().map((h) => ask(h, scope)));
    const reports = answers.filter((r): r is WorkerStats => r !== undefined);
    if (scope === 'all') this.reports = reports;
    const sums = new Map<string, TargetLoad>();
    for (const report of reports) for (const [key, s] of report.targets) addTargetLoad(sums, key, s.inFlight, s);
    for (const t of targets) {
      const s = sums.get(`${t.upstream}|${t.url}`);
      t.inFlight = s?.inFlight ?? 0;
      t.reportedPool = { active: s?.active ?? 0, idle: s?.idle ?? 0, queued: s?.queued ?? 0 };
    }
  }

  /**
   * The supervisor's metrics and the workers' last reports in one registry: counters and
   * histograms summed, gauges as each declares (`aggregator`), process metrics per prom-client.
   */
  async registry(): Promise<Registry> {
    const own = await this.metrics.registry.getMetricsAsJSON();
    return AggregatorRegistry.aggregate([own, ...this.reports.map((r) => r.metrics as typeof own)]);
  }

  /** Requests per host by status class, summed over the workers. */
  requestCounts(): Map<string, readonly number[]> {
    const total = new Map<string, number[]>();
    for (const report of this.reports) {
      for (const [host, counts] of report.requestCounts) {
        const sum = total.get(host) ?? [0, 0, 0, 0, 0];
        counts.forEach((n, i) => (sum[i] = (sum[i] ?? 0) + n));
        total.set(host, sum);
      }
    }
    return total;
  }
}

function ask(h: WorkerHandle, scope: 'targets' | 'all'): Promise<WorkerStats | undefined> {
  if (!h.ready || !h.worker.isConnected()) return Promise.resolve(undefined);
  const { id, reply } = h.pending.open<WorkerStats>();
  h.worker.send({ type: 'stats', id, scope } satisfies ToWorker);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, STATS_TIMEOUT_MS, undefined)));
  return Promise.race([reply.catch(() => undefined), late]).finally(() => clearTimeout(timer));
}

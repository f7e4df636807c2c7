import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { TARGET_TRAFFIC_STATES, type TargetState } from '../upstreams/target-state.js';
import { openCompressionStreams } from '../proxy/compression.js';
import { RequestStats } from './request-stats.js';

/**
 * Portico's Prometheus metrics. The `host` label is always the configured host name (or "-"),
 * never the raw Host header, so a client cannot blow up the label cardinality. Per-request
 * counting goes through RequestStats, which does no label hashing.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new RequestStats();
  readonly targetUp = new Gauge({ name: 'portico_upstream_target_up', help: '1 when the target is healthy', labelNames: ['upstream', 'target'] as const, registers: [this.registry], aggregator: 'max' });
  readonly rateLimited = new Counter({ name: 'portico_rate_limited_total', help: 'Requests rejected by a rate limit', labelNames: ['scope'] as const, registers: [this.registry] });
  readonly authFailures = new Counter({ name: 'portico_auth_failures_total', help: 'Rejected Basic Auth credentials', registers: [this.registry] });
  /** Set by whoever owns the bucket store; read at scrape time. */
  usingLocalFallback: () => boolean = () => false;
  readonly rateLimitFallback: Gauge = new Gauge({
    name: 'portico_ratelimit_local_fallback',
    help: '1 while Redis is unreachable and buckets are local',
    registers: [this.registry],
    // Over the workers of one instance: 1 while any of them is on its fallback.
    aggregator: 'max',
    collect: (): void => this.rateLimitFallback.set(this.usingLocalFallback() ? 1 : 0),
  });
  /** Set by the gateway: the live targets, whose traffic state is read at scrape time. */
  targetStates: () => readonly TargetState[] = () => [];
  readonly targetState: Gauge<'upstream' | 'target' | 'state'> = new Gauge({
    name: 'portico_upstream_target_state',
    help: '1 for the traffic state each target is in: active, standby (weight 0), draining or drained',
    labelNames: ['upstream', 'target', 'state'] as const,
    registers: [this.registry],
    aggregator: 'max',
    // Computed when scraped: "drained" follows the in-flight count, which changes per request.
    collect: (): void => {
      this.targetState.reset();
      for (const t of this.targetStates()) {
        for (const state of TARGET_TRAFFIC_STATES) this.targetState.labels(t.upstream, t.url, state).set(t.state === state ? 1 : 0);
      }
    },
  });
  /** Set by whoever owns the bcrypt pool; read at scrape time. */
  bcryptPoolState: () => { readonly queued: number; readonly running: number } = () => ({ queued: 0, running: 0 });
  readonly bcryptQueueDepth: Gauge = new Gauge({
    name: 'portico_auth_bcrypt_queue_depth',
    help: 'Basic Auth bcrypt comparisons waiting for a worker thread',
    registers: [this.registry],
    collect: (): void => this.bcryptQueueDepth.set(this.bcryptPoolState().queued),
  });
  readonly bcryptInFlight: Gauge = new Gauge({
    name: 'portico_auth_bcrypt_in_flight',
    help: 'Basic Auth bcrypt comparisons running on worker threads',
    registers: [this.registry],
    collect: (): void => this.bcryptInFlight.set(this.bcryptPoolState().running),
  });
  readonly bcryptCompares = new Counter({ name: 'portico_auth_bcrypt_compares_total', help: 'Basic Auth bcrypt comparisons run, by result', labelNames: ['result'] as const, registers: [this.registry] });
  readonly bcryptRejected = new Counter({ name: 'portico_auth_bcrypt_rejected_total', help: 'Credential checks answered 503 because the bcrypt queue was full', registers: [this.registry] });
  readonly bcryptWorkerExits = new Counter({ name: 'portico_auth_bcrypt_worker_exits_total', help: 'bcrypt worker threads that died and were replaced', registers: [this.registry] });
  readonly certExpiry = new Gauge({ name: 'portico_certificate_expiry_seconds', help: 'Unix time at which the served certificate expires', labelNames: ['host', 'source'] as const, registers: [this.registry], aggregator: 'max' });
  readonly compressionStreams: Gauge = new Gauge({
    name: 'portico_compression_streams_open',
    help: 'Response compression streams in use (each holds native zlib memory until its response closes)',
    registers: [this.registry],
    collect: (): void => this.compressionStreams.set(openCompressionStreams()),
  });
  readonly reloads = new Counter({ name: 'portico_reloads_total', help: 'Configuration reloads by result, one per change of the file', labelNames: ['result'] as const, registers: [this.registry] });
  /** 0 while the file on disk is rejected (the previous config serves), as Prometheus' own gauge. */
  readonly lastReloadOk = new Gauge({ name: 'portico_config_last_reload_successful', help: '1 when the last reload (or the start) accepted the file, 0 while it is rejected', registers: [this.registry], aggregator: 'min' });

  constructor() {
    // prom-client's default names already start with `process_` or `nodejs_`: the prefix adds
    // only our namespace (portico_process_cpu_seconds_total, portico_nodejs_eventloop_lag_seconds).
    collectDefaultMetrics({ register: this.registry, prefix: 'portico_' });
    this.lastReloadOk.set(1);
    this.requests.register(this.registry);
    // inc(0), not labels() alone: prom-client exports a child only once it has a value, and
    // alerts on `portico_reloads_total{result="error"}` need the series from the start.
    this.reloads.labels('ok').inc(0);
    this.reloads.labels('error').inc(0);
    for (const result of ['match', 'mismatch', 'error'] as const) this.bcryptCompares.labels(result).inc(0);
  }

  /** Requests per configured host by status class (1xx..5xx) since start; a copy. */
  requestCounts(): Map<string, readonly number[]> {
    return this.requests.classCounts();
  }

  /** Counts one finished request. */
  observeRequest(host: string, status: number, seconds: number): void {
    this.requests.observe(host, status, seconds);
  }
}

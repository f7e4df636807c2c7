import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/**
 * Portico's Prometheus metrics. The `host` label is always the configured host name (or "-"),
 * never the raw Host header, so a client cannot blow up the label cardinality. Per-host label
 * children are cached: the hot path does no label hashing.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: 'portico_requests_total', help: 'Requests by configured host and status class', labelNames: ['host', 'class'] as const, registers: [this.registry] });
  private readonly duration = new Histogram({
    name: 'portico_request_duration_seconds',
    help: 'Request duration from accept to the end of the response',
    labelNames: ['host'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly targetUp = new Gauge({ name: 'portico_upstream_target_up', help: '1 when the target is healthy', labelNames: ['upstream', 'target'] as const, registers: [this.registry] });
  readonly rateLimited = new Counter({ name: 'portico_rate_limited_total', help: 'Requests rejected by a rate limit', labelNames: ['scope'] as const, registers: [this.registry] });
  readonly authFailures = new Counter({ name: 'portico_auth_failures_total', help: 'Rejected Basic Auth credentials', registers: [this.registry] });
  /** Set by whoever owns the bucket store; read at scrape time. */
  usingLocalFallback: () => boolean = () => false;
  readonly rateLimitFallback: Gauge = new Gauge({
    name: 'portico_ratelimit_local_fallback',
    help: '1 while Redis is unreachable and buckets are local',
    registers: [this.registry],
    collect: (): void => this.rateLimitFallback.set(this.usingLocalFallback() ? 1 : 0),
  });
  readonly certExpiry = new Gauge({ name: 'portico_certificate_expiry_seconds', help: 'Unix time at which the served certificate expires', labelNames: ['host', 'source'] as const, registers: [this.registry] });
  readonly reloads = new Counter({ name: 'portico_reloads_total', help: 'Configuration reloads by result', labelNames: ['result'] as const, registers: [this.registry] });
  private readonly perHost = new Map<string, { classes: ReturnType<Counter<'host' | 'class'>['labels']>[]; duration: ReturnType<Histogram<'host'>['labels']> }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'portico_process_' });
    // inc(0), not labels() alone: prom-client exports a child only once it has a value, and
    // alerts on `portico_reloads_total{result="error"}` need the series from the start.
    this.reloads.labels('ok').inc(0);
    this.reloads.labels('error').inc(0);
  }

  /** Counts one finished request. */
  observeRequest(host: string, status: number, seconds: number): void {
    let entry = this.perHost.get(host);
    if (!entry) {
      entry = { classes: CLASSES.map((c) => this.requests.labels(host, c)), duration: this.duration.labels(host) };
      this.perHost.set(host, entry);
    }
    const cls = Math.min(Math.max(Math.floor(status / 100), 1), 5) - 1;
    entry.classes[cls]!.inc();
    entry.duration.observe(seconds);
  }
}

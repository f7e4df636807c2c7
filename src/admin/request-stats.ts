import type { Registry } from 'prom-client';

const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

interface HostStats {
  readonly classes: number[];
  /** Non-cumulative counts per bucket (the last slot is +Inf); summed at scrape time. */
  readonly buckets: number[];
  sum: number;
  count: number;
}

/**
 * `portico_requests_total{host,class}` and `portico_request_duration_seconds{host}`, kept as
 * plain numbers per host and turned into Prometheus samples only when scraped. prom-client's
 * own Counter and Histogram hash their label set on every `inc`/`observe`; with one of each
 * per request that was measurable on the proxy's hot path.
 */
export class RequestStats {
  private readonly hosts = new Map<string, HostStats>();

  /** Counts one finished request for a configured host name ("-" for none). */
  observe(host: string, status: number, seconds: number): void {
    let s = this.hosts.get(host);
    if (s === undefined) {
      s = { classes: [0, 0, 0, 0, 0], buckets: new Array<number>(BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
      this.hosts.set(host, s);
    }
    const cls = status < 200 ? 0 : status < 300 ? 1 : status < 400 ? 2 : status < 500 ? 3 : 4;
    s.classes[cls]!++;
    let b = 0;
    while (b < BUCKETS.length && seconds > BUCKETS[b]!) b++;
    s.buckets[b]!++;
    s.sum += seconds;
    s.count++;
  }

  /**
   * A copy of the per-host counts by status class (1xx..5xx), for the dashboard: read only when
   * someone looks, so it costs the request path nothing.
   */
  classCounts(): Map<string, readonly number[]> {
    const copy = new Map<string, readonly number[]>();
    for (const [host, s] of this.hosts) copy.set(host, s.classes.slice());
    return copy;
  }

  /** Registers both metric families with a prom-client registry (read at scrape time). */
  register(registry: Registry): void {
    registry.registerMetric({
      name: 'portico_requests_total',
      help: 'Requests by configured host and status class',
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({
        name: 'portico_requests_total',
        help: 'Requests by configured host and status class',
        type: 'counter',
        aggregator: 'sum',
        values: [...this.hosts].flatMap(([host, s]) => CLASSES.map((c, i) => ({ labels: { host, class: c }, value: s.classes[i]! }))),
      }),
      reset: () => this.hosts.clear(),
    } as unknown as Parameters<Registry['registerMetric']>[0]);
    registry.registerMetric({
      name: 'portico_request_duration_seconds',
      help: 'Request duration from accept to the end of the response',
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({
        name: 'portico_request_duration_seconds',
        help: 'Request duration from accept to the end of the response',
        type: 'histogram',
        aggregator: 'sum',
        values: [...this.hosts].flatMap(([host, s]) => {
          let cumulative = 0;
          const buckets = s.buckets.map((n, i) => {
            cumulative += n;
            const le = i < BUCKETS.length ? String(BUCKETS[i]) : '+Inf';
            return { metricName: 'portico_request_duration_seconds_bucket', labels: { le, host }, value: cumulative };
          });
          return [
            ...buckets,
            { metricName: 'portico_request_duration_seconds_sum', labels: { host }, value: s.sum },
            { metricName: 'portico_request_duration_seconds_count', labels: { host }, value: s.count },
          ];
        }),
      }),
      reset: () => this.hosts.clear(),
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }
}

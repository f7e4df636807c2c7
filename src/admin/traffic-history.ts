/** Counts per host by status class (1xx..5xx), cumulative since start. */
export type ClassCounts = ReadonlyMap<string, readonly number[]>;

/** One host's traffic as the dashboard shows it. */
export interface HostTraffic {
  /** Requests per second over the last few seconds; null until two samples exist. */
  readonly rps: number | null;
  /** Requests per second in each sample interval, oldest first (a sparkline). */
  readonly series: readonly number[];
  /** Responses by class (1xx..5xx) within the window. */
  readonly classes: readonly number[];
  /** Requests since start. */
  readonly total: number;
}

interface Sample {
  readonly at: number;
  readonly counts: ClassCounts;
}

/** Time between two samples: the resolution of the sparkline. */
export const SAMPLE_MS = 5_000;
/** How far back the dashboard looks ("the last minutes"). */
export const WINDOW_MS = 5 * 60_000;
const ZERO: readonly number[] = [0, 0, 0, 0, 0];

/**
 * Rates per host over the last minutes, derived from the cumulative counters the gateway keeps
 * anyway (the ones /metrics exports). Samples are taken only when the dashboard asks (at most
 * one per SAMPLE_MS) and dropped once nobody has asked for a window, so a gateway nobody looks
 * at does no work for it: the history starts when the page is opened, as with `top`.
 */
export class TrafficHistory {
  private samples: Sample[] = [];
  private readonly idle: NodeJS.Timeout;

  constructor(
    private readonly read: () => ClassCounts,
    private readonly now: () => number = Date.now,
  ) {
    this.idle = setTimeout(() => (this.samples = []), WINDOW_MS).unref();
  }

  /** Reads the counters now, samples them when due, and returns a view of the window. */
  look(): TrafficView {
    const at = this.now();
    const current = this.read();
    this.idle.refresh();
    this.samples = this.samples.filter((s) => at - s.at <= WINDOW_MS);
    const last = this.samples[this.samples.length - 1];
    if (!last || at - last.at >= SAMPLE_MS) this.samples.push({ at, counts: current });
    const samples = this.samples;
    const oldest = samples[0]!;
    // The rate "now": from the newest sample that is old enough to average over a few seconds.
    const base = findLast(samples, (s) => at - s.at >= SAMPLE_MS / 2);
    const rps = (host: string): number | null => (base ? (sum(current.get(host)) - sum(base.counts.get(host))) / ((at - base.at) / 1000) : null);
    return {
      at,
      since: oldest.at,
      rps,
      totalRps(): number | null {
        if (!base) return null;
        let n = 0;
        for (const counts of current.values()) n += sum(counts);
        for (const counts of base.counts.values()) n -= sum(counts);
        return n / ((at - base.at) / 1000);
      },
      // Per host on the page in view only: a sparkline walks every sample of the window.
      traffic(host: string): HostTraffic {
        const now = current.get(host) ?? ZERO;
        const series: number[] = [];
        for (let i = 1; i < samples.length; i++) {
          const a = samples[i - 1]!;
          const b = samples[i]!;
          series.push((sum(b.counts.get(host)) - sum(a.counts.get(host))) / ((b.at - a.at) / 1000));
        }
        const first = oldest.counts.get(host) ?? ZERO;
        return { rps: rps(host), series, classes: now.map((n, i) => n - (first[i] ?? 0)), total: sum(now) };
      },
    };
  }
}

/** The window as one look saw it. */
export interface TrafficView {
  /** When the counters were read (epoch ms). */
  readonly at: number;
  /** Start of the window: the oldest sample kept. */
  readonly since: number;
  /** A host's requests per second now; null until two samples exist. Cheap: two lookups. */
  rps(host: string): number | null;
  /** Requests per second over every host. */
  totalRps(): number | null;
  /** A host's rate, sparkline, classes and total. */
  traffic(host: string): HostTraffic;
}

function sum(counts: readonly number[] | undefined): number {
  let n = 0;
  for (const c of counts ?? ZERO) n += c;
  return n;
}

function findLast<T>(items: readonly T[], pred: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (pred(items[i]!)) return items[i];
  return undefined;
}

import type { UpstreamConfig } from '../config/config-types.js';
import { startHealthChecker } from './health-checker.js';
import { TargetState, type HealthListener } from './target-state.js';

interface Entry {
  readonly state: TargetState;
  readonly stopHealthCheck: (() => void) | undefined;
}

/** How long a retired target may keep serving in-flight requests before its sockets are closed. */
const DRAIN_LIMIT_MS = 60_000;
/**
 * Pooled upstream connections idle for two sweeps (2–4 s) are closed: sooner than the usual
 * upstream keep-alive timeouts (Node 5 s, uvicorn 5 s), so Portico rarely writes a request on a
 * connection the upstream is closing. The replay in proxy-engine.ts covers the rest (gunicorn's 2 s).
 */
const IDLE_SWEEP_MS = 2_000;

/**
 * Target states keyed by identity (`upstream|url|health-check`), so an unchanged target keeps
 * its health, in-flight count and pooled connections across reloads. Removed targets are
 * retired: health checks stop at once, sockets close only when their requests have finished.
 */
export class TargetRegistry {
  private readonly entries = new Map<string, Entry>();
  /**
   * Targets drained through the admin API, by `upstream|url`: not by the full state key, so a
   * drain survives a reload that changes the upstream's health check (a new state) as long as
   * the target stays in the config.
   */
  private readonly drained = new Set<string>();
  private readonly sweeper: NodeJS.Timeout;

  /**
   * Health reported by the process that probes (a worker's supervisor), by `upstream|url`:
   * applied to a state created later too, so a target added by a reload starts as reported.
   */
  private readonly reported = new Map<string, { healthy: boolean; lastCheck: TargetState['lastCheck'] }>();
  private readonly probes: boolean;

  /** `probes: false` (a worker process): no checks run here; health comes from `setHealth`. */
  constructor(
    private readonly onHealthChange: HealthListener,
    opts: { readonly probes?: boolean } = {},
  ) {
    this.probes = opts.probes ?? true;
    this.sweeper = setInterval(() => this.closeIdleSockets(), IDLE_SWEEP_MS).unref();
  }

  /** Closes upstream connections that stayed idle in a pool since the previous sweep. */
  closeIdleSockets(): void {
    for (const entry of this.entries.values()) entry.state.closeIdleSockets();
  }

  /** The target states of an upstream, created on first use. */
  acquire(up: UpstreamConfig): TargetState[] {
    return up.targets.map((t) => {
      const key = `${up.name}|${t.url}|${up.healthCheck ? JSON.stringify(up.healthCheck) : '-'}`;
      let entry = this.entries.get(key);
      if (!entry) {
        const state = new TargetState(up.name, t.url, {
          unhealthyAfter: up.healthCheck?.unhealthyAfter ?? 2,
          healthyAfter: up.healthCheck?.healthyAfter ?? 1,
          activeCheck: up.healthCheck !== undefined,
        }, this.onHealthChange);
        const reported = this.reported.get(drainKey(up.name, t.url));
        if (reported) {
          state.healthy = reported.healthy;
          state.lastCheck = reported.lastCheck;
        }
        entry = { state, stopHealthCheck: up.healthCheck && this.probes ? startHealthChecker(state, up.healthCheck) : undefined };
        this.entries.set(key, entry);
      }
      entry.state.weight = t.weight;
      entry.state.draining = this.drained.has(drainKey(up.name, t.url));
      return entry.state;
    });
  }

  /** Stops (true) or resumes (false) new requests to a target; kept across reloads. */
  setDraining(target: TargetState, draining: boolean): void {
    const key = drainKey(target.upstream, target.url);
    if (draining) this.drained.add(key);
    else this.drained.delete(key);
    target.draining = draining;
    target.closeFreeSockets();
  }

  /** Drains or enables a target named by upstream and URL (a drain decided in another process). */
  setDrainingByName(upstream: string, url: string, draining: boolean): void {
    const key = drainKey(upstream, url);
    if (draining) this.drained.add(key);
    else this.drained.delete(key);
    for (const entry of this.entries.values()) {
      if (entry.state.upstream === upstream && entry.state.url === url) this.setDraining(entry.state, draining);
    }
  }

  /** Targets drained through the admin API, as `[upstream, url]`. */
  drainedTargets(): Array<[string, string]> {
    return [...this.drained].map((key) => {
      const i = key.indexOf('|');
      return [key.slice(0, i), key.slice(i + 1)];
    });
  }

  /** Health found by the process that probes: applied to every state of that target. */
  setHealth(upstream: string, url: string, healthy: boolean, lastCheck: TargetState['lastCheck']): void {
    this.reported.set(drainKey(upstream, url), { healthy, lastCheck });
    for (const entry of this.entries.values()) {
      if (entry.state.upstream !== upstream || entry.state.url !== url) continue;
      entry.state.healthy = healthy;
      entry.state.lastCheck = lastCheck;
    }
  }

  /** Keeps the given states and retires every other one. */
  retain(keep: ReadonlySet<TargetState>): void {
    for (const [key, entry] of this.entries) {
      if (keep.has(entry.state)) continue;
      this.entries.delete(key);
      retire(entry);
    }
    // A target that left the config forgets its drain: if it comes back, it comes back active.
    const live = new Set([...keep].map((t) => drainKey(t.upstream, t.url)));
    for (const key of this.drained) if (!live.has(key)) this.drained.delete(key);
    for (const key of this.reported.keys()) if (!live.has(key)) this.reported.delete(key);
  }

  /** Every live target state (for /upstreams and metrics). */
  all(): TargetState[] {
    return [...this.entries.values()].map((e) => e.state);
  }

  /** Stops all checks and closes all sockets (shutdown). */
  close(): void {
    clearInterval(this.sweeper);
    for (const entry of this.entries.values()) {
      entry.stopHealthCheck?.();
      entry.state.destroy();
    }
    this.entries.clear();
  }
}

function drainKey(upstream: string, url: string): string {
  return `${upstream}|${url}`;
}

function retire(entry: Entry): void {
  entry.stopHealthCheck?.();
  const deadline = Date.now() + DRAIN_LIMIT_MS;
  const tryClose = () => {
    if (entry.state.inFlight === 0 || Date.now() >= deadline) {
      entry.state.destroy();
      return;
    }
    setTimeout(tryClose, 500).unref();
  };
  tryClose();
}

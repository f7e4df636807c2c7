import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { targetProxyOptions, type TargetProxyOptions } from '../proxy/target-proxy-options.js';

/** The traffic states a target can be in; every one is a value of the state metric. */
export const TARGET_TRAFFIC_STATES = ['active', 'standby', 'draining', 'drained'] as const;
export type TargetTrafficState = (typeof TARGET_TRAFFIC_STATES)[number];

/** Called on every health transition, for one log event and one gauge update. */
export type HealthListener = (target: TargetState, healthy: boolean, reason: string) => void;

/** How long a target downed by passive failures (no active check) is avoided, as nginx's fail_timeout. */
const PASSIVE_COOLDOWN_MS = 10_000;

/**
 * Long-lived state of one upstream target: health, in-flight count and its keep-alive agent.
 * Lives in a registry keyed by identity, so it survives reloads that keep the target.
 */
export class TargetState {
  readonly url: string;
  readonly upstream: string;
  /** `host:port` with the port always written: how the admin API names the target. */
  readonly address: string;
  /** Precomputed id mixed into the ip_hash score. */
  readonly hashSeed: number;
  readonly agent: HttpAgent;
  /** What the proxy engine hands http-proxy for this target, built once. */
  readonly proxyOptions: TargetProxyOptions;
  healthy = true;
  inFlight = 0;
  /** Share of new requests (from the config, set on every compile); 0 = standby. */
  weight = 1;
  /** Drained through the admin API: no new requests; kept by the registry across reloads. */
  draining = false;
  /** Start time (epoch ms) and outcome of the last finished active health check. */
  lastCheck: { readonly at: number; readonly ok: boolean } | undefined = undefined;
  private fails = 0;
  private passes = 0;
  private retryAt = 0;
  /** Traffic count of each pooled socket at the previous idle sweep. */
  private idleSeen = new WeakMap<object, number>();

  constructor(
    upstream: string,
    url: string,
    private readonly thresholds: { unhealthyAfter: number; healthyAfter: number; activeCheck: boolean },
    private readonly onChange: HealthListener,
    private readonly now: () => number = Date.now,
  ) {
    this.upstream = upstream;
    this.url = url;
    this.hashSeed = fnv1a(url);
    // No agent `timeout`: with one, Node re-arms the socket timer and adds and removes a
    // 'timeout' listener on every request. Idle pooled sockets are closed by closeIdleSockets().
    // No maxSockets (Node's default is unlimited): any fixed cap lets long-lived streams (SSE,
    // WebSockets, slow uploads) of some clients make every other request queue behind them
    // (SPEC §3 Proxying). Client-side limits bound the total instead: connections, 128 streams
    // per HTTP/2 connection. Only the idle pool is bounded.
    const agentOptions = { keepAlive: true, maxFreeSockets: 64, scheduling: 'lifo' as const };
    this.agent = url.startsWith('https:') ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    const u = new URL(url);
    this.address = `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
    this.proxyOptions = targetProxyOptions(u, this.agent);
  }

  /** Eligible for new requests: healthy, or a passively downed target whose cooldown has passed. */
  get available(): boolean {
    return this.healthy || (!this.thresholds.activeCheck && this.now() >= this.retryAt);
  }

  /** May take new requests: available, not drained and not a standby (weight 0). */
  get selectable(): boolean {
    return this.weight > 0 && !this.draining && this.available;
  }

  /** Where the target stands for new traffic, as /upstreams and the state metric show it. */
  get state(): TargetTrafficState {
    if (this.draining) return this.inFlight === 0 ? 'drained' : 'draining';
    return this.weight === 0 ? 'standby' : 'active';
  }

  /**
   * Closes the pooled keep-alive sockets that are idle now. Called when a target is drained or
   * enabled again: after a restart of the app behind it, an old pooled socket is dead, and a
   * request sent on it would fail instead of opening a fresh connection.
   */
  closeFreeSockets(): void {
    for (const list of Object.values(this.agent.freeSockets)) {
      for (const socket of list ?? []) socket.destroy();
    }
  }

  /**
   * A failed active check, or a connection failure of a proxied request (SPEC §3 Balancing:
   * those count as failed checks too). `unhealthyAfter` in a row take the target out.
   */
  recordFailure(reason: string): void {
    this.passes = 0;
    this.fails++;
    if (!this.healthy) this.retryAt = this.now() + PASSIVE_COOLDOWN_MS;
    if (this.healthy && this.fails >= this.thresholds.unhealthyAfter) {
      this.healthy = false;
      this.retryAt = this.now() + PASSIVE_COOLDOWN_MS;
      this.onChange(this, false, reason);
    }
  }

  /**
   * A passed active check: `healthyAfter` in a row bring a down target back. Only checks do
   * this when the upstream has a healthCheck.
   */
  recordProbePass(): void {
    this.fails = 0;
    if (this.healthy) return;
    this.passes++;
    if (this.passes >= this.thresholds.healthyAfter) {
      this.healthy = true;
      this.passes = 0;
      this.onChange(this, true, 'recovered');
    }
  }

  /**
   * A response received from the target for a proxied request. With an active check it changes
   * nothing: health follows the checks only, so a target that serves traffic while its check
   * fails still goes down (a response reset the failure count here before, and such a target
   * never left rotation). Without one, it is the passive signal: it ends a run of connection
   * failures and brings back a target retried after its cooldown, as nginx's max_fails does.
   */
  recordResponse(): void {
    if (this.thresholds.activeCheck) return;
    this.recordProbePass();
  }

  /**
   * Closes pooled keep-alive sockets that carried nothing since the previous call, so a socket
   * idles at most two sweep intervals. Called on a timer by the registry; costs nothing per
   * request.
   */
  closeIdleSockets(): number {
    let closed = 0;
    const seen = new WeakMap<object, number>();
    for (const list of Object.values(this.agent.freeSockets)) {
      for (const socket of list ?? []) {
        const traffic = socket.bytesRead + socket.bytesWritten;
        if (this.idleSeen.get(socket) === traffic) {
          socket.destroy();
          closed++;
        } else {
          seen.set(socket, traffic);
        }
      }
    }
    this.idleSeen = seen;
    return closed;
  }

  /**
   * Set in the supervisor of a multi-process instance, which proxies nothing itself: the pool
   * state summed over its workers, as they last reported it (with `inFlight`).
   */
  reportedPool: { active: number; idle: number; queued: number } | undefined = undefined;

  /** Upstream connections of this target now: carrying a request, idle in the pool, and requests waiting for one. */
  poolState(): { active: number; idle: number; queued: number } {
    if (this.reportedPool) return this.reportedPool;
    return { active: countAll(this.agent.sockets), idle: countAll(this.agent.freeSockets), queued: countAll(this.agent.requests) };
  }

  /** Closes pooled sockets; only called once nothing is in flight (retire, don't destroy). */
  destroy(): void {
    this.agent.destroy();
  }
}

/** The number of entries in an agent's per-origin lists (sockets, freeSockets, requests). */
function countAll(lists: NodeJS.ReadOnlyDict<readonly unknown[]>): number {
  let n = 0;
  for (const key in lists) n += lists[key]?.length ?? 0;
  return n;
}

/** FNV-1a 32-bit: a cheap, well-spread hash for rendezvous scoring. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

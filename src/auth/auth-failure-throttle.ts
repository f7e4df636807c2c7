/** Options of the failure throttle; all have production defaults (SPEC §3: 10 in 60 s). */
export interface AuthFailureThrottleOptions {
  /** Clock in ms (STYLE §3.14). */
  readonly now?: () => number;
  /** Wrong credentials, plus verifications still running, allowed per IP and window. */
  readonly maxFailures?: number;
  readonly windowMs?: number;
  readonly maxEntries?: number;
  readonly sweepIntervalMs?: number;
}

/**
 * Counts wrong credentials per client IP, across all hosts, and blocks guessers with 429. A
 * verification that is still running counts as a failure until it turns out right, so a burst of
 * concurrent guesses cannot start more bcrypt runs than the window allows.
 */
export interface AuthFailureThrottle {
  /** Milliseconds until `ip` may send anything again; 0 when it is not blocked. */
  blockedForMs(ip: string): number;
  /**
   * Claims one of `ip`'s verifications: 0 when granted (then call `end` exactly once), otherwise
   * the milliseconds to announce in Retry-After. A worker process asks its supervisor, which
   * holds the one count for the instance: then the answer comes later.
   */
  begin(ip: string): number | Promise<number>;
  /** Ends a verification granted by `begin`; a wrong credential counts as a failure. */
  end(ip: string, wrongCredential: boolean): void;
  /** Records one wrong credential that ran no verification of its own (not a missing one). */
  recordFailure(ip: string): void;
  /** The blocked IPs with the time (epoch ms) their block ends, for a worker that starts. */
  blockedList?(): Array<[string, number]>;
  close(): void;
}

interface Entry {
  failures: number;
  /** Verifications begun and not yet ended: they count against the limit too. */
  inFlight: number;
  /** The window starts at the first failure and ends a fixed time later (SPEC §3); 0: none. */
  endsAt: number;
}

const DEFAULT_MAX_ENTRIES = 100_000;
/** Retry-After while the first verifications still run and no window has started yet. */
const NO_WINDOW_RETRY_MS = 1_000;

/**
 * Creates the gateway's one failure throttle. After `maxFailures` wrong credentials within
 * `windowMs` of the first one, the IP is blocked until that window ends; meanwhile running
 * verifications and failures together never exceed `maxFailures`. The map is capped and swept,
 * so a spray of source addresses cannot grow it without bound.
 *
 * The body is the throttle: its map and the functions that share it, closed over (as every create* here).
 */
export function createAuthFailureThrottle(opts: AuthFailureThrottleOptions = {}): AuthFailureThrottle {
  const now = opts.now ?? Date.now;
  const maxFailures = opts.maxFailures ?? 10;
  const windowMs = opts.windowMs ?? 60_000;
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const entries = new Map<string, Entry>();

  /** The IP's entry with an ended window cleared (and dropped when nothing is left of it). */
  const current = (ip: string, t: number): Entry | undefined => {
    const e = entries.get(ip);
    if (e === undefined || e.endsAt === 0 || e.endsAt > t) return e;
    e.failures = 0;
    e.endsAt = 0;
    if (e.inFlight > 0) return e;
    entries.delete(ip);
    return undefined;
  };

  const create = (ip: string): Entry => {
    if (entries.size >= maxEntries) {
      // Entries are inserted in order of first activity, so the first one is about the oldest.
      const oldest = entries.keys().next();
      if (oldest.done !== true) entries.delete(oldest.value);
    }
    const e: Entry = { failures: 0, inFlight: 0, endsAt: 0 };
    entries.set(ip, e);
    return e;
  };

  const recordFailure = (ip: string): void => {
    const t = now();
    const e = current(ip, t) ?? create(ip);
    if (e.endsAt === 0) e.endsAt = t + windowMs;
    e.failures += 1;
  };

  const sweep = (): void => {
    const t = now();
    for (const ip of entries.keys()) current(ip, t);
  };
  const timer = setInterval(sweep, opts.sweepIntervalMs ?? windowMs);
  timer.unref();

  return {
    blockedForMs(ip) {
      const t = now();
      const e = current(ip, t);
      return e !== undefined && e.failures >= maxFailures ? e.endsAt - t : 0;
    },
    begin(ip) {
      const t = now();
      const e = current(ip, t);
      if (e !== undefined && e.failures + e.inFlight >= maxFailures) {
        return e.endsAt === 0 ? NO_WINDOW_RETRY_MS : e.endsAt - t;
      }
      (e ?? create(ip)).inFlight += 1;
      return 0;
    },
    end(ip, wrongCredential) {
      const e = entries.get(ip);
      if (e !== undefined && e.inFlight > 0) e.inFlight -= 1;
      if (wrongCredential) recordFailure(ip);
      // A right credential leaves nothing to remember once nothing runs and no window is open.
      else if (e !== undefined && e.inFlight === 0 && e.endsAt === 0) entries.delete(ip);
    },
    recordFailure,
    blockedList() {
      const t = now();
      const list: Array<[string, number]> = [];
      for (const [ip, e] of entries) if (e.failures >= maxFailures && e.endsAt > t) list.push([ip, e.endsAt]);
      return list;
    },
    close: () => clearInterval(timer),
  };
}

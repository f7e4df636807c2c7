/** Options of the failure throttle; all have production defaults (SPEC §3: 10 in 60 s). */
export interface AuthFailureThrottleOptions {
  /** Clock in ms (STYLE §3.14). */
  readonly now?: () => number;
  readonly maxFailures?: number;
  readonly windowMs?: number;
  readonly maxEntries?: number;
  readonly sweepIntervalMs?: number;
}

/** Counts wrong credentials per client IP, across all hosts, and blocks guessers with 429. */
export interface AuthFailureThrottle {
  /** Milliseconds until `ip` may try again; 0 when it is not blocked. */
  blockedForMs(ip: string): number;
  /** Records one wrong credential from `ip` (not a request without credentials). */
  recordFailure(ip: string): void;
  close(): void;
}

interface Window {
  failures: number;
  /** The window starts at the first failure and ends a fixed time later (SPEC §3). */
  readonly endsAt: number;
}

const DEFAULT_MAX_ENTRIES = 100_000;

/**
 * Creates the gateway's one failure throttle. After `maxFailures` wrong credentials within
 * `windowMs` of the first one, the IP is blocked until that window ends. The map is capped and
 * swept, so a spray of source addresses cannot grow it without bound.
 */
export function createAuthFailureThrottle(opts: AuthFailureThrottleOptions = {}): AuthFailureThrottle {
  const now = opts.now ?? Date.now;
  const maxFailures = opts.maxFailures ?? 10;
  const windowMs = opts.windowMs ?? 60_000;
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const windows = new Map<string, Window>();

  const current = (ip: string, t: number): Window | undefined => {
    const w = windows.get(ip);
    if (w === undefined || w.endsAt > t) return w;
    windows.delete(ip);
    return undefined;
  };

  const sweep = (): void => {
    const t = now();
    for (const [ip, w] of windows) if (w.endsAt <= t) windows.delete(ip);
  };
  const timer = setInterval(sweep, opts.sweepIntervalMs ?? windowMs);
  timer.unref();

  return {
    blockedForMs(ip) {
      const t = now();
      const w = current(ip, t);
      return w !== undefined && w.failures >= maxFailures ? w.endsAt - t : 0;
    },
    recordFailure(ip) {
      const t = now();
      const w = current(ip, t);
      if (w !== undefined) {
        w.failures += 1;
        return;
      }
      if (windows.size >= maxEntries) {
        // Windows are inserted in start order, so the first one ends soonest.
        const oldest = windows.keys().next();
        if (oldest.done !== true) windows.delete(oldest.value);
      }
      windows.set(ip, { failures: 1, endsAt: t + windowMs });
    },
    close: () => clearInterval(timer),
  };
}

import { PorticoError } from '../errors.js';
import type { AcmeConfig, HostConfig } from '../config/config-types.js';
import type { Logger } from '../observability/logger.js';
import type { AcmeIssuer } from './acme-issuer.js';
import type { CertStore } from './cert-store.js';
import { checkPair, loadStoredPair, pairServes, saveStoredPair, type CheckedPair } from './stored-pair.js';

/** Keeps every ACME host's certificate present and fresh, in the store and in the manager. */
export interface RenewalScheduler {
  /** The ACME hosts the config wants now; unchanged hosts keep their state. */
  set(hosts: readonly HostConfig[], acmeConfig: AcmeConfig | undefined): void;
  /** Allows orders to start (they wait until the HTTP listener can answer challenges). */
  enableOrders(): void;
  /** Re-reads the store for every host now (a certificate another process ordered). */
  recheckNow(): void;
  close(): void;
}

/** Dependencies and timings of the scheduler; timings are injectable so tests run fast. */
export interface RenewalSchedulerOptions {
  readonly log: Logger;
  readonly store: CertStore;
  readonly issuer: AcmeIssuer;
  readonly now: () => number;
  /** First retry delay after a failure; doubles per failure, capped at one hour. */
  readonly backoffBaseMs: number;
  /** How often the store is re-read (another instance may have stored a new certificate). */
  readonly pollIntervalMs: number;
  /** Re-read interval while another holder owns the order lock. */
  readonly lockPollMs: number;
  /**
   * Lifetime of the order lock; refreshed every third of it while the order runs, so an order
   * may take as long as the CA needs, and a crashed holder's lock lapses after this.
   */
  readonly orderLockTtlMs?: number;
  /** Called with every valid certificate found or issued; must ignore one it already serves. */
  readonly onCertificate: (hostName: string, checked: CheckedPair) => void;
  /** Called after an order's certificate was saved to the store. */
  readonly onStored?: (hostName: string) => void;
}

interface Job {
  readonly host: HostConfig;
  readonly identity: string;
  readonly names: readonly string[];
  timer: NodeJS.Timeout | undefined;
  running: boolean;
  cancelled: boolean;
  failures: number;
  retryAt: number;
  /** After an order succeeds, a valid cert is not re-ordered before this (guards renewBefore > lifetime). */
  quietUntil: number;
}

const MAX_BACKOFF_MS = 3_600_000;
const ORDER_LOCK_TTL_MS = 2 * 60_000;

/**
 * Creates the scheduler. Each host has one timer: every tick re-reads the store (and swaps in
 * what another instance stored), then, if renewal is due (no cert, a name not covered, or less
 * than renewBefore left) and no backoff is pending, takes the store lock, checks again, orders,
 * stores and swaps in. The poll interval (30 s by default) checks far more often than the twice
 * a day SPEC §3 asks. A failure never touches the served certificate.
 *
 * The body is the scheduler: its jobs and their timers, closed over by set, enableOrders and recheckNow.
 */
export function createRenewalScheduler(opts: RenewalSchedulerOptions): RenewalScheduler {
  const { log, store, issuer, now } = opts;
  const jobs = new Map<string, Job>();
  let acme: AcmeConfig | undefined;
  let ordersEnabled = false;
  let closed = false;

  const allowedNames = (): Set<string> => new Set([...jobs.values()].flatMap((job) => job.names));

  const schedule = (job: Job, delayMs: number): void => {
    if (job.cancelled || closed) return;
    clearTimeout(job.timer);
    job.timer = setTimeout(() => void tick(job), Math.max(0, delayMs));
    job.timer.unref();
  };

  const due = (job: Job, checked: CheckedPair | undefined, config: AcmeConfig): boolean => {
    const t = now();
    if (!checked || !pairServes(checked, job.names, t)) return true;
    if (t < job.quietUntil) return false;
    return checked.info.notAfter.getTime() - t < config.renewBeforeMs;
  };

  const lockTtlMs = opts.orderLockTtlMs ?? ORDER_LOCK_TTL_MS;

  const order = async (job: Job, config: AcmeConfig): Promise<number> => {
    const lock = await store.lock(`acme/${job.host.name}`, lockTtlMs);
    if (!lock) return opts.lockPollMs; // another instance is ordering: watch the store closely
    // One refresh at a time: two overlapping ones (a slow disk or Redis) raced on the lock
    // file's temporary copy, and a refresh still running at release could write the lock back.
    let refreshing: Promise<void> | undefined;
    const keeper = setInterval(() => {
      if (refreshing) return;
      refreshing = lock.refresh(lockTtlMs).then(
        (held) => {
          if (!held) log.warn({ event: 'certificate', host: job.host.name }, 'order lock lapsed: another instance may order too');
        },
        (err: unknown) => log.warn({ event: 'certificate', host: job.host.name, err }, 'could not refresh order lock'),
      ).finally(() => {
        refreshing = undefined;
      });
    }, lockTtlMs / 3);
    keeper.unref();
    try {
      const again = await loadStoredPair(store, 'acme', job.host.name);
      if (again && !job.cancelled) opts.onCertificate(job.host.name, again);
      if (!due(job, again, config)) return opts.pollIntervalMs;
      const pair = await issuer.issue(job.host, config, allowedNames());
      const checked = checkPair(pair);
      if (!checked || !pairServes(checked, job.names, now())) {
        throw new PorticoError('PORTICO_TLS_INVALID', 'the CA returned a certificate that does not match the key or the names');
      }
      await saveStoredPair(store, 'acme', job.host.name, pair);
      opts.onStored?.(job.host.name);
      const info = checked.info;
      job.quietUntil = now() + (info.notAfter.getTime() - info.notBefore.getTime()) / 3;
      log.info({ event: 'certificate', result: 'ok', action: 'issued', host: job.host.name, serial: info.serial, issuer: info.issuer, notAfter: info.notAfter.toISOString() });
      if (!job.cancelled) opts.onCertificate(job.host.name, checked);
      return opts.pollIntervalMs;
    } finally {
      clearInterval(keeper);
      await refreshing;
      await lock.release().catch((err: unknown) => log.warn({ event: 'certificate', host: job.host.name, err }, 'could not release order lock'));
    }
  };

  const tick = async (job: Job): Promise<void> => {
    if (job.running || job.cancelled || closed) return;
    const config = acme;
    if (!config) return;
    job.running = true;
    let next = opts.pollIntervalMs;
    try {
      const stored = await loadStoredPair(store, 'acme', job.host.name);
      if (stored && !job.cancelled) opts.onCertificate(job.host.name, stored);
      if (due(job, stored, config) && ordersEnabled) {
        const wait = job.retryAt - now();
        next = wait > 0 ? Math.min(wait, opts.pollIntervalMs) : await order(job, config);
        if (wait <= 0) job.failures = 0;
      }
    } catch (err) {
      job.failures += 1;
      const delay = Math.min(opts.backoffBaseMs * 2 ** (job.failures - 1), MAX_BACKOFF_MS);
      job.retryAt = now() + delay;
      next = Math.min(delay, opts.pollIntervalMs);
      log.error({ event: 'certificate', result: 'error', host: job.host.name, attempt: job.failures, retryInMs: delay, err });
    } finally {
      job.running = false;
    }
    schedule(job, next);
  };

  return {
    set(hosts, acmeConfig) {
      acme = acmeConfig;
      const wanted = new Map(hosts.map((h) => [h.name, h] as const));
      for (const [name, job] of jobs) {
        if (wanted.get(name) && identityOf(wanted.get(name) as HostConfig, acmeConfig) === job.identity) continue;
        job.cancelled = true;
        clearTimeout(job.timer);
        jobs.delete(name);
      }
      for (const host of hosts) {
        if (jobs.has(host.name)) continue;
        const names = [host.name, ...host.aliases].map((n) => n.toLowerCase());
        const job: Job = { host, identity: identityOf(host, acmeConfig), names, timer: undefined, running: false, cancelled: false, failures: 0, retryAt: 0, quietUntil: 0 };
        jobs.set(host.name, job);
        schedule(job, 0);
      }
    },
    enableOrders() {
      if (ordersEnabled) return;
      ordersEnabled = true;
      for (const job of jobs.values()) schedule(job, 0);
    },
    recheckNow() {
      for (const job of jobs.values()) if (!job.running) schedule(job, 0);
    },
    close() {
      closed = true;
      for (const job of jobs.values()) {
        job.cancelled = true;
        clearTimeout(job.timer);
      }
      jobs.clear();
    },
  };
}

/** What defines a job: its names and the ACME settings; any change starts a fresh job. */
function identityOf(host: HostConfig, acmeConfig: AcmeConfig | undefined): string {
  return JSON.stringify([host.name, host.aliases, acmeConfig ?? null]);
}

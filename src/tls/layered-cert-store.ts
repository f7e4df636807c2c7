import type { Logger } from '../observability/logger.js';
import type { CertStore, CertStoreLock } from './cert-store.js';

/**
 * A shared store (Redis: the truth every instance agrees on) mirrored to a local one (the
 * `tls.certs` directory), so `portico certs`, backups and a restart during a Redis outage
 * still find the certificates. Reads prefer the shared store and fall back to the mirror when
 * it is unreachable or lacks the key (e.g. certificates from before Redis was configured); a
 * value read from the shared store that differs from the local copy is written locally, so
 * every instance's mirror converges. Writes go to both; locks live in the shared store only.
 */
export class LayeredCertStore implements CertStore {
  private readonly shared: CertStore;
  private readonly mirror: CertStore;
  private readonly log: Logger;

  constructor(opts: { shared: CertStore; mirror: CertStore; log: Logger }) {
    this.shared = opts.shared;
    this.mirror = opts.mirror;
    this.log = opts.log;
  }

  async load(key: string): Promise<Buffer | undefined> {
    try {
      const value = await this.shared.load(key);
      if (value !== undefined) {
        await this.repairMirror(key, value);
        return value;
      }
    } catch (err) {
      this.log.warn({ event: 'certificate', result: 'error', code: 'PORTICO_STORE_UNAVAILABLE', key, err }, 'shared certificate store unreachable, reading the local mirror');
    }
    return this.mirror.load(key);
  }

  async store(key: string, value: Buffer): Promise<void> {
    // Both, even if the shared write fails: a freshly issued certificate must not be lost
    // (CAs rate-limit duplicate orders). The shared failure is still reported to the caller.
    const [shared, mirror] = await Promise.allSettled([this.shared.store(key, value), this.mirror.store(key, value)]);
    if (mirror.status === 'rejected') {
      this.log.warn({ event: 'certificate', result: 'error', key, err: mirror.reason }, 'could not mirror certificate to the local directory');
    }
    if (shared.status === 'rejected') throw shared.reason;
  }

  /** Copies what another instance stored into this instance's directory, so it holds every certificate too. */
  private async repairMirror(key: string, value: Buffer): Promise<void> {
    try {
      const local = await this.mirror.load(key);
      if (!local || !local.equals(value)) await this.mirror.store(key, value);
    } catch (err) {
      this.log.warn({ event: 'certificate', result: 'error', key, err }, 'could not mirror certificate to the local directory');
    }
  }

  async list(prefix: string): Promise<string[]> {
    return this.shared.list(prefix);
  }

  async lock(key: string, ttlMs: number): Promise<CertStoreLock | undefined> {
    return this.shared.lock(key, ttlMs);
  }
}

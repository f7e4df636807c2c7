import type tls from 'node:tls';
import type { Config } from '../config/config-types.js';
import type { Logger } from '../observability/logger.js';
import type { CertStore } from './cert-store.js';
import type { ChallengeStore } from './challenge-store.js';
import type { HttpListenerAddress } from './challenge-precheck.js';

/** One TLS host's certificate as `portico certs` and the metrics report it. */
export interface CertificateStatus {
  readonly host: string;
  readonly source: 'acme' | 'self-signed' | 'file';
  /** True while a self-signed stand-in is served (no real certificate yet, or it expired). */
  readonly temporary: boolean;
  readonly issuer: string;
  readonly notAfter: Date;
  readonly daysLeft: number;
  readonly serial: string;
}

/** The runtime TLS piece: SNI contexts per host, ACME issuance and renewal, challenge answers. */
export interface CertificateManager {
  /** (Re)configures the wanted hosts; idempotent; called at start and on every reload. */
  apply(config: Config): Promise<void>;
  /** Where the HTTP listener is bound (its actual port); ACME orders start only once it is known. */
  setHttpListener(address: HttpListenerAddress): void;
  /**
   * Options for `https.createServer`: protocol limits, SNICallback and (when safe, see attach)
   * the fallback certificate for clients without SNI. Valid after the first apply().
   */
  serverOptions(): tls.TlsOptions;
  /**
   * Keeps the server's default context current (minVersion changes on reload, the no-SNI
   * fallback appearing or going): call once after creating the HTTPS server.
   */
  attach(server: tls.Server): void;
  /** Forgets a server attached before (it was replaced by a listener on another address). */
  detach(server: tls.Server): void;
  /** The key authorization for an HTTP-01 token, if an order is waiting for it. */
  challengeResponse(token: string): Promise<string | undefined>;
  status(): CertificateStatus[];
  /** Looks in the store for every ACME host now instead of at the next poll. */
  recheckStore(): void;
  close(): Promise<void>;
}

/** Dependencies and (test-injectable) timings of the manager. */
export interface CertificateManagerOptions {
  readonly log: Logger;
  readonly store: CertStore;
  readonly challenges: ChallengeStore;
  readonly now?: () => number;
  readonly backoffBaseMs?: number;
  readonly pollIntervalMs?: number;
  readonly lockPollMs?: number;
  /** Lifetime of an ACME order lock, refreshed while the order runs (default 2 min). */
  readonly orderLockTtlMs?: number;
  /** Called when an order stored a certificate (not when one was loaded from the store). */
  readonly onStored?: (host: string) => void;
  /** acme-client's order/challenge status polling interval (its default is 5 s). */
  readonly acmePollMs?: number;
}

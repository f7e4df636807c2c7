import type { Metrics } from './admin/metrics.js';
import type { Config } from './config/config-types.js';
import type { Logger } from './observability/logger.js';
import type { RedisConnection } from './store/redis-connection.js';
import type { CertStore } from './tls/cert-store.js';
import { createCertificateManager, type CertificateManager } from './tls/certificate-manager.js';
import { FileCertStore } from './tls/file-cert-store.js';
import { LayeredCertStore } from './tls/layered-cert-store.js';
import { createMemoryChallengeStore } from './tls/memory-challenge-store.js';
import { RedisCertStore } from './tls/redis-cert-store.js';
import { RedisChallengeStore } from './tls/redis-challenge-store.js';

/**
 * The gateway's TLS side: the certificate manager (used directly), with what is chosen here:
 * where challenge answers come from, and the certificate-expiry gauge.
 */
export interface TlsServices {
  readonly manager: CertificateManager;
  /** The key authorization for an HTTP-01 token: the manager's, or a worker's supervisor's. */
  challengeResponse(token: string): Promise<string | undefined>;
  updateMetrics(metrics: Metrics): void;
}

/** How a process of a multi-process instance takes part in TLS (SPEC §4 Workers). */
export interface TlsServicesOptions {
  /** A worker: challenges are answered by the supervisor, which places the orders. */
  readonly challengeResponse?: (token: string) => Promise<string | undefined>;
  /** The supervisor: told when an order stored a certificate, so workers load it at once. */
  readonly onStored?: (host: string) => void;
}

/**
 * Chooses the certificate and challenge stores: the `tls.certs` directory alone, or Redis as
 * the shared truth with the directory as a local mirror, so that every instance answers
 * challenges and serves the certificate one of them obtained.
 */
export function createTlsServices(config: Config, log: Logger, redis: RedisConnection | undefined, opts: TlsServicesOptions = {}): TlsServices {
  const file = new FileCertStore(config.tls.certsDir);
  const store: CertStore = redis
    ? new LayeredCertStore({ shared: new RedisCertStore({ client: redis.client, prefix: redis.prefix }), mirror: file, log })
    : file;
  const challenges = redis ? new RedisChallengeStore({ client: redis.client, prefix: redis.prefix }) : createMemoryChallengeStore();
  // Order and challenge status are polled from 1 s, backing off to 4 s, as certbot and lego do;
  // acme-client's own 5–30 s backoff made a finalised order wait half a minute for its poll.
  const manager = createCertificateManager({ log, store, challenges, acmePollMs: 1_000, ...(opts.onStored ? { onStored: opts.onStored } : {}) });
  return {
    manager,
    challengeResponse: opts.challengeResponse ?? ((token) => manager.challengeResponse(token)),
    updateMetrics(metrics) {
      metrics.certExpiry.reset();
      // A temporary stand-in (no certificate yet) has no meaningful expiry: report real ones only.
      for (const s of manager.status()) if (!s.temporary) metrics.certExpiry.labels(s.host, s.source).set(Math.floor(s.notAfter.getTime() / 1000));
    },
  };
}

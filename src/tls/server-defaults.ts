import { randomBytes } from 'node:crypto';
import type tls from 'node:tls';
import type { TlsConfig } from '../config/config-types.js';
import type { CertificatePair } from './self-signed.js';
import { servingProtocolOptions } from './serving-context.js';

/** The HTTPS server's own (default) context settings, kept current on the attached servers. */
export interface ServerDefaults {
  /** Recomputes the defaults; pushes them to attached servers when they changed. */
  update(minVersion: TlsConfig['minVersion'], fallback: CertificatePair, withFallbackCert: boolean): void;
  current(): tls.SecureContextOptions;
  attach(server: tls.Server): void;
  /** Stops updating a server that no longer listens. */
  detach(server: tls.Server): void;
  detachAll(): void;
}

/**
 * Why this exists: with OpenSSL 3 (Node 20), when SNICallback switches a connection to a
 * context whose key type differs from the server's default certificate, the default key stays
 * selectable, so an ECDSA default certificate is presented instead of a host's RSA one (see
 * test "an RSA file certificate next to ECDSA ones"). So the fallback certificate sits in the
 * default context only while every served certificate is ECDSA like it; otherwise clients
 * without SNI are refused (SPEC §3 allows refusing) and unknown names still get the fallback
 * through SNICallback. Protocol limits must be on the default context too: OpenSSL fixes the
 * version range and cipher list when the connection is created, before SNI is seen.
 */
export function createServerDefaults(): ServerDefaults {
  const servers = new Set<tls.Server>();
  let signature = '';
  // Session tickets are sealed with the default context's ticket keys, and every new context
  // draws fresh random keys: without keys of our own, a reload that changes these options
  // (minVersion, the fallback certificate) would void every ticket a client holds. One set per
  // process, never written anywhere; a restart still voids them, as with nginx's default.
  const ticketKeys = randomBytes(48);
  let options: tls.SecureContextOptions = { ...servingProtocolOptions('TLSv1.2'), ticketKeys };
  return {
    update(minVersion, fallback, withFallbackCert) {
      const next = JSON.stringify([minVersion, withFallbackCert, fallback.certPem]);
      if (next === signature) return;
      signature = next;
      options = {
        ...servingProtocolOptions(minVersion),
        ticketKeys,
        ...(withFallbackCert ? { cert: fallback.certPem, key: fallback.keyPem } : {}),
      };
      for (const server of servers) server.setSecureContext(options);
    },
    current: () => options,
    attach(server) {
      servers.add(server);
      server.setSecureContext(options);
    },
    detach(server) {
      servers.delete(server);
    },
    detachAll() {
      servers.clear();
    },
  };
}

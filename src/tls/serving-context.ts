import tls from 'node:tls';
import type { TlsConfig } from '../config/config-types.js';
import type { CertificatePair } from './self-signed.js';

/**
 * SPEC §3: TLS 1.2 offers only ECDHE with AES-GCM or ChaCha20-Poly1305 (ECDSA and RSA
 * certificates, since a `file` certificate may be RSA); TLS 1.3 suites are all AEAD already.
 */
export const SERVING_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** The protocol settings every context and the server itself share. */
export function servingProtocolOptions(minVersion: TlsConfig['minVersion']): tls.SecureContextOptions {
  // honorCipherOrder: the server's AEAD-first order wins over a client's preference.
  return { minVersion, ciphers: SERVING_CIPHERS, honorCipherOrder: true };
}

/** Builds the SecureContext for one certificate; done once per certificate, never per handshake. */
export function createServingContext(pair: CertificatePair, minVersion: TlsConfig['minVersion']): tls.SecureContext {
  return tls.createSecureContext({ ...servingProtocolOptions(minVersion), cert: pair.certPem, key: pair.keyPem });
}

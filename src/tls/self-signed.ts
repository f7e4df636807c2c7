import 'reflect-metadata';
import { webcrypto, randomBytes } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** A PEM certificate with its PEM (PKCS#8) private key. */
export interface CertificatePair {
  readonly certPem: string;
  readonly keyPem: string;
}

const DAY_MS = 86_400_000;

// ECDSA P-256 for every certificate Portico makes (self-signed, temporary, ACME): OpenSSL 3
// keeps some per-connection state from the server's default context when SNI switches
// contexts, so mixing key types across contexts is a known source of handshake failures.
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

// Node's WebCrypto; the DOM `Crypto` type is not in this project's lib, hence the cast.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/**
 * Creates a self-signed ECDSA P-256 certificate whose SANs are `names` (DNS names, wildcards
 * allowed) and whose subject CN is the first name; valid from one hour ago for `days` days.
 */
export async function createSelfSignedCertificate(
  names: readonly string[],
  opts: { days?: number } = {},
): Promise<CertificatePair> {
  const first = names[0];
  if (first === undefined) throw new TypeError('createSelfSignedCertificate needs at least one name');
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  // Backdated an hour so a client whose clock runs slightly behind still accepts it.
  const notBefore = new Date(now - 3_600_000);
  const notAfter = new Date(now + (opts.days ?? 365) * DAY_MS);
  // A positive 64-bit serial (first byte masked) as RFC 5280 §4.1.2.2 requires.
  const serial = randomBytes(8);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: [{ CN: [first] }],
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING_ALGORITHM,
    keys: keys as unknown as x509.X509CertificateCreateSelfSignedParams['keys'],
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value }))),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: cert.toString('pem') + '\n', keyPem: toPem(Buffer.from(pkcs8), 'PRIVATE KEY') };
}

function toPem(der: Buffer, label: string): string {
  const body = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

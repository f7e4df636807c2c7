import { X509Certificate, createPrivateKey } from 'node:crypto';

/** What Portico needs to know about a certificate: validity, issuer, names, serial. */
export interface CertificateInfo {
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The issuer's CN, or the whole issuer DN when it has no CN. */
  readonly issuer: string;
  /** DNS subject alternative names, lower case (the subject CN when there are none). */
  readonly names: readonly string[];
  /** Serial number, upper-case hex as OpenSSL prints it. */
  readonly serial: string;
  /** The public key type: `ec`, `rsa`, … (see the SNI note in certificate-manager). */
  readonly keyType: string;
  /** Whole days left at `nowMs`, rounded down: negative once expired. */
  daysLeft(nowMs: number): number;
}

const DAY_MS = 86_400_000;

/** Reads the first certificate of a PEM (a full chain starts with the leaf); throws if unparsable. */
export function readCertificateInfo(certPem: string | Buffer): CertificateInfo {
  const cert = new X509Certificate(certPem);
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  return {
    notBefore,
    notAfter,
    issuer: commonName(cert.issuer) ?? cert.issuer.replace(/\n/g, ', '),
    names: subjectNames(cert),
    serial: cert.serialNumber.toUpperCase(),
    keyType: cert.publicKey.asymmetricKeyType ?? 'unknown',
    daysLeft: (nowMs: number) => Math.floor((notAfter.getTime() - nowMs) / DAY_MS),
  };
}

/** True when `keyPem` is the private key of the (leaf) certificate `certPem`; false if either does not parse. */
export function keyMatchesCert(certPem: string | Buffer, keyPem: string | Buffer): boolean {
  try {
    return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    // Unparsable input is simply "no match"; callers log the situation with context.
    return false;
  }
}

/** True when a certificate name (possibly `*.x`) covers `host`; a wildcard matches one label. */
export function certificateCovers(names: readonly string[], host: string): boolean {
  const wanted = host.toLowerCase();
  return names.some((name) => {
    if (name === wanted) return true;
    if (!name.startsWith('*.')) return false;
    const dot = wanted.indexOf('.');
    return dot > 0 && wanted.slice(dot) === name.slice(1);
  });
}

function commonName(dn: string): string | undefined {
  // Node prints one RDN per line, e.g. "C=US\nO=Pebble\nCN=Pebble Intermediate CA 1a2b".
  const line = dn.split('\n').find((part) => part.startsWith('CN='));
  return line?.slice(3);
}

function subjectNames(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (san) {
    return san
      .split(', ')
      .filter((entry) => entry.startsWith('DNS:'))
      .map((entry) => entry.slice(4).toLowerCase());
  }
  const cn = commonName(cert.subject);
  return cn ? [cn.toLowerCase()] : [];
}

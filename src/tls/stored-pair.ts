import type { CertStore } from './cert-store.js';
import { certificateCovers, keyMatchesCert, readCertificateInfo, type CertificateInfo } from './certificate-info.js';
import type { CertificatePair } from './self-signed.js';
import { storeKey, type StoredSource } from './store-key.js';

/** A certificate with its key, checked to parse and match, plus what it says about itself. */
export interface CheckedPair {
  readonly pair: CertificatePair;
  readonly info: CertificateInfo;
}

/** Parses and checks a pair; undefined when the cert does not parse or the key does not match it. */
export function checkPair(pair: CertificatePair): CheckedPair | undefined {
  if (!keyMatchesCert(pair.certPem, pair.keyPem)) return undefined;
  return { pair, info: readCertificateInfo(pair.certPem) };
}

/** Loads `SOURCE/HOST.crt` + `.key`; undefined when missing, unparsable or mismatched (e.g. mid-write). */
export async function loadStoredPair(store: CertStore, source: StoredSource, hostName: string): Promise<CheckedPair | undefined> {
  const [cert, key] = await Promise.all([
    store.load(storeKey(source, hostName, 'crt')),
    store.load(storeKey(source, hostName, 'key')),
  ]);
  if (!cert || !key) return undefined;
  return checkPair({ certPem: cert.toString('utf8'), keyPem: key.toString('utf8') });
}

/**
 * Stores a pair key first, then certificate: a reader between the two writes sees a
 * mismatched pair, which loadStoredPair rejects, never a new cert with an old key.
 */
export async function saveStoredPair(store: CertStore, source: StoredSource, hostName: string, pair: CertificatePair): Promise<void> {
  await store.store(storeKey(source, hostName, 'key'), Buffer.from(pair.keyPem));
  await store.store(storeKey(source, hostName, 'crt'), Buffer.from(pair.certPem));
}

/** True when a certificate is usable for `names` at `nowMs`: covers every name and has not expired. */
export function pairServes(checked: CheckedPair, names: readonly string[], nowMs: number): boolean {
  return checked.info.notAfter.getTime() > nowMs && names.every((name) => certificateCovers(checked.info.names, name));
}

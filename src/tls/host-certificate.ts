import { PorticoError } from '../errors.js';
import { readFile } from 'node:fs/promises';
import type { HostConfig } from '../config/config-types.js';
import type { Logger } from '../observability/logger.js';
import type { CertStore } from './cert-store.js';
import { createSelfSignedCertificate } from './self-signed.js';
import { checkPair, loadStoredPair, pairServes, saveStoredPair, type CheckedPair } from './stored-pair.js';

/** A certificate to serve for a host; `temporary` ones are self-signed stand-ins, never stored. */
export interface HostCertificate {
  readonly checked: CheckedPair;
  readonly temporary: boolean;
}

/** The SOURCE column of `portico certs` and the `source` of status(): how the host gets its certificate. */
export function certificateSource(host: HostConfig): 'acme' | 'self-signed' | 'file' {
  return host.tls.kind === 'file' || host.tls.kind === 'acme' ? host.tls.kind : 'self-signed';
}

/** Every name a host answers to, lower case: the configured name first, then its aliases. */
export function hostNames(host: HostConfig): string[] {
  return [host.name, ...host.aliases].map((name) => name.toLowerCase());
}

/**
 * Stored `self-signed` certificates are for local and internal names that the operator trusts
 * by hand: a year, so that they are not replaced (and trusted again) every month and TLS
 * scanners do not flag them as about to expire ("expires < 30 days").
 */
const SELF_SIGNED_DAYS = 365;
/** Temporary stand-ins serve only until a real certificate arrives; they are never stored. */
const TEMPORARY_DAYS = 30;

/** A self-signed stand-in for `names`, kept in memory only (SPEC: temporary certs are not stored). */
export async function temporaryCertificate(names: readonly string[], days = TEMPORARY_DAYS): Promise<HostCertificate> {
  const checked = checkPair(await createSelfSignedCertificate(names, { days }));
  if (!checked) throw new PorticoError('PORTICO_TLS_INVALID', 'generated certificate does not match its key');
  return { checked, temporary: true };
}

/**
 * Finds the certificate a host should serve now: `self-signed` loads or generates (and stores)
 * one; `acme` loads the stored one; `file` reads the configured files. Whenever nothing valid
 * and unexpired is available, a temporary certificate stands in.
 */
export async function loadHostCertificate(host: HostConfig, deps: { store: CertStore; log: Logger; now: number }): Promise<HostCertificate> {
  const names = hostNames(host);
  const { store, log, now } = deps;
  switch (host.tls.kind) {
    case 'self-signed': {
      const stored = await loadStoredPair(store, 'self-signed', host.name);
      if (stored && pairServes(stored, names, now)) return { checked: stored, temporary: false };
      const generated = await temporaryCertificate(names, SELF_SIGNED_DAYS);
      await saveStoredPair(store, 'self-signed', host.name, generated.checked.pair);
      log.info({ event: 'certificate', result: 'ok', action: 'generated', host: host.name, source: 'self-signed' });
      return { checked: generated.checked, temporary: false };
    }
    case 'acme': {
      const stored = await loadStoredPair(store, 'acme', host.name);
      if (stored && pairServes(stored, names, now)) return { checked: stored, temporary: false };
      return temporaryCertificate(names);
    }
    case 'file': {
      const checked = await readFilePair(host.tls.certFile, host.tls.keyFile);
      if (checked && checked.info.notAfter.getTime() > now) return { checked, temporary: false };
      log.error({ event: 'certificate', result: 'error', code: 'PORTICO_TLS_INVALID', host: host.name, source: 'file', cert: host.tls.certFile, reason: checked ? 'expired' : 'unreadable, unparsable or key does not match' }, 'serving a temporary self-signed certificate');
      return temporaryCertificate(names);
    }
    default:
      throw new Error(`host ${host.name} has no TLS certificate source`);
  }
}

/** Reads a cert/key file pair; undefined unless both parse and match. */
export async function readFilePair(certFile: string, keyFile: string): Promise<CheckedPair | undefined> {
  try {
    const [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    return checkPair({ certPem, keyPem });
  } catch {
    // Missing or unparsable files are reported by the caller, which knows the host.
    return undefined;
  }
}

import { resolve } from 'node:path';
import { resolveAcmeDirectory } from './acme-directory.js';
import type { TlsConfig } from './config-types.js';
import { checkReadable, type Report } from './config-values.js';
import type { RoutesFile } from './schema.js';
import { parseDuration } from './units.js';

/** `tls`: the certificate directory, the minimum version and the ACME account, checked. */
export function normalizeTls(raw: RoutesFile, baseDir: string, issue: Report): TlsConfig {
  const acme = raw.tls?.acme;
  let acmeConfig: TlsConfig['acme'];
  if (acme) {
    const directoryUrl = resolveAcmeDirectory(acme.directory ?? 'letsencrypt');
    if (!directoryUrl) issue(['tls', 'acme', 'directory'], `invalid ACME directory ${JSON.stringify(acme.directory)}: expected letsencrypt, letsencrypt-staging or a directory URL`);
    const caFile = acme.caFile ? resolve(baseDir, acme.caFile) : undefined;
    if (caFile) checkReadable(caFile, ['tls', 'acme', 'caFile'], issue);
    if (!/^[^@\s]+@[^@\s]+$/.test(acme.email)) issue(['tls', 'acme', 'email'], `invalid email "${acme.email}"`);
    acmeConfig = {
      email: acme.email,
      directoryUrl: directoryUrl ?? '',
      caFile,
      renewBeforeMs: acme.renewBefore ? parseDuration(acme.renewBefore) ?? 0 : 30 * 86_400_000,
    };
  }
  return { certsDir: resolve(baseDir, raw.tls?.certs ?? './certs'), minVersion: raw.tls?.minVersion ?? 'TLSv1.2', acme: acmeConfig };
}

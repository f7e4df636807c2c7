import type { Config, HostConfig } from '../config/config-types.js';
import type { CertStore } from '../tls/cert-store.js';
import { readCertificateInfo, type CertificateInfo } from '../tls/certificate-info.js';
import { FileCertStore } from '../tls/file-cert-store.js';
import { readFile } from 'node:fs/promises';
import { storeKey } from '../tls/store-key.js';

/**
 * `portico certs`: one line per TLS host, `HOST\tSOURCE\tISSUER\tNOT_AFTER\tDAYS_LEFT`
 * (SPEC §1), `-` where no certificate exists yet. Reads the local `tls.certs` directory by
 * default; with Redis that directory is the mirror every instance keeps current.
 */
export async function runCerts(config: Config, store: CertStore = new FileCertStore(config.tls.certsDir), nowMs = Date.now()): Promise<string[]> {
  const lines: string[] = [];
  for (const host of config.hosts) {
    if (host.tls.kind === 'off') continue;
    const source = host.tls.kind === 'file' ? 'file' : host.tls.kind;
    const info = await readInfo(host, store);
    const fields = info
      ? [info.issuer, info.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z'), String(info.daysLeft(nowMs))]
      : ['-', '-', '-'];
    lines.push([host.name, source, ...fields].join('\t'));
  }
  return lines;
}

async function readInfo(host: HostConfig, store: CertStore): Promise<CertificateInfo | undefined> {
  try {
    let pem: Buffer | undefined;
    if (host.tls.kind === 'file') pem = await readFile(host.tls.certFile);
    else if (host.tls.kind === 'acme' || host.tls.kind === 'self-signed') pem = await store.load(storeKey(host.tls.kind, host.name, 'crt'));
    return pem ? readCertificateInfo(pem) : undefined;
  } catch {
    // A missing or corrupt file is shown as "no certificate" (`-`), like a host not yet issued.
    return undefined;
  }
}

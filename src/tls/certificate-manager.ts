import type tls from 'node:tls';
import type { Config, HostConfig, TlsConfig } from '../config/config-types.js';
import { createAcmeIssuer } from './acme-issuer.js';
import type { CertificateManager, CertificateManagerOptions } from './certificate-manager-types.js';
import { watchFiles } from '../watch/watch-files.js';
import { certificateSource, hostNames, loadHostCertificate, readFilePair, temporaryCertificate, type HostCertificate } from './host-certificate.js';
import { createRenewalScheduler } from './renewal-scheduler.js';
import { createServingContext } from './serving-context.js';
import { createServerDefaults } from './server-defaults.js';
import { createSniIndex, type SniIndex } from './sni-index.js';
import { pairServes, type CheckedPair } from './stored-pair.js';

export type { CertificateManager, CertificateManagerOptions, CertificateStatus } from './certificate-manager-types.js';

interface Entry {
  readonly host: HostConfig;
  readonly identity: string;
  readonly names: readonly string[];
  cert: HostCertificate;
  context: tls.SecureContext;
  expiryTimer: NodeJS.Timeout | undefined;
  watcher: { close(): void } | undefined;
  /** Set when a reload removed the host: late results (a file change, an order) are ignored. */
  dropped: boolean;
}

const TOKEN = /^[A-Za-z0-9_-]{1,256}$/; // RFC 8555 §8.3: base64url tokens only
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Creates the certificate manager; nothing is served until the first `apply()`. *
 * The body is the manager: its entries, SNI index and fallback, and the functions that keep them consistent, closed over by the returned interface; split further, each part would need all of that state.
 */
export function createCertificateManager(opts: CertificateManagerOptions): CertificateManager {
  const log = opts.log.child({ module: 'tls' });
  const now = opts.now ?? Date.now;
  const { store, challenges } = opts;
  const entries = new Map<string, Entry>();
  let index: SniIndex = createSniIndex([]);
  let minVersion: TlsConfig['minVersion'] = 'TLSv1.2';
  let fallback: { checked: CheckedPair; context: tls.SecureContext } | undefined;
  let applying: Promise<void> = Promise.resolve();
  const defaults = createServerDefaults();

  const issuer = createAcmeIssuer({ store, challenges, log, ...(opts.acmePollMs !== undefined ? { pollMs: opts.acmePollMs } : {}) });
  const scheduler = createRenewalScheduler({
    log, store, issuer, now,
    // A failed order is retried after 1 min, 2 min, 4 min, … up to 1 h, as certmagic starts at
    // 1 min: Let's Encrypt allows 5 failed validations per name per hour, which retries from 1 s
    // used up within a minute, locking the name out for the hour.
    backoffBaseMs: opts.backoffBaseMs ?? 60_000,
    pollIntervalMs: opts.pollIntervalMs ?? 30_000,
    lockPollMs: opts.lockPollMs ?? 1_000,
    ...(opts.orderLockTtlMs !== undefined ? { orderLockTtlMs: opts.orderLockTtlMs } : {}),
    onStored: (hostName) => opts.onStored?.(hostName),
    onCertificate: (hostName, checked) => {
      const entry = entries.get(hostName);
      if (!entry || entry.host.tls.kind !== 'acme' || entry.cert.checked.pair.certPem === checked.pair.certPem) return;
      if (pairServes(checked, entry.names, now())) install(entry, { checked, temporary: false }, 'renewed');
    },
  });

  const reindex = (): void => {
    index = createSniIndex([...entries.values()].map((entry) => ({ names: entry.names, context: entry.context })));
    if (!fallback) return;
    const allEcdsa = [...entries.values()].every((entry) => entry.cert.checked.info.keyType === 'ec');
    defaults.update(minVersion, fallback.checked.pair, allEcdsa);
  };

  const install = (entry: Entry, cert: HostCertificate, action: string): void => {
    if (entry.dropped) return;
    if (entry.cert !== cert) entry.context = createServingContext(cert.checked.pair, minVersion);
    entry.cert = cert;
    arm(entry);
    reindex();
    const info = cert.checked.info;
    log.info({ event: 'certificate', result: 'ok', action, host: entry.host.name, source: certificateSource(entry.host), temporary: cert.temporary, serial: info.serial, issuer: info.issuer, notAfter: info.notAfter.toISOString() });
  };

  /** At notAfter the entry is refreshed, so an expired certificate is never served. */
  const arm = (entry: Entry): void => {
    clearTimeout(entry.expiryTimer);
    const wait = entry.cert.checked.info.notAfter.getTime() - now();
    entry.expiryTimer = setTimeout(() => {
      if (wait > MAX_TIMER_MS) return arm(entry); // setTimeout cannot wait longer: re-arm
      void refresh(entry);
    }, Math.min(Math.max(wait, 0), MAX_TIMER_MS));
    entry.expiryTimer.unref();
  };

  const refresh = async (entry: Entry): Promise<void> => {
    try {
      install(entry, await loadHostCertificate(entry.host, { store, log, now: now() }), 'refreshed');
    } catch (err) {
      log.error({ event: 'certificate', result: 'error', host: entry.host.name, err });
    }
  };

  /** A changed file pair is swapped in only if both parse, match and are unexpired. */
  const onFileChange = async (entry: Entry): Promise<void> => {
    if (entry.host.tls.kind !== 'file') return;
    const checked = await readFilePair(entry.host.tls.certFile, entry.host.tls.keyFile);
    if (!checked || checked.info.notAfter.getTime() <= now()) {
      log.error({ event: 'certificate', result: 'error', code: 'PORTICO_TLS_INVALID', host: entry.host.name, source: 'file', reason: checked ? 'expired' : 'unreadable, unparsable or key does not match' }, 'keeping the current certificate');
      return;
    }
    const current = entry.cert.checked.pair;
    if (checked.pair.certPem !== current.certPem || checked.pair.keyPem !== current.keyPem) {
      install(entry, { checked, temporary: false }, 'reloaded');
    }
  };

  const createEntry = async (host: HostConfig, identity: string): Promise<void> => {
    let cert: HostCertificate;
    try {
      cert = await loadHostCertificate(host, { store, log, now: now() });
    } catch (err) {
      log.error({ event: 'certificate', result: 'error', host: host.name, err }, 'serving a temporary self-signed certificate');
      cert = await temporaryCertificate(hostNames(host));
    }
    const entry: Entry = { host, identity, names: hostNames(host), cert, context: createServingContext(cert.checked.pair, minVersion), expiryTimer: undefined, watcher: undefined, dropped: false };
    entries.set(host.name, entry);
    install(entry, cert, 'loaded');
    if (host.tls.kind === 'file') {
      entry.watcher = watchFiles([host.tls.certFile, host.tls.keyFile], () => void onFileChange(entry), log);
    }
  };

  const dropEntry = (entry: Entry): void => {
    entry.dropped = true;
    clearTimeout(entry.expiryTimer);
    entry.watcher?.close();
    entries.delete(entry.host.name);
  };

  const applyNow = async (config: Config): Promise<void> => {
    const versionChanged = minVersion !== config.tls.minVersion;
    minVersion = config.tls.minVersion;
    if (!fallback || versionChanged) {
      const checked = fallback?.checked ?? (await temporaryCertificate(['portico.invalid'])).checked;
      fallback = { checked, context: createServingContext(checked.pair, minVersion) };
    }
    const wanted = config.hosts.filter((host) => host.tls.kind !== 'off');
    const identities = new Map(wanted.map((host) => [host.name, JSON.stringify([host.name, host.aliases, host.tls, minVersion])] as const));
    for (const entry of [...entries.values()]) {
      if (identities.get(entry.host.name) !== entry.identity) dropEntry(entry);
    }
    await Promise.all(wanted.map(async (host) => {
      const existing = entries.get(host.name);
      if (!existing) return createEntry(host, identities.get(host.name) ?? '');
      // A reload may be caused by a change of the files themselves (SPEC hot reload).
      if (host.tls.kind === 'file') return onFileChange(existing);
      return undefined;
    }));
    // Keep config order (entries finish loading in any order) for status() and `portico certs`.
    const ordered = wanted.flatMap((host) => entries.get(host.name) ?? []);
    entries.clear();
    for (const entry of ordered) entries.set(entry.host.name, entry);
    reindex();
    scheduler.set(wanted.filter((host) => host.tls.kind === 'acme'), config.tls.acme);
  };

  const fallbackContext = (): tls.SecureContext => {
    if (!fallback) throw new Error('certificate manager used before apply()');
    return fallback.context;
  };

  return {
    apply(config) {
      // One apply at a time, in call order: a reload never interleaves with the previous one.
      applying = applying.catch(() => undefined).then(() => applyNow(config));
      return applying;
    },
    setHttpListener(address) {
      issuer.setHttpListener(address);
      scheduler.enableOrders();
    },
    serverOptions() {
      fallbackContext(); // throws before the first apply()
      return { ...defaults.current(), SNICallback: (name, cb) => cb(null, index.find(name) ?? fallbackContext()) };
    },
    attach: (server) => defaults.attach(server),
    detach: (server) => defaults.detach(server),
    async challengeResponse(token) {
      if (!TOKEN.test(token)) return undefined;
      try {
        return await challenges.get(token);
      } catch (err) {
        log.error({ event: 'certificate', result: 'error', code: 'PORTICO_STORE_UNAVAILABLE', err }, 'challenge store unreachable');
        return undefined;
      }
    },
    recheckStore: () => scheduler.recheckNow(),
    status() {
      return [...entries.values()].map((entry) => ({
        host: entry.host.name,
        source: certificateSource(entry.host),
        temporary: entry.cert.temporary,
        issuer: entry.cert.checked.info.issuer,
        notAfter: entry.cert.checked.info.notAfter,
        daysLeft: entry.cert.checked.info.daysLeft(now()),
        serial: entry.cert.checked.info.serial,
      }));
    },
    async close() {
      scheduler.close();
      defaults.detachAll();
      await applying.catch(() => undefined);
      for (const entry of [...entries.values()]) dropEntry(entry);
    },
  };
}

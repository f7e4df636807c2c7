import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import type * as AcmeClientModule from 'acme-client';
import type { AcmeConfig, HostConfig } from '../config/config-types.js';
import { PorticoError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { CertStore } from './cert-store.js';
import type { ChallengeStore } from './challenge-store.js';
import { precheckChallenge, type HttpListenerAddress } from './challenge-precheck.js';
import type { CertificatePair } from './self-signed.js';
import { ACCOUNT_KEY } from './store-key.js';

/** Orders certificates from an ACME CA over HTTP-01. */
export interface AcmeIssuer {
  /** Orders a certificate for `host` (name + aliases); `allowed` is every name the config may order. */
  issue(host: HostConfig, acmeConfig: AcmeConfig, allowed: ReadonlySet<string>): Promise<CertificatePair>;
  /** Where Portico's own `http` listener is bound: the challenge pre-check goes there over loopback. */
  setHttpListener(address: HttpListenerAddress): void;
}

// acme-client keeps its settings on the defaults of its one exported axios instance.
interface AcmeAxiosDefaults {
  httpsAgent?: https.Agent;
  timeout?: number;
}
type AcmeClient = typeof AcmeClientModule;
let loading: Promise<AcmeClient> | undefined;

/**
 * acme-client and its crypto dependencies take about 18 MiB of memory once loaded: they are
 * loaded with the first order, so a gateway without ACME hosts never pays for them.
 */
function loadAcmeClient(): Promise<AcmeClient> {
  loading ??= import('acme-client').then((acme) => {
    // axios waits forever by default: a CA that accepts the connection and never answers would
    // hold the order (and its lock) for good instead of failing into the retry backoff.
    axiosDefaultsOf(acme).timeout = CA_REQUEST_TIMEOUT_MS;
    return acme;
  });
  return loading;
}

const axiosDefaultsOf = (acme: AcmeClient) => acme.axios.defaults as unknown as AcmeAxiosDefaults;
const ACCOUNT_LOCK_TTL_MS = 60_000;
/** One request to the CA; acme-client retries 5xx, 429 and connection errors, not timeouts. */
const CA_REQUEST_TIMEOUT_MS = 30_000;
/** The caFile the global https.Agent trusts now; module-level because the axios instance is. */
let agentFor: string | undefined;

/**
 * Creates an issuer around acme-client's `auto()`. The account key is created once (ECDSA
 * P-256) and kept in the store as `acme/account.key`; challenge tokens go through the
 * ChallengeStore so any instance sharing it can answer.
 *
 * Module-global state: acme-client sends all HTTP through one axios instance, so `caFile`
 * (an https.Agent trusting it) and the request timeout apply to the whole process. Portico runs
 * one ACME configuration per process, and sets the agent again when `caFile` changes.
 *
 * acme-client's `auto()` would fetch each challenge itself before asking the CA, resolving the
 * public name through the system resolver (its verify.js) and retrying for minutes: that never
 * works behind NAT without hairpin, with split DNS, or before DNS has propagated. It is
 * skipped; Portico checks its own `http` listener over loopback instead (challenge-precheck.ts),
 * and the CA's own validation is the real test, its reason logged when it fails.
 *
 * The body is the issuer: the account and the client it creates once, closed over by issue().
 */
export function createAcmeIssuer(opts: { store: CertStore; challenges: ChallengeStore; log: Logger; pollMs?: number }): AcmeIssuer {
  const { store, challenges, log } = opts;
  let pendingAccountKey: Promise<Buffer> | undefined;

  const accountKey = (acme: AcmeClient): Promise<Buffer> => {
    // Memoised so hosts ordering at the same time in this process share one key.
    pendingAccountKey ??= loadOrCreateAccountKey(acme, store).finally(() => {
      pendingAccountKey = undefined;
    });
    return pendingAccountKey;
  };

  const trust = async (acme: AcmeClient, caFile: string | undefined): Promise<void> => {
    if (caFile === agentFor) return;
    // The extra CA is added to Node's roots, not substituted for them (SPEC: "extra CA to trust").
    axiosDefaultsOf(acme).httpsAgent = caFile
      ? new https.Agent({ ca: [...rootCertificates, await readFile(caFile, 'utf8')], keepAlive: false })
      : undefined;
    agentFor = caFile;
  };

  let httpListener: HttpListenerAddress | undefined;
  return {
    setHttpListener(address) {
      httpListener = address;
    },
    async issue(host, acmeConfig, allowed) {
      const names = [host.name, ...host.aliases].map((n) => n.toLowerCase());
      const foreign = names.filter((n) => !allowed.has(n) || n.includes('*'));
      if (foreign.length > 0) {
        // Orders only for configured names (SPEC §3 ACME): a CA order is never derived from input.
        throw new PorticoError('PORTICO_ACME_FAILED', `refusing to order names not configured for ACME: ${foreign.join(', ')}`);
      }
      try {
        const acme = await loadAcmeClient();
        await trust(acme, acmeConfig.caFile);
        const client = new acme.Client({
          directoryUrl: acmeConfig.directoryUrl,
          accountKey: await accountKey(acme),
          ...(opts.pollMs !== undefined ? { backoffMin: opts.pollMs, backoffMax: opts.pollMs * 4 } : {}),
        });
        const certKey = await acme.crypto.createPrivateEcdsaKey('P-256');
        const [, csr] = await acme.crypto.createCsr({ commonName: names[0], altNames: names }, certKey);
        log.info({ event: 'certificate', result: 'ordering', host: host.name, names, directory: acmeConfig.directoryUrl });
        const certPem = await client.auto({
          csr,
          email: acmeConfig.email,
          termsOfServiceAgreed: true,
          challengePriority: ['http-01'],
          skipChallengeVerification: true,
          challengeCreateFn: async (authz, challenge, keyAuthorization) => {
            if (challenge.type !== 'http-01') throw new Error(`unsupported challenge ${challenge.type}`);
            await challenges.set(challenge.token, keyAuthorization);
            if (httpListener) await precheckChallenge(httpListener, authz.identifier.value, challenge.token, keyAuthorization);
          },
          challengeRemoveFn: async (_authz, challenge) => {
            await challenges.remove(challenge.token);
          },
        });
        return { certPem, keyPem: certKey.toString() };
      } catch (err) {
        throw new PorticoError('PORTICO_ACME_FAILED', `ACME order for ${names.join(', ')} failed: ${errorMessage(err)}`, { cause: err });
      }
    },
  };
}

/** Loads `acme/account.key`, creating it under a store lock so instances agree on one account. */
async function loadOrCreateAccountKey(acme: AcmeClient, store: CertStore): Promise<Buffer> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const existing = await store.load(ACCOUNT_KEY);
    if (existing) return existing;
    const lock = await store.lock(ACCOUNT_KEY, ACCOUNT_LOCK_TTL_MS);
    if (lock) {
      try {
        const again = await store.load(ACCOUNT_KEY);
        if (again) return again;
        const key = await acme.crypto.createPrivateEcdsaKey('P-256');
        await store.store(ACCOUNT_KEY, key);
        return key;
      } finally {
        await lock.release();
      }
    }
    // Another instance is creating it right now: it takes milliseconds.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new PorticoError('PORTICO_ACME_FAILED', 'could not obtain the ACME account key (lock held too long)');
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

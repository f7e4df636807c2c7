/** The stored kinds of certificate, each in its own directory of the store. */
export type StoredSource = 'acme' | 'self-signed';

/**
 * The store key of a host's certificate or key (SPEC §3): `acme/HOST.crt`, `self-signed/HOST.key`,
 * with HOST the configured name in lower case and `*` written as `_wildcard_`.
 */
export function storeKey(source: StoredSource, hostName: string, ext: 'crt' | 'key'): string {
  return `${source}/${hostName.toLowerCase().replaceAll('*', '_wildcard_')}.${ext}`;
}

/** The ACME account key, shared by every host (and every instance on a shared store). */
export const ACCOUNT_KEY = 'acme/account.key';

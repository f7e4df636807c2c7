import type tls from 'node:tls';

/** Finds the context for a TLS server name. */
export interface SniIndex {
  find(servername: string): tls.SecureContext | undefined;
}

/**
 * Indexes contexts by every name and alias (lower case). Lookup: exact name, then a wildcard
 * `*.rest` covering exactly one label (as SPEC host matching), then the catch-all host `*`.
 */
export function createSniIndex(entries: Iterable<{ readonly names: readonly string[]; readonly context: tls.SecureContext }>): SniIndex {
  const byName = new Map<string, tls.SecureContext>();
  for (const entry of entries) {
    for (const name of entry.names) byName.set(name.toLowerCase(), entry.context);
  }
  return {
    find(servername) {
      const name = servername.toLowerCase().replace(/\.$/, '');
      const exact = byName.get(name);
      if (exact) return exact;
      const dot = name.indexOf('.');
      const wildcard = dot > 0 ? byName.get(`*${name.slice(dot)}`) : undefined;
      return wildcard ?? byName.get('*');
    },
  };
}

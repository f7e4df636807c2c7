import { isIP } from 'node:net';
import { compileAddressMatcher } from './address-matcher.js';

/** Resolves the client address from the TCP peer and X-Forwarded-For (SPEC §3 Client IP). */
export interface ClientIpResolver {
  isTrusted(ip: string): boolean;
  resolve(peer: string, xff: string | undefined): string;
}

/** Compiles `trustedProxies` once per config (a memoised net.BlockList). */
export function compileClientIpResolver(trusted: readonly string[]): ClientIpResolver {
  const isTrusted = compileAddressMatcher(trusted);
  if (trusted.length === 0) return { isTrusted: () => false, resolve: (peer) => peer };
  return {
    isTrusted,
    resolve(peer, xff) {
      if (!xff || !isTrusted(peer)) return peer;
      // Walk right to left: the first untrusted hop is the client; a malformed entry stops the
      // walk and the last trusted address examined is the client.
      const hops = xff.split(',');
      let last = peer;
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = stripPort(hops[i]!.trim());
        if (isIP(hop) === 0) return last;
        if (!isTrusted(hop)) return hop;
        last = hop;
      }
      return last;
    },
  };
}

/** "1.2.3.4:5678" and "[::1]:80" appear in the wild; the address is what counts. */
function stripPort(hop: string): string {
  if (hop.startsWith('[')) {
    const end = hop.indexOf(']');
    return end > 0 ? hop.slice(1, end) : hop;
  }
  const colon = hop.indexOf(':');
  return colon > 0 && hop.indexOf(':', colon + 1) < 0 ? hop.slice(0, colon) : hop;
}

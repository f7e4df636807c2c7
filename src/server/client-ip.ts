import { BlockList, isIP } from 'node:net';

/** Resolves the client address from the TCP peer and X-Forwarded-For (SPEC §3 Client IP). */
export interface ClientIpResolver {
  isTrusted(ip: string): boolean;
  resolve(peer: string, xff: string | undefined): string;
}

const MEMO_LIMIT = 10_000;

/** Compiles `trustedProxies` once per config into a net.BlockList. */
export function compileClientIpResolver(trusted: readonly string[]): ClientIpResolver {
  const list = new BlockList();
  for (const entry of trusted) {
    const [addr, bits] = entry.split('/') as [string, string | undefined];
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, family);
    else list.addSubnet(addr, Number(bits), family);
  }
  const check = (ip: string): boolean => {
    const family = isIP(ip);
    if (family === 0) return false;
    if (list.check(ip, family === 6 ? 'ipv6' : 'ipv4')) return true;
    // An IPv4 peer seen on a dual-stack socket as ::ffff:a.b.c.d is the same peer.
    return family === 6 && ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 && list.check(ip.slice(7), 'ipv4');
  };
  // BlockList.check builds a native SocketAddress per call (about 3 µs here, and a request
  // checks its peer and each X-Forwarded-For hop). Peers are few and repeat, so answers are
  // memoised; the map is dropped when full so a spray of addresses cannot grow it.
  const memo = new Map<string, boolean>();
  const isTrusted = (ip: string): boolean => {
    let trusted = memo.get(ip);
    if (trusted === undefined) {
      trusted = check(ip);
      if (memo.size >= MEMO_LIMIT) memo.clear();
      memo.set(ip, trusted);
    }
    return trusted;
  };
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

import { BlockList, isIP } from 'node:net';

/** Answers whether an address is in a set of addresses and CIDRs compiled once per config. */
export type AddressMatcher = (ip: string) => boolean;

const MEMO_LIMIT = 10_000;

/**
 * Compiles validated addresses and CIDRs (IPv4 and IPv6) into a net.BlockList, with answers
 * memoised. BlockList.check builds a native SocketAddress per call (about 3 µs here); client
 * addresses are few and repeat, so the memo makes the common case one Map lookup. The memo is
 * dropped when full, so a spray of addresses cannot grow it without bound.
 */
export function compileAddressMatcher(entries: readonly string[]): AddressMatcher {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, bits] = entry.split('/') as [string, string | undefined];
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, family);
    else list.addSubnet(addr, Number(bits), family);
  }
  const check = (ip: string): boolean => {
    const family = isIP(ip);
    if (family === 0) return false;
    if (list.check(ip, family === 6 ? 'ipv6' : 'ipv4')) return true;
    // An IPv4 client seen on a dual-stack socket as ::ffff:a.b.c.d is the same client.
    return family === 6 && ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 && list.check(ip.slice(7), 'ipv4');
  };
  const memo = new Map<string, boolean>();
  return (ip: string): boolean => {
    let hit = memo.get(ip);
    if (hit === undefined) {
      hit = check(ip);
      if (memo.size >= MEMO_LIMIT) memo.clear();
      memo.set(ip, hit);
    }
    return hit;
  };
}

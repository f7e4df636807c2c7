import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import type { ListenAddress, RateLimitConfig } from './config-types.js';
import type { RawRateLimit } from './schema.js';
import { parseRate } from './units.js';

/** Records a semantic issue at a JSON path (load-config turns it into FILE:LINE:COL). */
export type Report = (path: readonly string[], message: string, target?: 'key' | 'value') => void;

// Checks and conversions of single values, shared by the parts of normalize-config.

const HOSTNAME_RE = /^(\*|(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*)$/;

export function rateLimit(raw: RawRateLimit, path: string[], issue: Report): RateLimitConfig {
  const rate = parseRate(raw.rate);
  if (!rate) issue([...path, 'rate'], `invalid rate ${JSON.stringify(raw.rate)}: must be greater than zero`);
  const burst = raw.burst ?? Math.max(1, Math.ceil(rate?.count ?? 1));
  const key = raw.key && raw.key.startsWith('header:') ? { kind: 'header' as const, name: raw.key.slice(7) } : { kind: 'ip' as const };
  return { ratePerSec: rate?.perSecond ?? 1, burst, key, id: `${raw.rate}:${burst}:${raw.key ?? 'ip'}` };
}

export function listenAddress(v: number | string, path: string[], issue: Report, defaultHost?: string): ListenAddress {
  if (typeof v === 'number') return { host: defaultHost, port: v };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):([0-9]{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    if (/^[0-9]+$/.test(v) && Number(v) <= 65535) return { host: defaultHost, port: Number(v) };
    issue(path, `invalid listen address "${v}" (expected a port or "addr:port")`);
    return { host: defaultHost, port: 0 };
  }
  return { host: m[1] ?? m[2], port };
}

export function normalizePrefix(p: string): string {
  const trimmed = p.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

export function checkReadable(file: string, path: string[], issue: Report): void {
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    issue(path, `cannot read "${file}" (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function isCidr(v: string): boolean {
  const [addr, bits, ...rest] = v.split('/');
  if (rest.length > 0 || !addr) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^[0-9]+$/.test(bits) && n <= (family === 4 ? 32 : 128);
}

export function isToken(name: string): boolean {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name);
}

/** A host name or alias, lower-cased; invalid or repeated names are reported where written. */
export function checkHostName(
  raw: string,
  path: string[],
  target: 'key' | 'value',
  seen: Map<string, string>,
  issue: Report,
  aliasOf?: string,
): string {
  const name = raw.toLowerCase().replace(/\.$/, '');
  if (!HOSTNAME_RE.test(name)) {
    issue(path, `invalid host name "${raw}" (use a DNS name, "*.example.com" for one label, or "*")`, target);
  } else if (seen.has(name)) {
    issue(path, `duplicate host "${raw}" (already defined as ${seen.get(name)})`, target);
  }
  // Name the first definition, not the latest repeat: that is the one the user must look for.
  if (!seen.has(name)) seen.set(name, aliasOf === undefined ? `host "${raw}"` : `alias "${raw}" of "${aliasOf}"`);
  return name;
}

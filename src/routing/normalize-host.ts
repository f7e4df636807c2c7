/**
 * Normalises a Host header or SNI name for lookup: lower case, port removed (IPv6-aware), one
 * trailing dot removed. Returns "" for an absent header.
 */
export function normalizeHost(raw: string | undefined): string {
  if (!raw) return '';
  let host = raw;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const end = host.indexOf(']');
    host = end > 0 ? host.slice(0, end + 1) : host;
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) host = host.slice(0, colon);
  }
  if (host.charCodeAt(host.length - 1) === 46 /* . */) host = host.slice(0, -1);
  return host.toLowerCase();
}

/**
 * Path handling for route matching (SPEC §3 Path matching). Matching uses the percent-decoded
 * path with dot segments removed and repeated slashes merged (as nginx's merge_slashes), so
 * `/api/../admin` or `/%61dmin` cannot sidestep a route.
 */

/** Splits a request target into its path (without query) and decides the path used for matching. */
export function normalizeRequestPath(url: string): string | undefined {
  const q = url.indexOf('?');
  const raw = q >= 0 ? url.slice(0, q) : url;
  if (raw.charCodeAt(0) !== 47 /* / */) return undefined; // absolute-form and '*' are not routed
  // Fast path: nothing to decode or normalise, which is nearly every request.
  if (raw.indexOf('%') < 0 && raw.indexOf('/.') < 0 && raw.indexOf('//') < 0) return raw;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return undefined; // malformed percent-encoding: the caller answers 400
  }
  if (decoded.indexOf('\0') >= 0) return undefined;
  return removeDotSegments(decoded);
}

/** RFC 3986 §5.2.4 dot-segment removal, plus merging of empty segments. */
export function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === '..') out.pop();
    else if (s !== '.' && s !== '') out.push(s);
  }
  const last = segments[segments.length - 1];
  const trailing = out.length > 0 && (last === '' || last === '.' || last === '..');
  return '/' + out.join('/') + (trailing ? '/' : '');
}

/** True when route prefix `prefix` (normalised, no trailing slash) matches request path `path`. */
export function prefixMatches(prefix: string, path: string): boolean {
  if (prefix === '/') return true;
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || path.charCodeAt(prefix.length) === 47;
}

/**
 * Replaces the first `segments` path segments of the raw request target by `replacement`,
 * keeping the query: used by stripPrefix (replacement "") and rewrite. Works on the path as
 * sent (dot segments removed), so the upstream sees the client's encoding — unless that path
 * hides a separator or a dot in percent-encoding (`%2f`, `%5c`, `%2e`). Its raw segments then
 * differ from the ones the route matched (`/health%2fa/..%2f..%2fsecret` matches `/health` but
 * its raw tail climbs out), and the upstream gets the normalised path the route matched,
 * `matchPath`, re-encoded instead (SPEC §3 Path matching).
 */
export function replacePrefix(url: string, segments: number, replacement: string, matchPath?: string): string {
  const q = url.indexOf('?');
  let path = q >= 0 ? url.slice(0, q) : url;
  const query = q >= 0 ? url.slice(q) : '';
  if (matchPath !== undefined && path.indexOf('%') >= 0 && HIDDEN_SEPARATOR.test(path)) path = encodePath(matchPath);
  else if (path.indexOf('/.') >= 0 || path.indexOf('//') >= 0) path = removeDotSegments(path);
  let cut = 0;
  for (let n = 0; n < segments; n++) {
    const next = path.indexOf('/', cut + 1);
    cut = next < 0 ? path.length : next;
  }
  const rest = path.slice(cut);
  const result = replacement + rest;
  return (result === '' ? '/' : result.charCodeAt(0) === 47 ? result : '/' + result) + query;
}

/** Percent-encoded `/`, `\` or `.`: raw segments no longer say where the path goes. */
const HIDDEN_SEPARATOR = /%(?:2[fFeE]|5[cC])/;

/** A decoded, normalised path encoded again segment by segment (its `/` are real separators). */
function encodePath(decoded: string): string {
  return decoded.split('/').map(encodeURIComponent).join('/');
}

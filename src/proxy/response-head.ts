import type { HeaderPlan } from '../pipeline/header-plan.js';
import { isHopByHop, listedFields } from './hop-by-hop.js';

/** An HTTP/1.1 response head for `writeHead`: a flat [name, value, name, value, …] list. */
export interface ResponseHead {
  readonly headers: string[];
  /** The upstream set Content-Length (otherwise the body streams and the head is flushed at once). */
  readonly hasLength: boolean;
}

/**
 * Builds the client's response head from the upstream's raw header list in one pass: hop-by-hop
 * fields dropped (RFC 9110 §7.6.1), the route's header plan applied (defaults only where the
 * upstream sent none, overrides and removals always) and `X-Request-Id` set. Names keep the
 * upstream's case and repeated fields stay separate lines (each Set-Cookie as sent).
 *
 * Working from `rawHeaders` skips building Node's lower-case headers object for the response,
 * and the `delete`s that would make that object slow; `writeHead` takes the list as is.
 */
export function buildResponseHead(raw: readonly string[], plan: HeaderPlan, requestId: string, listed?: ReadonlySet<string>): ResponseHead {
  const headers: string[] = [];
  let hasLength = false;
  let defaultsSeen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (isHopByHop(lower)) {
      // Fields named in Connection are hop-by-hop too, wherever they appear: start over
      // knowing them all (rare: upstreams send keep-alive or close).
      if (lower === 'connection' && !listed && listedFields(raw[i + 1]!)) return buildResponseHead(raw, plan, requestId, allListed(raw));
      continue;
    }
    if (lower === 'x-request-id' || plan.replaced.has(lower) || listed?.has(lower)) continue;
    if (lower === 'content-length') hasLength = true;
    const d = plan.defaultIndex.get(lower);
    if (d !== undefined) defaultsSeen |= 1 << d;
    headers.push(name, raw[i + 1]!);
  }
  const { defaults, sets } = plan;
  for (let i = 0; i < defaults.length; i++) {
    if ((defaultsSeen & (1 << i)) === 0) headers.push(defaults[i]![0], defaults[i]![1]);
  }
  for (let i = 0; i < sets.length; i++) headers.push(sets[i]![0], sets[i]![1]);
  headers.push('x-request-id', requestId);
  return { headers, hasLength };
}

function allListed(raw: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const name of listedFields(raw[i + 1]!) ?? []) names.add(name);
  }
  return names;
}

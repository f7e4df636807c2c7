import type { TlsMode } from '../config/config-types.js';

/**
 * Response header operations compiled once per route and protocol: defaults (only when the
 * upstream did not set the header), overrides, and removals. Names are lower case, so applying
 * a plan to `proxyRes.headers` is a handful of property writes and no allocation.
 */
export interface HeaderPlan {
  readonly defaults: readonly (readonly [string, string])[];
  readonly sets: readonly (readonly [string, string])[];
  readonly removes: readonly string[];
  /** Names the upstream's value never survives for: overridden or removed. */
  readonly replaced: ReadonlySet<string>;
  /** Default name → its index in `defaults`. */
  readonly defaultIndex: ReadonlyMap<string, number>;
}

/** A route's plans for each scheme the client may use (HSTS goes on HTTPS responses only). */
export interface SchemePlans {
  readonly http: HeaderPlan;
  readonly https: HeaderPlan;
}

/** Headers Portico adds to every public response unless the upstream or `headers` set them. */
export const SECURITY_HEADER_DEFAULTS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'referrer-policy': 'strict-origin-when-cross-origin',
};

/**
 * The one HSTS rule (SPEC §3 TLS): `max-age=31536000` on the HTTPS responses of hosts with
 * ACME or file certificates, never self-signed ones; undefined for no header. It is decided per
 * host when the table compiles, so an ACME host still on its temporary certificate sends it
 * too: browsers ignore HSTS received over a connection with certificate errors (RFC 6797 §8.1),
 * and it takes effect once the real certificate is served.
 */
export function strictTransportSecurity(tls: TlsMode['kind']): string | undefined {
  return tls === 'acme' || tls === 'file' ? 'max-age=31536000' : undefined;
}

/** Builds a plan: defaults first, then overrides (`null` removes) which win over defaults. */
export function compileHeaderPlan(
  defaults: Readonly<Record<string, string>>,
  overrides: Readonly<Record<string, string | null>>,
): HeaderPlan {
  const sets = new Map<string, string>();
  const removes = new Set<string>();
  for (const [name, value] of Object.entries(overrides)) {
    const lower = name.toLowerCase();
    if (value === null) removes.add(lower);
    else sets.set(lower, value);
  }
  const defaultList = Object.entries(defaults)
    .map(([n, v]) => [n.toLowerCase(), v] as const)
    .filter(([n]) => !sets.has(n) && !removes.has(n));
  // Which defaults an upstream sent is tracked in a 31-bit mask (response-head.ts).
  if (defaultList.length > 31) throw new Error('at most 31 default headers');
  return Object.freeze({
    defaults: defaultList,
    sets: [...sets],
    removes: [...removes],
    replaced: new Set([...sets.keys(), ...removes]),
    defaultIndex: new Map(defaultList.map(([n], i) => [n, i])),
  });
}

/** Applies a plan in place to a lower-case header object (an upstream response's headers). */
export function applyHeaderPlan(plan: HeaderPlan, headers: Record<string, string | string[] | number | undefined>): void {
  // Indexed loops: this runs on every response, and needs no iterator or destructuring.
  const { defaults, sets, removes } = plan;
  for (let i = 0; i < defaults.length; i++) {
    const d = defaults[i]!;
    if (headers[d[0]] === undefined) headers[d[0]] = d[1];
  }
  for (let i = 0; i < sets.length; i++) headers[sets[i]![0]] = sets[i]![1];
  for (let i = 0; i < removes.length; i++) delete headers[removes[i]!];
}

/** The plan of Portico's replies before any host is known (400, unknown host): the security defaults alone. */
export const DEFAULT_HEADER_PLAN: HeaderPlan = compileHeaderPlan(SECURITY_HEADER_DEFAULTS, {});

/**
 * Host lookup in the order SPEC §3 fixes: exact name or alias, then a single-label wildcard
 * ("*.preview.example.com" matches "a.preview.example.com", not "a.b.preview.example.com"),
 * then the catch-all "*". Built once per config; a lookup is at most two Map reads, four when
 * the index is a layer over the previous one.
 *
 * A layer holds only the names whose entry differs from its base: a reload that edits one host
 * of 10,000 adds a one-entry layer instead of a new 10,000-entry index, which would outlive the
 * young generation and, reload after reload, leave a megabyte of garbage in the old one.
 */
export class HostIndex<T> {
  private readonly exact = new Map<string, T>();
  /** Keyed by the parent domain: "*.preview.example.com" is stored as "preview.example.com". */
  private readonly wildcard = new Map<string, T>();
  private catchAll: T | undefined;
  private names = 0;

  /** `base`: a flat index whose entries this one takes unless it holds its own for a name. */
  private constructor(private readonly base: HostIndex<T> | undefined) {}

  /** An index of its own entries only. */
  static flat<T>(): HostIndex<T> {
    return new HostIndex<T>(undefined);
  }

  /** Adds a (lower-case) name; the caller has already rejected duplicates. */
  add(name: string, value: T): void {
    this.names++;
    if (name === '*') this.catchAll = value;
    else if (name.startsWith('*.')) this.wildcard.set(name.slice(2), value);
    else this.exact.set(name, value);
  }

  /** Finds the entry for an already normalised host name. */
  lookup(host: string): T | undefined {
    const exact = this.exact.get(host) ?? this.base?.exact.get(host);
    if (exact !== undefined) return exact;
    if (this.wildcard.size > 0 || (this.base !== undefined && this.base.wildcard.size > 0)) {
      const dot = host.indexOf('.');
      if (dot > 0) {
        const parent = host.slice(dot + 1);
        const hit = this.wildcard.get(parent) ?? this.base?.wildcard.get(parent);
        if (hit !== undefined) return hit;
      }
    }
    return this.catchAll ?? this.base?.catchAll;
  }

  /** The entry stored under exactly this name (`*`, `*.parent` or a host name), not a match. */
  entry(name: string): T | undefined {
    if (name === '*') return this.catchAll ?? this.base?.catchAll;
    if (name.startsWith('*.')) {
      const parent = name.slice(2);
      return this.wildcard.get(parent) ?? this.base?.wildcard.get(parent);
    }
    return this.exact.get(name) ?? this.base?.exact.get(name);
  }

  /** The flat index this one layers over, or itself when it is flat. */
  get flatBase(): HostIndex<T> {
    return this.base ?? this;
  }

  /** Names added to this index itself (for a layer: the ones whose entry differs from the base's). */
  get size(): number {
    return this.names;
  }

  /** A layer over `base` (a flat index). */
  static layer<T>(base: HostIndex<T>): HostIndex<T> {
    return new HostIndex<T>(base.flatBase);
  }
}

/** A layer may hold up to this share of its base's names before a flat index is rebuilt. */
const MAX_LAYER_SHARE = 0.25;

/** Calls `visit` with each name of a config and its value, every name once; callable more than once. */
export type EachName<T> = (visit: (name: string, value: T) => void) => void;

/**
 * Builds the index of a config's names as a layer over `previous`'s flat base when the names
 * are the same set, or as a flat index when names were added or removed, there is no previous
 * index, or the layer would hold more than a quarter of the names.
 */
export function buildHostIndex<T>(eachName: EachName<T>, previous: HostIndex<T> | undefined): HostIndex<T> {
  if (previous !== undefined) {
    const base = previous.flatBase;
    const layer = HostIndex.layer(base);
    let seen = 0;
    let fits = true;
    eachName((name, value) => {
      if (!fits) return;
      const known = base.entry(name);
      if (known === undefined) fits = false; // a new name: the base does not cover this config
      else if (known !== value) layer.add(name, value);
      seen++;
    });
    // Every name was in the base, and as many as it holds: the same set of names.
    if (fits && seen === base.size && layer.size <= base.size * MAX_LAYER_SHARE) return layer;
  }
  const flat = HostIndex.flat<T>();
  eachName((name, value) => flat.add(name, value));
  return flat;
}

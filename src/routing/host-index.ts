/**
 * Host lookup in the order SPEC §3 fixes: exact name or alias, then a single-label wildcard
 * ("*.preview.example.com" matches "a.preview.example.com", not "a.b.preview.example.com"),
 * then the catch-all "*". Built once per config; a lookup is at most two Map reads.
 */
export class HostIndex<T> {
  private readonly exact = new Map<string, T>();
  /** Keyed by the parent domain: "*.preview.example.com" is stored as "preview.example.com". */
  private readonly wildcard = new Map<string, T>();
  private catchAll: T | undefined;

  /** Adds a (lower-case) name; the caller has already rejected duplicates. */
  add(name: string, value: T): void {
    if (name === '*') this.catchAll = value;
    else if (name.startsWith('*.')) this.wildcard.set(name.slice(2), value);
    else this.exact.set(name, value);
  }

  /** Finds the entry for an already normalised host name. */
  lookup(host: string): T | undefined {
    const exact = this.exact.get(host);
    if (exact !== undefined) return exact;
    if (this.wildcard.size > 0) {
      const dot = host.indexOf('.');
      if (dot > 0) {
        const hit = this.wildcard.get(host.slice(dot + 1));
        if (hit !== undefined) return hit;
      }
    }
    return this.catchAll;
  }
}

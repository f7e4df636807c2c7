import type { ErrorPagesConfig } from '../config/config-types.js';

/** Status → HTML of the page served in place of Portico's own plain-text reply. */
export type ErrorPageTable = ReadonlyMap<number, string>;

/** The compiled table of a host (or of the top level), or undefined when it has no pages. */
export function compileErrorPages(pages: ErrorPagesConfig): ErrorPageTable | undefined {
  const entries = Object.entries(pages);
  if (entries.length === 0) return undefined;
  return new Map(entries.map(([status, page]) => [Number(status), page.html]));
}

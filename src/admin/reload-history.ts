import { formatIssue } from '../errors.js';
import type { ReloadResult } from '../reload/reloader.js';

/** One reload as the dashboard lists it. */
export interface ReloadEntry {
  /** Epoch ms. */
  readonly at: number;
  readonly result: 'ok' | 'error';
  /** The config version now serving (after a reload that applied a new config). */
  readonly version: number | null;
  /** The file was put back to the content already serving (after a rejected edit). */
  readonly unchanged: boolean;
  /** Each error as `FILE:LINE:COL: message`, or the plain message when it has no position. */
  readonly errors: readonly string[];
  /** How many reloads in a row failed with exactly these errors (an editor's save is often two file events). */
  readonly count: number;
}

/** How many reloads the dashboard keeps. */
const KEEP = 20;

/** The last reloads and their errors, newest first; bounded, so it costs nothing over time. */
export class ReloadHistory {
  private readonly entries: ReloadEntry[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Records a reload. The reloader reports each content of the file once, so every call is
   * news, including a file put back to the running content after a rejected edit; only
   * forced reloads can repeat the same errors, and those are counted on one entry.
   */
  record(result: ReloadResult): void {
    if (result.repeated) return;
    const at = this.now();
    if (!result.ok) {
      const errors = result.issues.length > 0 ? result.issues.map(formatIssue) : [result.message];
      const last = this.entries[0];
      if (last?.result === 'error' && last.errors.join('\n') === errors.join('\n')) {
        this.entries[0] = { ...last, at, count: last.count + 1 };
        return;
      }
      this.entries.unshift({ at, result: 'error', version: null, unchanged: false, errors, count: 1 });
    } else {
      const unchanged = result.unchanged;
      this.entries.unshift({ at, result: 'ok', version: unchanged ? null : result.version, unchanged, errors: [], count: 1 });
    }
    this.entries.length = Math.min(this.entries.length, KEEP);
  }

  /** Newest first. */
  list(): readonly ReloadEntry[] {
    return this.entries;
  }
}

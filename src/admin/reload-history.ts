import { formatIssue } from '../errors.js';
import type { ReloadResult } from '../reload/reloader.js';
import type { ReloadRow } from './dashboard/dashboard-types.js';

/** One reload as the dashboard lists it (the page's own type: one shape on both sides). */
export type ReloadEntry = ReloadRow;

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

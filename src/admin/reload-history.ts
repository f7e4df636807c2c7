import { formatIssue } from '../errors.js';
import type { ReloadResult } from '../reload/reloader.js';

/** One reload as the dashboard lists it. */
export interface ReloadEntry {
  /** Epoch ms. */
  readonly at: number;
  readonly result: 'ok' | 'error';
  /** The config version now serving (after a successful reload). */
  readonly version: number | null;
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

  /** Records a reload; one that found the file unchanged is not news and is skipped. */
  record(result: ReloadResult): void {
    if (result.ok && result.unchanged) return;
    const at = this.now();
    if (!result.ok) {
      const errors = result.issues.length > 0 ? result.issues.map(formatIssue) : [result.message];
      const last = this.entries[0];
      if (last?.result === 'error' && last.errors.join('\n') === errors.join('\n')) {
        this.entries[0] = { ...last, at, count: last.count + 1 };
        return;
      }
      this.entries.unshift({ at, result: 'error', version: null, errors, count: 1 });
    } else {
      this.entries.unshift({ at, result: 'ok', version: result.version, errors: [], count: 1 });
    }
    this.entries.length = Math.min(this.entries.length, KEEP);
  }

  /** Newest first. */
  list(): readonly ReloadEntry[] {
    return this.entries;
  }
}

import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ConfigError, formatIssue, type ConfigIssue } from '../errors.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../observability/logger.js';

/** Outcome of one reload. `unchanged` when the file's content was already active. */
export type ReloadResult =
  | { readonly ok: true; readonly version: number; readonly unchanged: boolean }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[]; readonly message: string };

/** What a reload does once the new config is valid; throws a ConfigError if it cannot apply it. */
export type ApplyConfig = (loaded: LoadedConfig) => Promise<number>;

/**
 * Serialises reloads: one runs at a time and at most one more waits (Traefik's coalescing), so
 * a burst of file events or SIGHUPs costs two reloads, not twenty. The file is validated in
 * full before anything changes; on any error the running config stays as it is.
 */
export class Reloader {
  private running: Promise<ReloadResult> | undefined;
  private pending: Promise<ReloadResult> | undefined;
  private activeHash: string | undefined;

  constructor(
    private readonly load: () => Promise<LoadedConfig>,
    private readonly apply: ApplyConfig,
    private readonly log: Logger,
    private readonly onResult: (result: ReloadResult) => void = () => {},
  ) {}

  /** Records the content of the config the gateway started with. */
  markActive(source: string): void {
    this.activeHash = hash(source);
  }

  /** Reloads now, or after the reload in progress. `force` reapplies an unchanged file. */
  reload(trigger: string, force = false): Promise<ReloadResult> {
    if (this.running) {
      this.pending ??= this.running.then(() => {
        this.pending = undefined;
        return this.reload(trigger, force);
      });
      return this.pending;
    }
    const run = this.run(trigger, force).finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async run(trigger: string, force: boolean): Promise<ReloadResult> {
    const started = performance.now();
    let result: ReloadResult;
    try {
      const loaded = await this.load();
      const h = hash(loaded.source);
      if (!force && h === this.activeHash) return { ok: true, version: -1, unchanged: true };
      const version = await this.apply(loaded);
      this.activeHash = h;
      result = { ok: true, version, unchanged: false };
      this.log.info({ event: 'reload', result: 'ok', trigger, version, durationMs: Math.round(performance.now() - started) }, 'configuration reloaded');
    } catch (err) {
      const issues = err instanceof ConfigError ? err.issues : [];
      const message = err instanceof ConfigError ? issues.map(formatIssue).join('\n') : String((err as Error).message ?? err);
      result = { ok: false, issues, message };
      this.log.error({ event: 'reload', result: 'error', trigger, errors: issues.length > 0 ? issues.map(formatIssue) : [message] }, 'configuration rejected; the previous one keeps serving');
    }
    this.onResult(result);
    return result;
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

import { performance } from 'node:perf_hooks';
import { ConfigError, formatIssue, type ConfigIssue } from '../errors.js';
import { configDigest } from '../config/config-digest.js';
import type { ConfigSource, LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../observability/logger.js';

/**
 * Outcome of one reload. `unchanged` when the file's content was already active; `repeated`
 * when a file event brought the same content as the previous attempt (nothing logged or
 * counted: the operator heard about it once).
 */
export type ReloadResult =
  | { readonly ok: true; readonly version: number; readonly unchanged: boolean; readonly repeated?: boolean }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[]; readonly message: string; readonly repeated?: boolean };

/** What a reload does once the new config is valid; throws a ConfigError if it cannot apply it. */
/** What applying a config did: its version, and how many hosts had to be compiled for it. */
export interface Applied {
  readonly version: number;
  /** In a multi-process instance, the most any worker compiled. */
  readonly hostsCompiled: number;
}

export type ApplyConfig = (loaded: LoadedConfig) => Promise<Applied>;

/** Reads the config file's text or bytes; throws a ConfigError (FILE:1:1) when it cannot. */
export type ReadConfig = () => Promise<ConfigSource>;

/**
 * Parses and validates config text; throws (or rejects) with a ConfigError with every issue.
 * It may resolve later: a large file is parsed in a worker thread, off the request path.
 */
export type ParseConfig = (source: ConfigSource) => LoadedConfig | Promise<LoadedConfig>;

/**
 * Serialises reloads: one runs at a time and at most one more waits (Traefik's coalescing), so
 * a burst of file events or SIGHUPs costs two reloads, not twenty. The file is validated in
 * full before anything changes; on any error the running config stays as it is.
 *
 * Each content of the file is reported once. A save reaches the watcher more than once (an
 * inotify event, then the stat poll; `sed -i` and editors replace the file in several steps),
 * and an operator who sees the same error twice thinks they saved twice. So a file event that
 * brings the content of the previous attempt is neither logged nor counted, and a file put back
 * to the running content after a rejected edit is reported as valid again — otherwise the last
 * word in the log would be the error that is gone. SIGHUP and `POST /reload` (`force`) are
 * explicit requests and always answered.
 */
export class Reloader {
  private running: Promise<ReloadResult> | undefined;
  private pending: Promise<ReloadResult> | undefined;
  /** Hash of the content in service. */
  private activeHash: string | undefined;
  /** Hash of the content last examined, and what became of it. */
  private lastHash: string | undefined;
  private lastResult: ReloadResult | undefined;

  constructor(
    private readonly read: ReadConfig,
    private readonly parse: ParseConfig,
    private readonly apply: ApplyConfig,
    private readonly log: Logger,
    private readonly onResult: (result: ReloadResult) => void = () => {},
  ) {}

  /** Records the content of the config the gateway started with (its configDigest). */
  markActive(digest: string): void {
    this.activeHash = this.lastHash = digest;
    this.lastResult = { ok: true, version: -1, unchanged: true };
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
    let source: ConfigSource | undefined;
    let h: string;
    try {
      source = await this.read();
      h = configDigest(source);
    } catch (err) {
      // An unreadable file is a content of its own ("missing"): reported once, like an error.
      h = `unreadable:${err instanceof ConfigError ? err.message : String(err)}`;
      return this.report(trigger, force, h, () => this.failed(trigger, err));
    }
    return this.report(trigger, force, h, async () => {
      if (!force && h === this.activeHash) {
        // Back to the content in service after a rejected edit: nothing to apply, but say so.
        this.log.info({ event: 'reload', result: 'ok', trigger, unchanged: true }, 'configuration valid again, unchanged from the running config');
        return { ok: true, version: -1, unchanged: true };
      }
      try {
        const { version, hostsCompiled } = await this.apply(await this.parse(source!));
        this.activeHash = h;
        this.log.info({ event: 'reload', result: 'ok', trigger, version, hostsCompiled, durationMs: Math.round(performance.now() - started) }, 'configuration reloaded');
        return { ok: true, version, unchanged: false };
      } catch (err) {
        return this.failed(trigger, err);
      }
    });
  }

  /** Runs `attempt` unless a file event repeats the content examined last; records the outcome. */
  private async report(trigger: string, force: boolean, h: string, attempt: () => ReloadResult | Promise<ReloadResult>): Promise<ReloadResult> {
    if (!force && h === this.lastHash && this.lastResult) return { ...this.lastResult, repeated: true };
    const result = await attempt();
    this.lastHash = h;
    this.lastResult = result;
    this.onResult(result);
    return result;
  }

  private failed(trigger: string, err: unknown): ReloadResult {
    const issues = err instanceof ConfigError ? err.issues : [];
    const message = err instanceof ConfigError ? issues.map(formatIssue).join('\n') : String((err as Error).message ?? err);
    this.log.error({ event: 'reload', result: 'error', trigger, errors: issues.length > 0 ? issues.map(formatIssue) : [message] }, 'configuration rejected; the previous one keeps serving');
    return { ok: false, issues, message };
  }
}

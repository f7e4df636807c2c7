import type { Metrics } from '../admin/metrics.js';
import type { ReloadHistory } from '../admin/reload-history.js';
import type { ConfigLoaderThread } from '../config/config-loader-thread.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../observability/logger.js';
import { Reloader, type ApplyConfig } from './reloader.js';

/** What reloads of one config file report to. */
export interface ConfigReloaderOptions {
  readonly file: string;
  readonly loader: ConfigLoaderThread;
  readonly apply: ApplyConfig;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly history: ReloadHistory;
  /** The config in service now. */
  readonly active: LoadedConfig;
}

/**
 * The reloader of a process that owns the config file (a single process, or a supervisor):
 * reads the file, parses it in the loader thread, applies it, and counts and records each
 * outcome once per content of the file (repeats of one save are not counted again).
 */
export function createConfigReloader(o: ConfigReloaderOptions): Reloader {
  // The closures below keep these, not `o`: the config in service is held by the gateway alone.
  const { file, loader, metrics, history } = o;
  const reloader = new Reloader(
    // Bytes, not text: they move to the config worker, so the serving thread never holds the text.
    () => import('../config/load-config.js').then((m) => m.readConfigBytes(file)),
    (source) => loader.parse(file, source),
    o.apply,
    o.log.child({ module: 'reload' }),
    (r) => {
      metrics.reloads.labels(r.ok ? 'ok' : 'error').inc();
      metrics.lastReloadOk.set(r.ok ? 1 : 0);
      history.record(r);
    },
  );
  reloader.markActive(o.active.digest);
  return reloader;
}

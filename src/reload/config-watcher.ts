import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../observability/logger.js';

const DEBOUNCE_MS = 100;

/**
 * Watches the config file through its directory: editors and `kubectl`-style tools replace a
 * file by renaming a new one over it, which a watch on the file itself stops seeing.
 * Events are debounced; the reloader then skips content that did not change.
 */
export function watchConfigFile(file: string, onChange: () => void, log: Logger): { close(): void } {
  const dir = dirname(resolve(file));
  const name = basename(file);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { persistent: false }, (_event, changed) => {
      if (changed !== null && changed.toString() !== name) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, DEBOUNCE_MS);
      timer.unref();
    });
    watcher.on('error', (err) => log.error({ event: 'config_watch', err }, 'config watcher failed; use SIGHUP or POST /reload'));
  } catch (err) {
    log.error({ event: 'config_watch', err }, 'cannot watch the config directory; use SIGHUP or POST /reload');
  }
  return {
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}

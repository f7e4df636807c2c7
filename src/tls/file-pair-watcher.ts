import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../observability/logger.js';

// Editors and tools (certbot, cp) write in several steps; one reload after they settle.
const SETTLE_MS = 100;

/**
 * Watches a certificate and key file through their directories (a rename-into-place or a
 * symlink swap replaces the inode, which a watch on the file itself would miss) and calls
 * `onChange` once per burst of changes.
 */
export function watchFilePair(files: readonly string[], onChange: () => void, log: Logger): { close(): void } {
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  const fire = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onChange, SETTLE_MS);
    timer.unref();
  };
  const dirs = new Map<string, Set<string>>();
  for (const file of files) {
    const names = dirs.get(path.dirname(file)) ?? new Set<string>();
    names.add(path.basename(file));
    dirs.set(path.dirname(file), names);
  }
  for (const [dir, names] of dirs) {
    try {
      const watcher = watch(dir, { persistent: false }, (_event, filename) => {
        // filename may be null on some platforms: then any change in the directory counts.
        if (filename === null || names.has(filename.toString())) fire();
      });
      watcher.on('error', (err) => log.warn({ event: 'certificate', dir, err }, 'certificate directory watch failed'));
      watchers.push(watcher);
    } catch (err) {
      log.warn({ event: 'certificate', dir, err }, 'cannot watch certificate directory; changes apply on reload');
    }
  }
  return {
    close() {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}

import { watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import type { Logger } from '../observability/logger.js';

/** Editors and tools (certbot, cp) write in several steps: act once they settle. */
const SETTLE_MS = 100;
/** Safety net for file systems without inotify (NFS, some container mounts). */
const POLL_MS = 2_000;
const REARM_MS = 50;

/**
 * Calls `onChange` (once per burst) when any of `files` changes, including when it is replaced
 * by a rename (editors, `mv`, certbot) or a symlink swap (Kubernetes ConfigMaps).
 *
 * Each file's own inode is watched rather than its directory: a directory watch wakes the
 * process for every write to every file next to it, and a gateway whose log file sits beside
 * routes.yaml would then pay for each of its own log writes. When the inode goes away
 * ('rename'), the watch is re-armed on the path. A slow stat poll catches what inotify cannot.
 */
export function watchFiles(files: readonly string[], onChange: () => void, log: Logger): { close(): void } {
  let closed = false;
  let settle: NodeJS.Timeout | undefined;
  const fire = (): void => {
    clearTimeout(settle);
    settle = setTimeout(onChange, SETTLE_MS);
    settle.unref();
  };
  const watchers = new Map<string, FSWatcher>();
  const arm = (file: string): void => {
    if (closed) return;
    try {
      const watcher = watch(file, { persistent: false }, (event) => {
        fire();
        if (event === 'rename') {
          watcher.close();
          watchers.delete(file);
          setTimeout(() => arm(file), REARM_MS).unref();
        }
      });
      watcher.on('error', (err) => {
        log.debug({ event: 'watch', file, err }, 'file watch failed; re-arming');
        watcher.close();
        watchers.delete(file);
        setTimeout(() => arm(file), REARM_MS * 10).unref();
      });
      watchers.set(file, watcher);
    } catch {
      // The file is missing for a moment (replaced in two steps): try again shortly.
      setTimeout(() => arm(file), REARM_MS * 2).unref();
    }
  };
  for (const file of files) {
    arm(file);
    watchFile(file, { persistent: false, interval: POLL_MS }, (now, before) => {
      if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) fire();
    });
  }
  return {
    close() {
      closed = true;
      clearTimeout(settle);
      for (const watcher of watchers.values()) watcher.close();
      for (const file of files) unwatchFile(file);
    },
  };
}

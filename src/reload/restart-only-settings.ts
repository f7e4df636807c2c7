import type { Config } from '../config/config-types.js';
import type { Logger } from '../observability/logger.js';

/**
 * Settings read once at start, with the path operators know them by: a reload that changes one
 * logs that it needs a restart (everything else applies on reload).
 */
const RESTART_ONLY: ReadonlyArray<readonly [string, (c: Config) => unknown]> = [
  ['redis', (c) => c.redis],
  ['workers', (c) => c.workers],
  ['tls.certs', (c) => c.tls.certsDir],
  ['log.level', (c) => c.log.level],
];

/** Logs the changed keys a reload cannot apply (they need a restart). */
export function warnRestartOnly(prev: Config, next: Config, log: Logger): void {
  const changed = RESTART_ONLY.filter(([, read]) => JSON.stringify(read(prev)) !== JSON.stringify(read(next))).map(([key]) => key);
  if (changed.length > 0) log.warn({ event: 'reload', keys: changed }, `changes to ${changed.join(', ')} take effect after a restart`);
}

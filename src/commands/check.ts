import type { Config } from '../config/config-types.js';
import { loadConfig } from '../config/load-config.js';

/** The summary line of a valid config: `FILE: ok, H hosts, U upstreams, R routes`. */
export function summarizeConfig(file: string, config: Config): string {
  const named = [...config.upstreams.keys()].filter((n) => !n.startsWith('inline:')).length;
  const routes = config.hosts.reduce((n, h) => n + h.routes.length, 0);
  return `${file}: ok, ${config.hosts.length} hosts, ${named} upstreams, ${routes} routes`;
}

/** `portico check`: validates like `nginx -t`; throws ConfigError (exit 1) when invalid. */
export async function runCheck(file: string, out: NodeJS.WritableStream): Promise<number> {
  const { config } = await loadConfig(file);
  out.write(`${summarizeConfig(file, config)}\n`);
  return 0;
}

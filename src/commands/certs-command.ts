import { loadConfig } from '../config/load-config.js';
import { runCerts } from './certs.js';

/** `portico certs`: prints one tab-separated line per TLS host (see SPEC §1). */
export async function runCertsCommand(file: string, out: NodeJS.WritableStream): Promise<number> {
  const { config } = await loadConfig(file);
  const lines = await runCerts(config);
  for (const line of lines) out.write(`${line}\n`);
  return 0;
}

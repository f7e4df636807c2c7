import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../src/gateway.js';
import { createLogSink, type LogSink } from './log-sink.js';

/** A real, in-process Portico on ephemeral ports, with its logs collected. */
export interface Portico {
  readonly gateway: Gateway;
  readonly dir: string;
  readonly configFile: string;
  readonly logs: LogSink;
  readonly http: number;
  readonly https: number;
  readonly admin: number;
  /** Replaces routes.yaml atomically (write + rename, as editors do); the listen block is kept. */
  writeConfig(body: string): Promise<void>;
  /** Replaces the whole routes.yaml, preamble included (same atomic write). */
  replaceConfig(full: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The listen/admin/tls preamble every test config gets: ports 0 so the OS picks free ports,
 * certificates in the test's temporary directory.
 */
export const PREAMBLE = `listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" }
admin: 127.0.0.1:0
tls: { certs: ./certs }
`;

/** Starts Portico on `body` (routes.yaml without the listen block), in a fresh temp dir. */
export async function startPortico(
  body: string,
  opts: { preamble?: string; watch?: boolean; before?: (dir: string) => Promise<void> } = {},
): Promise<Portico> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-test-'));
  const configFile = join(dir, 'routes.yaml');
  const preamble = opts.preamble ?? PREAMBLE;
  await opts.before?.(dir);
  await writeFile(configFile, preamble + body);
  const logs = createLogSink();
  let gateway: Gateway;
  try {
    gateway = await Gateway.start({ configFile, log: logs.logger, watch: opts.watch ?? true });
  } catch (err) {
    await rm(dir, { recursive: true, force: true }); // a config the test expects to be refused
    throw err;
  }
  const ports = gateway.ports();
  return {
    gateway,
    dir,
    configFile,
    logs,
    http: ports.http,
    https: ports.https,
    admin: ports.admin ?? 0,
    writeConfig: (next) => replaceFile(configFile, preamble + next),
    replaceConfig: (full) => replaceFile(configFile, full),
    async close() {
      await gateway.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function replaceFile(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

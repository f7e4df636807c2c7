/**
 * Worker-thread entry of ConfigLoaderThread. It imports the config modules (the schema
 * compiler is the slow part of a cold start) and waits for a file name; then reads, parses,
 * validates and normalises it and hands the result to the main thread in slices, one each
 * time the main thread asks. It serves one file and is then terminated, so the YAML document
 * and every intermediate object die with this thread's heap.
 */
import { parentPort } from 'node:worker_threads';
import { ConfigError } from '../errors.js';
import type { HostConfig } from './config-types.js';
import type { FromConfigWorker, ToConfigWorker } from './config-loader-thread.js';
import { loadConfig } from './load-config.js';

const port = parentPort;
if (!port) throw new Error('config-worker runs as a worker thread');
const send = (message: FromConfigWorker) => port.postMessage(message);

let hosts: readonly HostConfig[] = [];
let next = 0;
let sliceSize = 1;
port.on('message', (m: ToConfigWorker) => {
  if (m.kind === 'load') {
    sliceSize = m.sliceSize;
    void load(m.file);
    return;
  }
  send({ kind: 'hosts', hosts: hosts.slice(next, next + sliceSize) });
  next += sliceSize;
});
send({ kind: 'ready' });

async function load(file: string): Promise<void> {
  try {
    const { config, source } = await loadConfig(file);
    hosts = config.hosts;
    send({ kind: 'head', config: { ...config, hosts: [] }, source, hosts: hosts.length });
  } catch (err) {
    if (err instanceof ConfigError) send({ kind: 'invalid', issues: err.issues });
    else send({ kind: 'failed', message: (err as Error).message ?? String(err) });
  }
}

/**
 * Worker-thread entry of ConfigLoaderThread. It imports the config modules (the schema
 * compiler is the slow part of a cold start) and waits for a file's text; then parses,
 * validates and normalises it and hands the result to the main thread in slices, one each
 * time the main thread asks. It serves one file and is then terminated, so the YAML document
 * and every intermediate object die with this thread's heap.
 */
import { parentPort } from 'node:worker_threads';
import { ConfigError } from '../errors.js';
import type { HostConfig } from './config-types.js';
import type { FromConfigWorker, ToConfigWorker } from './config-loader-thread.js';
import { parseConfig } from './load-config.js';

const port = parentPort;
if (!port) throw new Error('config-worker runs as a worker thread');
const send = (message: FromConfigWorker) => port.postMessage(message);

let hosts: readonly HostConfig[] = [];
let next = 0;
let sliceSize = 1;
port.on('message', (m: ToConfigWorker) => {
  if (m.kind === 'parse') {
    sliceSize = m.sliceSize;
    parse(m.file, m.source);
    return;
  }
  send({ kind: 'hosts', hosts: hosts.slice(next, next + sliceSize) });
  next += sliceSize;
});
send({ kind: 'ready' });

function parse(file: string, source: string): void {
  try {
    const config = parseConfig(file, source);
    hosts = config.hosts;
    send({ kind: 'head', config: { ...config, hosts: [] }, hosts: hosts.length });
  } catch (err) {
    if (err instanceof ConfigError) send({ kind: 'invalid', issues: err.issues });
    else send({ kind: 'failed', message: (err as Error).message ?? String(err) });
  }
}

/**
 * Worker-thread entry of ConfigLoaderThread. It imports the config modules once (the schema
 * compiler is the slow part of a cold start) and then serves loads one after another: for each
 * file's text it parses, validates and normalises, answers with the config's head and one
 * fingerprint per host, and then sends the hosts the main thread asks for, a slice per request.
 * The main thread asks only for hosts whose fingerprint it has not seen: an edit of one host
 * among 10,000 crosses the thread boundary as one host.
 */
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { ConfigError } from '../errors.js';
import type { HostConfig } from './config-types.js';
import type { FromConfigWorker, ToConfigWorker } from './config-loader-thread.js';
import { parseConfig } from './load-config.js';

const port = parentPort;
if (!port) throw new Error('config-worker runs as a worker thread');
const send = (message: FromConfigWorker) => port.postMessage(message);

/** The hosts of the last parse, until the main thread has what it wants of them. */
let hosts: readonly HostConfig[] = [];
port.on('message', (m: ToConfigWorker) => {
  switch (m.kind) {
    case 'parse':
      return parse(m.file, m.source);
    case 'hosts':
      return send({ kind: 'hosts', hosts: m.indices.map((i) => hosts[i]!) });
    case 'done':
      hosts = [];
  }
});
send({ kind: 'ready' });

function parse(file: string, source: string): void {
  hosts = [];
  try {
    const config = parseConfig(file, source);
    hosts = config.hosts;
    send({ kind: 'head', config: { ...config, hosts: [] }, fingerprints: hosts.map(fingerprint) });
  } catch (err) {
    if (err instanceof ConfigError) send({ kind: 'invalid', issues: err.issues });
    else send({ kind: 'failed', message: (err as Error).message ?? String(err) });
  }
}

/** Equal for two hosts whose normalised config is equal (same keys in the same order). */
function fingerprint(host: HostConfig): string {
  return createHash('sha1').update(JSON.stringify(host)).digest('base64');
}

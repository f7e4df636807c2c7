/**
 * Worker-thread entry of ConfigLoaderThread. It imports the config modules once (the schema
 * compiler is the slow part of a cold start) and then serves loads one after another: for each
 * file's text it parses, validates and normalises, answers with the config's head and, per
 * host, the index of an equal host (same fingerprint) in the config it delivered last, and then
 * sends the hosts the main thread asks for, a slice per request. The main thread asks only for
 * the hosts without an equal: an edit of one host among 10,000 crosses over as one host.
 */
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { ConfigError } from '../errors.js';
import type { HostConfig } from './config-types.js';
import type { FromConfigWorker, ToConfigWorker } from './config-loader-thread.js';
import { configDigest } from './config-digest.js';
import { configText, parseConfig, type ConfigSource } from './load-config.js';

const port = parentPort;
if (!port) throw new Error('config-worker runs as a worker thread');
const send = (message: FromConfigWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** The hosts of the last parse and their fingerprints, until the main thread has what it wants of them. */
let hosts: readonly HostConfig[] = [];
let fingerprints: readonly string[] = [];
/** Index of each host of the config the main thread last took in full, by fingerprint. */
let delivered = new Map<string, number>();
port.on('message', (m: ToConfigWorker) => {
  switch (m.kind) {
    case 'parse':
      return parse(m.file, m.source);
    case 'hosts':
      return send({ kind: 'hosts', hosts: m.indices.map((i) => hosts[i]!) });
    case 'done':
      delivered = new Map(fingerprints.map((f, i) => [f, i]));
      hosts = [];
      fingerprints = [];
      collectGarbage();
  }
});

function parse(file: string, source: ConfigSource): void {
  hosts = [];
  fingerprints = [];
  try {
    const config = parseConfig(file, configText(source));
    hosts = config.hosts;
    fingerprints = hosts.map(fingerprint);
    // Which host of the last delivered config each host equals, or -1: a typed array is one
    // transferred block, where 10,000 strings would be 10,000 objects on the serving thread.
    const same = new Int32Array(fingerprints.map((f) => delivered.get(f) ?? -1));
    send({ kind: 'head', config: { ...config, hosts: [] }, digest: configDigest(source), same }, [same.buffer]);
  } catch (err) {
    if (err instanceof ConfigError) send({ kind: 'invalid', issues: err.issues });
    else send({ kind: 'failed', message: (err as Error).message ?? String(err) });
  }
}

/**
 * A full garbage collection of this thread's heap once a load is delivered. A parse of 10,000
 * hosts leaves some 60 MB of garbage, and an idle thread gives V8 no reason to collect it: the
 * process would carry it until the next reload. Collecting now costs this thread (not the one
 * serving requests) a few tens of milliseconds and returns the memory between reloads. `gc` is
 * V8's own function, exposed by its flag to contexts created afterwards.
 */
const collectGarbage = (() => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  return typeof gc === 'function' ? gc : () => undefined;
})();
send({ kind: 'ready' });

/** Equal for two hosts whose normalised config is equal (same keys in the same order). */
function fingerprint(host: HostConfig): string {
  return createHash('sha1').update(JSON.stringify(host)).digest('base64');
}

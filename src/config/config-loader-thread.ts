import { Worker } from 'node:worker_threads';
import { ConfigError, type ConfigIssue } from '../errors.js';
import type { Config, HostConfig } from './config-types.js';
import { configDigest } from './config-digest.js';
import { configText, parseConfig, readConfigBytes, type ConfigSource, type LoadedConfig } from './load-config.js';

/**
 * Messages to config-worker.ts: a `parse`, then `hosts` for each slice of the hosts wanted (by
 * index), then `done`.
 */
export type ToConfigWorker =
  | { readonly kind: 'parse'; readonly file: string; readonly source: ConfigSource }
  | { readonly kind: 'hosts'; readonly indices: readonly number[] }
  | { readonly kind: 'done' };

/** Messages of config-worker.ts: `ready`; then per parse a `head` and `hosts` slices, or one `invalid`/`failed`. */
export type FromConfigWorker =
  | { readonly kind: 'ready' }
  /** `same[i]`: the index of host i's equal in the config last delivered (after a `done`), or -1. */
  | { readonly kind: 'head'; readonly config: Config; readonly digest: string; readonly same: Int32Array }
  | { readonly kind: 'hosts'; readonly hosts: readonly HostConfig[] }
  | { readonly kind: 'invalid'; readonly issues: readonly ConfigIssue[] }
  | { readonly kind: 'failed'; readonly message: string };

/**
 * Hosts per message. Copying a message into this thread runs on the event loop that serves
 * requests: 250 hosts take a few milliseconds, so that is the longest a request waits for it.
 */
const SLICE = 250;

/**
 * Files smaller than this (about 150 hosts) are loaded on the calling thread: they parse in a
 * few milliseconds, less than a worker thread takes to start.
 */
export const OFF_THREAD_BYTES = 32 * 1024;

/**
 * Loads large config files in a worker thread, so that parsing and validating them (10,000
 * hosts: a few hundred milliseconds) never stalls the requests the calling thread serves. The
 * worker starts with the first large load and stays for the next ones, its modules loaded and
 * its code warm. The config arrives in slices, each asked for only after the event loop
 * has had a turn, and only the hosts that changed since the last load cross over: for a host
 * whose normalised config is unchanged the loader hands back the very HostConfig object it
 * delivered last time, which also lets the route compiler keep that host's compiled form.
 * Results and errors are loadConfig's.
 */
export class ConfigLoaderThread {
  private worker: ConfigWorker | undefined;
  /** Loads run one at a time: the worker serves one parse at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly offThreadBytes = OFF_THREAD_BYTES) {}

  /** Reads and parses `file` (loadConfig, off-thread when large): as bytes, which move to the worker. */
  async load(file: string): Promise<LoadedConfig> {
    return this.parse(file, await readConfigBytes(file));
  }

  /**
   * Parses config text or bytes read from `file` (parseConfig, off-thread when large). Bytes
   * are moved to the worker when they own their memory: the caller must not use them after.
   */
  parse(file: string, source: ConfigSource): Promise<LoadedConfig> {
    // String length or bytes: close enough to decide where a parse runs.
    const size = typeof source === 'string' ? source.length : source.byteLength;
    if (size < this.offThreadBytes) {
      return Promise.resolve().then(() => {
        return { config: parseConfig(file, configText(source)), digest: configDigest(source) };
      });
    }
    const run = this.queue.then(() => this.parseOffThread(file, source));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async parseOffThread(file: string, source: ConfigSource): Promise<LoadedConfig> {
    if (this.closed) throw new Error('config loader closed');
    // A worker that died (it could not start, or crashed) is replaced, never waited on.
    if (this.worker?.exited !== false) this.worker = startWorker();
    const worker = this.worker;
    try {
      return await parseWith(worker, file, source);
    } catch (err) {
      // After anything but an invalid file the worker's state is unknown: start afresh next time.
      if (!(err instanceof ConfigError)) {
        void worker.worker.terminate();
        this.worker = undefined;
      }
      throw err;
    } finally {
      worker.worker.unref(); // an idle worker must not keep the process alive
    }
  }

  /** Stops the worker; a load in progress fails. */
  close(): void {
    this.closed = true;
    void this.worker?.worker.terminate();
    this.worker = undefined;
  }
}

/** A worker, whether it has exited (an exit is reported once: a later listener never hears it), and the hosts it delivered last. */
interface ConfigWorker {
  readonly worker: Worker;
  exited: boolean;
  delivered: readonly HostConfig[];
}

function startWorker(): ConfigWorker {
  // A small young generation: the thread idles between loads, and V8 keeps its young generation
  // (up to 48 MB by default) committed all that time. A parse promotes a little more for it;
  // 4 MB measured 8 MB less RSS than 8 MB did, and no slower reloads.
  const worker = new Worker(new URL('./config-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
  const handle: ConfigWorker = { worker, exited: false, delivered: [] };
  worker.unref();
  worker.on('error', () => undefined); // reported to the load that uses it
  worker.once('exit', () => (handle.exited = true));
  return handle;
}

/**
 * One load: the head, then the hosts without an equal among the ones `handle` delivered last,
 * slice by slice; the others are the very objects delivered last time. One function: the
 * message handler and the state of this one exchange with the thread belong together.
 */
function parseWith(handle: ConfigWorker, file: string, source: ConfigSource): Promise<LoadedConfig> {
  const { worker } = handle;
  return new Promise((resolve, reject) => {
    let head: Config | undefined;
    let digest = '';
    let hosts: (HostConfig | undefined)[] = [];
    /** Indices of the hosts to fetch, and how many of them have arrived. */
    const wanted: number[] = [];
    const strings = new Map<string, string>();
    let received = 0;
    let settled = false;
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(err);
    };
    const send = (m: ToConfigWorker) => worker.postMessage(m);
    const askNext = () => setImmediate(() => !settled && send({ kind: 'hosts', indices: wanted.slice(received, received + SLICE) }));
    const finish = () => {
      settled = true;
      cleanup();
      const all = hosts as HostConfig[];
      handle.delivered = all;
      send({ kind: 'done' });
      resolve({ config: { ...head!, hosts: all }, digest });
    };
    const onMessage = (m: FromConfigWorker) => {
      if (settled) return;
      switch (m.kind) {
        case 'ready':
          return;
        case 'invalid':
          return fail(new ConfigError(m.issues));
        case 'failed':
          return fail(new Error(m.message));
        case 'head': {
          head = m.config;
          digest = m.digest;
          hosts = new Array<HostConfig | undefined>(m.same.length);
          for (let i = 0; i < m.same.length; i++) {
            const j = m.same[i]!;
            if (j >= handle.delivered.length) return fail(new Error('config worker refers to a host it never delivered'));
            if (j < 0) wanted.push(i);
            else hosts[i] = handle.delivered[j];
          }
          break;
        }
        case 'hosts': {
          if (!head) return fail(new Error('config worker sent hosts before the config'));
          for (const h of m.hosts) hosts[wanted[received++]!] = shareStrings(h, strings);
        }
      }
      if (received < wanted.length) return askNext();
      finish();
    };
    const onError = (err: Error) => fail(err);
    const onExit = (code: number) => fail(new Error(`config worker exited (code ${code}) before sending the config`));
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
    if (handle.exited) return fail(new Error('config worker exited before it was used'));
    worker.ref();
    // Bytes that own their whole buffer move to the worker instead of being copied.
    const movable = typeof source !== 'string' && source.byteOffset === 0 && source.byteLength === source.buffer.byteLength && source.buffer instanceof ArrayBuffer;
    worker.postMessage({ kind: 'parse', file, source } satisfies ToConfigWorker, movable ? [source.buffer as ArrayBuffer] : []);
  });
}

/**
 * Replaces every string in a host just received by one shared copy. A message arrives with a
 * string per occurrence: 10,000 hosts on ten upstreams would hold "pool-3" a thousand times,
 * and "/", "proxy" and their rate-limit ids once per route. `seen` lives for one load.
 */
function shareStrings<T>(value: T, seen: Map<string, string>): T {
  if (typeof value === 'string') {
    const shared = seen.get(value);
    if (shared !== undefined) return shared as T;
    seen.set(value, value);
    return value;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = shareStrings(value[i] as unknown, seen);
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = shareStrings(record[key], seen);
  }
  return value;
}

import { Worker } from 'node:worker_threads';
import { ConfigError, type ConfigIssue } from '../errors.js';
import type { Config, HostConfig } from './config-types.js';
import { parseConfig, readConfigSource, type LoadedConfig } from './load-config.js';

/** Messages to config-worker.ts: one `parse`, then a `next` for each slice of hosts. */
export type ToConfigWorker =
  | { readonly kind: 'parse'; readonly file: string; readonly source: string; readonly sliceSize: number }
  | { readonly kind: 'next' };

/** Messages of config-worker.ts: `ready`; then `head` and `hosts` slices, or one `invalid`/`failed`. */
export type FromConfigWorker =
  | { readonly kind: 'ready' }
  | { readonly kind: 'head'; readonly config: Config; readonly hosts: number }
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
 * Loads large config files in worker threads, so that parsing and validating them (10,000
 * hosts: a second or more) never stalls the requests the calling thread serves. Each load uses
 * a fresh worker that exits afterwards (nothing of a parse stays in memory); the next worker
 * is started once a load is done, so the cost of its start is paid between reloads. The config
 * arrives in slices, each asked for only after the event loop has had a turn. Results and
 * errors are loadConfig's.
 */
export class ConfigLoaderThread {
  private spare: ConfigWorker | undefined;
  private closed = false;

  constructor(private readonly offThreadBytes = OFF_THREAD_BYTES) {}

  /** Starts a worker ahead of the next load when a file of `bytes` would use one. */
  private warm(bytes: number): void {
    if (!this.closed && bytes >= this.offThreadBytes) this.spare ??= startWorker();
  }

  /** Reads and parses `file` (loadConfig, off-thread when large). */
  async load(file: string): Promise<LoadedConfig> {
    return this.parse(file, await readConfigSource(file));
  }

  /** Parses config text read from `file` (parseConfig, off-thread when large). */
  async parse(file: string, source: string): Promise<LoadedConfig> {
    // String length, not bytes: close enough to decide where a parse runs.
    if (source.length < this.offThreadBytes) return { config: parseConfig(file, source), source };
    // A spare that died while idle (it could not start, say) is replaced, never waited on.
    const spare = this.spare?.exited === false ? this.spare : undefined;
    this.spare = undefined;
    try {
      return await parseWith(spare ?? startWorker(), file, source);
    } finally {
      this.warm(source.length);
    }
  }

  /** Stops the idle worker; a load in progress finishes on its own. */
  close(): void {
    this.closed = true;
    void this.spare?.worker.terminate();
    this.spare = undefined;
  }
}

/** A worker and whether it has exited (an exit is reported once: a later listener never hears it). */
interface ConfigWorker {
  readonly worker: Worker;
  exited: boolean;
}

function startWorker(): ConfigWorker {
  const worker = new Worker(new URL('./config-worker.js', import.meta.url));
  const handle: ConfigWorker = { worker, exited: false };
  worker.unref(); // an idle spare must not keep the process alive
  worker.on('error', () => undefined); // reported to the load that uses it
  worker.once('exit', () => (handle.exited = true));
  return handle;
}

function parseWith({ worker, exited }: ConfigWorker, file: string, source: string): Promise<LoadedConfig> {
  return new Promise<LoadedConfig>((resolve, reject) => {
    if (exited) return reject(new Error('config worker exited before it was used'));
    let head: { config: Config; hosts: number } | undefined;
    const hosts: HostConfig[] = [];
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      worker.removeAllListeners('message');
      void worker.terminate();
      fn();
    };
    const send = (m: ToConfigWorker) => worker.postMessage(m);
    const askNext = () => setImmediate(() => send({ kind: 'next' }));
    worker.ref();
    worker.on('message', (m: FromConfigWorker) => {
      switch (m.kind) {
        case 'ready':
          return;
        case 'invalid':
          return settle(() => reject(new ConfigError(m.issues)));
        case 'failed':
          return settle(() => reject(new Error(m.message)));
        case 'head':
          head = m;
          break;
        case 'hosts':
          for (const h of m.hosts) hosts.push(h);
      }
      if (!head) return settle(() => reject(new Error('config worker sent hosts before the config')));
      if (hosts.length < head.hosts) return askNext();
      const { config } = head;
      settle(() => resolve({ config: { ...config, hosts }, source }));
    });
    worker.once('error', (err) => settle(() => reject(err)));
    worker.once('exit', (code) => settle(() => reject(new Error(`config worker exited (code ${code}) before sending the config`))));
    send({ kind: 'parse', file, source, sliceSize: SLICE });
  });
}

import cluster from 'node:cluster';
import { Gateway } from '../gateway.js';

/** What `start` runs until a signal: a single-process gateway, or a multi-process supervisor. */
interface Running {
  readonly log: { info(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  reload(trigger: string, force: boolean): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * `portico start`: runs the gateway in the foreground. With `workers` > 1 this process
 * supervises that many worker processes (src/cluster/), started from this same command. SIGHUP
 * reloads; SIGTERM/SIGINT drain in-flight requests (up to 10 s) and exit 0. A second signal
 * exits at once.
 */
export async function runStart(file: string): Promise<number> {
  if (cluster.isWorker) {
    const { runWorker } = await import('../cluster/worker-process.js');
    return runWorker(file);
  }
  const running = await startInstance(file);
  // Like `nginx -s reload`, SIGHUP re-applies the file even when its content did not change.
  process.on('SIGHUP', () => void running.reload('sighup', true));
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) process.exit(1);
      stopping = true;
      running.log.info({ event: 'shutdown', signal }, 'draining');
      running.close().then(
        () => {
          resolve(0);
          // Everything Portico owns is closed; a handle something else still holds (a library's
          // socket, say) must not keep the process past SPEC's 11 s. Unref'd: a clean exit
          // does not wait for it. Logs are flushed on 'exit'.
          setTimeout(() => process.exit(), 100).unref();
        },
        (err: unknown) => {
          running.log.error({ event: 'shutdown', err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

/** The config decides: `workers: 1` is one process with no extra hop, more is a supervisor. */
async function startInstance(file: string): Promise<Running> {
  const { ConfigLoaderThread } = await import('../config/config-loader-thread.js');
  const loader = new ConfigLoaderThread();
  let loaded;
  try {
    loaded = await loader.load(file);
  } catch (err) {
    loader.close();
    throw err;
  }
  if (loaded.config.workers <= 1) return Gateway.start({ configFile: file, preloaded: { loaded, configLoader: loader } });
  const { Supervisor } = await import('../cluster/supervisor.js');
  return Supervisor.start(file, loaded, loader);
}

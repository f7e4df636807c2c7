import { Gateway } from '../gateway.js';

/**
 * `portico start`: runs the gateway in the foreground. SIGHUP reloads; SIGTERM/SIGINT drain
 * in-flight requests (up to 10 s) and exit 0. A second signal exits at once.
 */
export async function runStart(file: string): Promise<number> {
  const gateway = await Gateway.start({ configFile: file });
  // Like `nginx -s reload`, SIGHUP re-applies the file even when its content did not change.
  process.on('SIGHUP', () => void gateway.reload('sighup', true));
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) process.exit(1);
      stopping = true;
      gateway.log.info({ event: 'shutdown', signal }, 'draining');
      gateway.close().then(
        () => {
          resolve(0);
          // Everything Portico owns is closed; a handle something else still holds (a library's
          // socket, say) must not keep the process past SPEC's 11 s. Unref'd: a clean exit
          // does not wait for it. Logs are flushed on 'exit'.
          setTimeout(() => process.exit(), 100).unref();
        },
        (err: unknown) => {
          gateway.log.error({ event: 'shutdown', err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { randomInt } from 'node:crypto';

/** A real `redis-server` on loopback, owned by one test. */
export interface RedisProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Kills the server (SIGKILL, like a crash) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts the server again on the same port and waits until it answers PING. */
  restart(): Promise<void>;
}

const STARTUP_DEADLINE_MS = 10_000;
const MAX_PORT_ATTEMPTS = 20;

/**
 * Starts `redis-server` without persistence. redis-server cannot listen on port 0 (`--port 0`
 * turns TCP off), so a random port is tried and another one picked when the bind fails
 * (STYLE §2.12), instead of probing a port and closing it. Register `stop` in `t.teardown`.
 */
export async function startRedis(): Promise<RedisProcess> {
  for (let attempt = 0; attempt < MAX_PORT_ATTEMPTS; attempt++) {
    const port = randomInt(20_000, 60_000);
    const child = await launch(port);
    if (child !== undefined) return control(child, port);
  }
  throw new Error(`redis-server did not start after ${MAX_PORT_ATTEMPTS} ports`);
}

function control(first: ChildProcess, port: number): RedisProcess {
  let child: ChildProcess | undefined = first;
  const stop = async (): Promise<void> => {
    const current = child;
    child = undefined;
    if (current !== undefined) await kill(current);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid ?? -1;
    },
    stop,
    async restart() {
      await stop();
      // The old socket may linger briefly; redis sets SO_REUSEADDR, but retry to be safe.
      const deadline = Date.now() + STARTUP_DEADLINE_MS;
      while (Date.now() < deadline) {
        child = await launch(port);
        if (child !== undefined) return;
      }
      throw new Error(`redis-server did not restart on port ${port}`);
    },
  };
}

/** Spawns one server; resolves it once it answers, or undefined if it exited (bind failure). */
async function launch(port: number): Promise<ChildProcess | undefined> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  child.stdout?.resume();
  child.stderr?.resume();
  // If the test process dies without its teardown, do not leave a server behind.
  const killOnExit = (): void => {
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));

  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (exited) return undefined;
    if (await answersAsProcess(port, child.pid)) return child;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await kill(child);
  return undefined;
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * True when the server on `port` is this very process: after a lost bind race another test's
 * server could answer PING on the port, so the check reads `process_id` from INFO.
 */
function answersAsProcess(port: number, pid: number | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (data) => {
      reply += data.toString();
      const match = /process_id:(\d+)/.exec(reply);
      if (match !== null) done(Number(match[1]) === pid);
      else if (reply.startsWith('-')) done(false);
    });
  });
}

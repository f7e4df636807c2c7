import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { startPortico } from '../helpers/start-portico.js';
import { startUpstream } from '../helpers/start-upstream.js';

// SPEC §3 Shutdown: SIGTERM/SIGINT stop accepting, let in-flight requests finish (≤ 10 s), close
// idle keep-alive connections, exit 0. In-process through gateway.close(), which the signal
// handler calls, and once through the real CLI and a real SIGTERM.

/** An upstream that holds every request until the test releases it. */
async function holdingUpstream() {
  const held: ServerResponse[] = [];
  const waiters: (() => void)[] = [];
  const u = await startUpstream((_req, res) => {
    held.push(res);
    waiters.splice(0).forEach((w) => w());
  });
  t.teardown(() => u.close());
  return {
    target: u.target,
    /** Resolves once the upstream holds `n` requests. */
    holding: (n: number) => new Promise<void>((resolve) => {
      const check = () => (held.length >= n ? resolve() : waiters.push(check));
      check();
    }),
    release: (body: string) => held.splice(0).forEach((res) => res.end(body)),
  };
}

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

t.test('gateway.close(): in-flight finishes, new connections refused, idle keep-alive closed', async (t) => {
  const slow = await holdingUpstream();
  const p = await startPortico(`
hosts:
  s.test:
    tls: off
    routes:
      - { path: /slow, upstream: "${slow.target}" }
      - { path: /fast, respond: { body: "fast" } }
`);
  t.teardown(() => p.close());

  // An idle keep-alive connection: one request answered, socket kept open.
  const agent = new Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  const first = await request(p.http, '/fast', { agent, headers: { host: 's.test' } });
  t.equal(first.status, 200);
  const idleSocket = Object.values(agent.freeSockets)[0]?.[0];
  t.ok(idleSocket, 'a pooled idle socket');
  const idleClosed = new Promise<void>((resolve) => idleSocket!.once('close', () => resolve()));

  // An in-flight request on its own keep-alive connection.
  const inflightAgent = new Agent({ keepAlive: true });
  t.teardown(() => inflightAgent.destroy());
  const inflight = request(p.http, '/slow', { agent: inflightAgent, headers: { host: 's.test' } });
  await slow.holding(1);

  const started = Date.now();
  let closed = false;
  const closing = p.gateway.close().then(() => (closed = true));

  await idleClosed;
  t.pass('the idle keep-alive connection was closed');
  await eventually(() => connectionRefused(p.http), { within: 2000, message: 'new connections refused' });
  t.pass('new connections are refused');
  t.notOk(closed, 'close() waits for the in-flight request');

  slow.release('slow but complete');
  const r = await inflight;
  t.equal(r.status, 200);
  t.equal(r.body, 'slow but complete', 'the in-flight request completed');
  await closing;
  const took = Date.now() - started;
  t.ok(took < 2000, `close() resolved ${took} ms after it was called (not the 10 s drain limit)`);
  t.ok(p.logs.find({ event: 'shutdown' }), 'a shutdown event was logged');
});

t.test('the CLI exits 0 on SIGTERM after the in-flight request completes', async (t) => {
  const slow = await holdingUpstream();
  const dir = await mkdtemp(join(tmpdir(), 'portico-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'routes.yaml');
  await writeFile(file, `listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" }
tls: { certs: ./certs }
hosts:
  s.test: { tls: off, routes: [ { upstream: "${slow.target}" } ] }
`);
  const cli = startCli(t, file);
  const { child, exited } = cli;

  const listening = await eventually(
    () => cli.lines().find((l) => l.event === 'listening') as { http?: number } | undefined,
    { within: 10_000, message: 'the CLI logged its ports' },
  );
  const port = listening!.http!;
  const inflight = request(port, '/', { headers: { host: 's.test' } });
  await slow.holding(1);

  child.kill('SIGTERM');
  await eventually(() => connectionRefused(port), { within: 3000, message: 'the CLI stopped accepting' });
  slow.release('done');
  const r = await inflight;
  t.equal(r.status, 200);
  t.equal(r.body, 'done', 'the in-flight request completed after SIGTERM');
  t.equal(await exited, 0, `exit code 0 (stderr: ${cli.stderr()})`);
  t.notMatch(cli.stderr(), /Error|at .*\(/, 'no stack trace');
  t.match(cli.stdout(), /"event":"shutdown"/);
});

t.test('the CLI reloads on SIGHUP and drains on SIGINT', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portico-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'routes.yaml');
  const config = (body: string) => `listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" }
tls: { certs: ./certs }
hosts:
  s.test: { tls: off, routes: [ { respond: { body: "${body}" } } ] }
`;
  await writeFile(file, config('one'));
  const cli = startCli(t, file);
  const { child, exited } = cli;
  const lines = cli.lines;
  const listening = await eventually(() => lines().find((l) => l.event === 'listening'), { within: 10_000, message: 'listening' });
  const port = listening!.http as number;
  t.equal((await request(port, '/', { headers: { host: 's.test' } })).body, 'one');

  child.kill('SIGHUP');
  await eventually(() => lines().some((l) => l.event === 'reload' && l.trigger === 'sighup' && l.result === 'ok'), { within: 5000, message: 'SIGHUP reload logged' });
  t.pass('SIGHUP reloads even an unchanged file, like nginx -s reload');

  child.kill('SIGINT');
  t.equal(await exited, 0, 'SIGINT drains and exits 0');
  t.match(cli.stdout(), /"event":"shutdown","signal":"SIGINT"/);
});

/** Runs the real CLI (`portico start -c FILE`), collecting its output; killed at teardown if still running. */
function startCli(t: { teardown(fn: () => unknown): void }, file: string) {
  const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
  const child = spawn(process.execPath, [cli, 'start', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return {
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    lines: () => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

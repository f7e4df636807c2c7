import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from '../../helpers/eventually.js';
import { startRecordingUpstream, type RecordingUpstream } from './recording-upstream.js';

/** One parsed JSON log line of the gateway's stdout. */
export type LogLine = Record<string, unknown>;

/** The built CLI (`dist/cli.js`), found from build-test/test/e2e/helpers/. */
export const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../dist/cli.js');

/**
 * The listen/admin/tls preamble of e2e configs: port 0 everywhere, so the OS picks free ports
 * and the test reads them back from the `listening` log line.
 */
export const E2E_PREAMBLE = `listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" }
admin: 127.0.0.1:0
tls: { certs: ./certs }
`;

/** A `portico start` child process, driven as a user would: files, signals, HTTP, stdout. */
export interface PorticoProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly dir: string;
  readonly configFile: string;
  /** Bound ports, read from the first `listening` log line. */
  readonly http: number;
  readonly https: number;
  readonly admin: number;
  /** Every JSON line written to stdout so far (the gateway batches them: up to ~1 s late). */
  readonly logs: LogLine[];
  stderr(): string;
  /** Waits for a log line matching `match` (a predicate, or fields that must be equal). */
  waitForLog(match: Partial<LogLine> | ((line: LogLine) => boolean), within?: number): Promise<LogLine>;
  /** Lines matching `match`. */
  find(match: Partial<LogLine> | ((line: LogLine) => boolean)): LogLine[];
  /** Replaces the config atomically (write + rename, as editors do). */
  writeConfig(full: string): Promise<void>;
  /** Writes a file next to the config (error pages, certificates, …). */
  writeFile(name: string, text: string): Promise<string>;
  signal(sig: NodeJS.Signals): void;
  /** Resolves with the exit code and signal once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  /** Full routes.yaml text, or a function of the temp directory that returns it. */
  readonly config: string | ((dir: string) => string);
  readonly env?: NodeJS.ProcessEnv;
  /** Files to create in the temp directory before start (name → content). */
  readonly files?: Readonly<Record<string, string>>;
  /** Use this directory instead of a fresh temp one (e.g. a restart on the same certs). */
  readonly dir?: string;
  /** How long to wait for the `listening` line (default 15 s). */
  readonly within?: number;
}

/**
 * Starts the built CLI as `node dist/cli.js start -c DIR/routes.yaml`, waits until it logs
 * `listening`, and returns a handle. Register `stop` with t.teardown. Nothing in the gateway is
 * patched: what the test sees is what a user sees.
 */
export async function startPorticoProcess(opts: StartOptions): Promise<PorticoProcess> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'portico-e2e-')));
  const configFile = join(dir, 'routes.yaml');
  for (const [name, text] of Object.entries(opts.files ?? {})) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  await writeFile(configFile, typeof opts.config === 'function' ? opts.config(dir) : opts.config);
  const child = spawn(process.execPath, [CLI, 'start', '-c', configFile], {
    cwd: dir,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ unparsed: line });
      }
    }
  });
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => res({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const matcher = (match: Partial<LogLine> | ((line: LogLine) => boolean)) =>
    typeof match === 'function' ? match : (line: LogLine) => Object.entries(match).every(([k, v]) => line[k] === v);
  const find = (match: Partial<LogLine> | ((line: LogLine) => boolean)) => logs.filter(matcher(match));
  const waitForLog = (match: Partial<LogLine> | ((line: LogLine) => boolean), within = 10_000) => {
    const pred = matcher(match);
    return eventually(
      () => {
        if (gone && !logs.some(pred)) throw new Error(`portico exited; stderr: ${stderr.slice(-2000)}`);
        return logs.find(pred);
      },
      { within, message: `log line ${typeof match === 'function' ? match.toString() : JSON.stringify(match)}` },
    );
  };
  let listening: LogLine;
  try {
    listening = await waitForLog({ event: 'listening' }, opts.within ?? 15_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\nstdout: ${JSON.stringify(logs).slice(-2000)}\nstderr: ${stderr.slice(-2000)}`);
  }
  const stop = async (graceMs = 15_000) => {
    if (!gone) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    }
    return exited;
  };
  return {
    child,
    pid: child.pid!,
    dir,
    configFile,
    http: Number(listening.http),
    https: Number(listening.https),
    admin: Number(listening.admin),
    logs,
    stderr: () => stderr,
    waitForLog,
    find,
    writeConfig: async (full) => {
      const tmp = `${configFile}.tmp-${process.pid}`;
      await writeFile(tmp, full);
      await rename(tmp, configFile);
    },
    writeFile: async (name, text) => {
      const path = join(dir, name);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text);
      return path;
    },
    signal: (sig) => child.kill(sig),
    exited,
    stop,
  };
}

/** Removes a temp directory made by startPorticoProcess (after stop). */
export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** What `startOwnedPortico` needs of a tap test: a teardown hook. */
interface Owner {
  teardown(fn: () => unknown): void;
}

/** What `startOwnedPortico` adds to the start options. */
export interface OwnedStartOptions extends StartOptions {
  /** How long the teardown's SIGTERM may take before SIGKILL (default 15 s). A scenario that
   * leaves hundreds of streams or its own signal behind passes less, so teardown stays quick. */
  readonly stopGraceMs?: number;
}

/**
 * Starts the built CLI for one test file and registers its stop (SIGTERM, then the temp
 * directory removed) with `t.teardown`, the way every e2e scenario needs it.
 */
export async function startOwnedPortico(t: Owner, opts: OwnedStartOptions): Promise<PorticoProcess> {
  const portico = await startPorticoProcess(opts);
  t.teardown(async () => {
    await portico.stop(opts.stopGraceMs);
    if (opts.dir === undefined) await removeDir(portico.dir);
  });
  return portico;
}

/**
 * `startOwnedPortico` with a config of E2E_PREAMBLE and `hosts:` with these entries, each
 * indented two spaces and ending in a newline (see `proxyHost`).
 */
export function startPorticoWithHosts(t: Owner, hosts: readonly string[], opts: Omit<OwnedStartOptions, 'config'> = {}): Promise<PorticoProcess> {
  return startOwnedPortico(t, { ...opts, config: `${E2E_PREAMBLE}hosts:\n${hosts.join('')}` });
}

/** A `hosts:` entry that sends every path to `target`; plain HTTP unless `tls` says otherwise. */
export function proxyHost(name: string, target: string, tls: 'off' | 'self-signed' = 'off'): string {
  return `  ${name}:\n    tls: ${tls}\n    routes: [ { upstream: "${target}" } ]\n`;
}

/**
 * A plain-HTTP `hosts:` entry whose /admin Portico answers itself with 403 and whose other
 * paths go to `target`: what smuggled requests and path tricks try to reach upstream.
 */
export function guardedAdminHost(name: string, target: string): string {
  return `  ${name}:
    tls: off
    routes:
      - { path: /admin, respond: { status: 403, body: "protected\\n" } }
      - { path: /, upstream: "${target}" }
`;
}

/** An upstream that records what it parses, closed by `t.teardown`. */
export async function startOwnedRecordingUpstream(t: Owner): Promise<RecordingUpstream> {
  const up = await startRecordingUpstream();
  t.teardown(() => up.close());
  return up;
}

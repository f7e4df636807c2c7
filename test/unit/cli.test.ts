import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import t from 'tap';
import { eventually } from '../helpers/eventually.js';

// The CLI as users run it: a real process (the test build emits build-test/src/cli.js).
const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'build-test/src/cli.js');
const fixtures = join(root, 'test/fixtures/config');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const asGiven = (abs: string) => relative(process.cwd(), abs);

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a user's shell: without tap's NODE_OPTIONS (its process-info loader hooks
 * every child and doubles its start-up time), without PORTICO_CONFIG unless a test sets it.
 */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k === 'PORTICO_CONFIG' || /^_?TAP/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Spawns the CLI and collects its output; killed (by pid) if it outlives `within`. */
function portico(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; within?: number } = {}): Promise<Result> {
  const child = spawn(process.execPath, [cli, ...args], { cwd: opts.cwd ?? process.cwd(), env: userEnv(opts.env), stdio: 'pipe' });
  return collect(child, opts.input, opts.within ?? 10_000);
}

function collect(child: ChildProcess, input: string | undefined, within: number): Promise<Result> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  if (input !== undefined) child.stdin?.end(input);
  else child.stdin?.end();
  const guard = setTimeout(() => child.kill('SIGKILL'), within);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

const noEnvConfig = {};

/**
 * Runs `portico COMMAND -c FILE` on test/fixtures/config/invalid/NAME.yaml; `expected` is its
 * NAME.expected with `FILE:` standing for the path as given.
 */
async function runInvalid(command: 'check' | 'start', name: string): Promise<{ r: Result; expected: string }> {
  const file = asGiven(join(fixtures, `invalid/${name}.yaml`));
  const expected = readFileSync(join(fixtures, `invalid/${name}.expected`), 'utf8').replaceAll('FILE:', `${file}:`);
  return { r: await portico([command, '-c', file], { env: noEnvConfig }), expected };
}

t.test('check: a valid file prints the summary line and exits 0', async (t) => {
  const file = asGiven(join(fixtures, 'valid/minimal.yaml'));
  const spec = asGiven(join(fixtures, 'valid/spec-example.yaml'));
  const [r, r2] = await Promise.all([portico(['check', '-c', file], { env: noEnvConfig }), portico(['check', '--config', spec], { env: noEnvConfig })]);
  t.equal(r.code, 0);
  t.equal(r.stdout, `${file}: ok, 1 hosts, 1 upstreams, 3 routes\n`, 'nouns stay plural for 1');
  t.equal(r.stderr, '');

  t.equal(r2.code, 0);
  t.equal(r2.stdout, `${spec}: ok, 6 hosts, 1 upstreams, 10 routes\n`, 'U counts entries under upstreams:, not inline targets');
});

t.test('check: an invalid file prints every FILE:LINE:COL error on stderr and exits 1, no stack', async (t) => {
  const { r, expected } = await runInvalid('check', 'multiple-errors');
  t.equal(r.code, 1);
  t.equal(r.stderr, expected);
  t.equal(r.stdout, '');
  t.notMatch(r.stderr, '    at ', 'no stack trace');
});

t.test('check: a YAML syntax error is reported the same way', async (t) => {
  const file = asGiven(join(fixtures, 'invalid/yaml-syntax.yaml'));
  const r = await portico(['check', '-c', file], { env: noEnvConfig });
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`^${file.replace(/[.]/g, '\\.')}:4:3: YAML: `));
  t.notMatch(r.stderr, '    at ');
});

t.test('check: a missing file exits 1 with FILE:1:1', async (t) => {
  const r = await portico(['check', '-c', 'no/such/routes.yaml'], { env: noEnvConfig });
  t.equal(r.code, 1);
  t.equal(r.stderr, 'no/such/routes.yaml:1:1: cannot read config file (ENOENT)\n');
  t.notMatch(r.stderr, '    at ');
});

t.test('$PORTICO_CONFIG is honoured, and -c wins over it', async (t) => {
  const file = asGiven(join(fixtures, 'valid/minimal.yaml'));
  const other = asGiven(join(fixtures, 'valid/spec-example.yaml'));
  const [r, r2] = await Promise.all([portico(['check'], { env: { PORTICO_CONFIG: file } }), portico(['check', '-c', other], { env: { PORTICO_CONFIG: file } })]);
  t.equal(r.code, 0);
  t.equal(r.stdout, `${file}: ok, 1 hosts, 1 upstreams, 3 routes\n`, 'FILE is the path as given in the variable');

  t.match(r2.stdout, new RegExp(`^${other.replace(/[.]/g, '\\.')}: ok`));
});

t.test('without -c or $PORTICO_CONFIG: ./routes.yaml in the working directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'routes.yaml'), 'hosts:\n  a.example:\n    routes: [{ respond: { body: hi } }]\n');
  const r = await portico(['check'], { cwd: dir, env: noEnvConfig });
  t.equal(r.code, 0);
  t.equal(r.stdout, './routes.yaml: ok, 1 hosts, 0 upstreams, 1 routes\n');

  const empty = mkdtempSync(join(tmpdir(), 'portico-cli-'));
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  const missing = await portico(['check'], { cwd: empty, env: noEnvConfig });
  t.equal(missing.code, 1);
  t.equal(missing.stderr, './routes.yaml:1:1: cannot read config file (ENOENT)\n');
});

t.test('an empty $PORTICO_CONFIG counts as unset: ./routes.yaml', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'routes.yaml'), 'hosts:\n  a.example:\n    routes: [{ respond: { body: hi } }]\n');
  const r = await portico(['check'], { cwd: dir, env: { PORTICO_CONFIG: '' } });
  t.equal(r.stderr, '');
  t.equal(r.code, 0);
  t.equal(r.stdout, './routes.yaml: ok, 1 hosts, 0 upstreams, 1 routes\n');
});

t.test('usage errors exit 2', async (t) => {
  const cases = [['frobnicate'], ['check', '--frobnicate'], [], ['check', 'extra'], ['hash-password', '-c', 'x.yaml']];
  const results = await Promise.all(cases.map((args) => portico(args, { env: noEnvConfig })));
  for (const [i, r] of results.entries()) {
    t.equal(r.code, 2, `portico ${cases[i]!.join(' ')}`);
    t.not(r.stderr, '', 'says what is wrong');
    t.notMatch(r.stderr, '    at ');
  }
});

t.test('--version prints the package version, --help the usage (exit 0)', async (t) => {
  const [version, v, help, h] = await Promise.all([['--version'], ['-v'], ['--help'], ['-h']].map((args) => portico(args)));
  for (const r of [version!, v!]) {
    t.equal(r.code, 0);
    t.equal(r.stdout, `portico ${pkg.version}\n`);
  }
  for (const r of [help!, h!]) {
    t.equal(r.code, 0);
    t.match(r.stdout, /^Usage: portico <command>/);
    for (const cmd of ['start', 'check', 'certs', 'hash-password']) t.match(r.stdout, cmd);
  }
});

t.test('hash-password reads one line from stdin and prints a bcrypt hash of it', async (t) => {
  const r = await portico(['hash-password', '--cost', '4'], { input: 'correct horse\r\n' });
  t.equal(r.code, 0);
  const hash = r.stdout.trim();
  t.match(hash, /^\$2[aby]\$04\$.{53}$/, 'cost 4');
  t.equal(await bcrypt.compare('correct horse', hash), true, 'the trailing \\r\\n is not part of the password');
  t.equal(await bcrypt.compare('correct horse\r', hash), false);
});

t.test('start with an invalid config prints FILE:LINE:COL errors and exits 1, no stack', async (t) => {
  const { r, expected } = await runInvalid('start', 'two-actions');
  t.equal(r.code, 1);
  t.equal(r.stderr, expected);
  t.notMatch(r.stderr, '    at ');
  t.notMatch(r.stdout, '    at ');
});

t.test('start serves on port 0, then SIGTERM drains and exits 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-start-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'routes.yaml');
  writeFileSync(
    file,
    [
      'listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" }',
      'tls: { certs: ./certs }',
      'hosts:',
      '  plain.example:',
      '    tls: off',
      '    routes: [{ respond: { status: 200, body: "hello from portico\\n" } }]',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [cli, 'start', '-c', file], { stdio: 'pipe', env: userEnv() });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const done = collect(child, undefined, 20_000);
  let stdout = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));

  // pino flushes buffered stdout on a 1 s timer.
  const line = await eventually(
    () => stdout.split('\n').find((l) => l.includes('"event":"listening"')),
    { within: 8_000, message: 'the listening event is logged' },
  );
  const listening = JSON.parse(line ?? '{}') as { http: number; https: number };
  t.ok(listening.http > 0, 'the real HTTP port is logged');
  t.ok(listening.https > 0, 'the real HTTPS port is logged');

  const body = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: listening.http, path: '/', headers: { host: 'plain.example' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(`${res.statusCode} ${text}`));
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(body, '200 hello from portico\n', 'it serves the configured host');

  child.kill('SIGTERM');
  const r = await done;
  t.equal(r.code, 0, 'exit 0 after SIGTERM');
  t.equal(r.signal, null);
  t.notMatch(r.stderr, '    at ');
  t.match(stdout, '"event":"shutdown"', 'the shutdown is logged (and flushed) before exit');
});

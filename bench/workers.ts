/**
 * `npm run bench -- workers`: Portico with `workers: 1` and `workers: N` under the same wrk
 * keep-alive load, plain proxying and a rate-limited host (whose buckets the supervisor keeps
 * for all workers). Prints requests/s, p50/p99 and the CPU µs per request of the whole instance
 * (supervisor and workers, from /proc), so that the cost of the extra hop and of the IPC shows
 * even where cores are too few for the requests/s to scale.
 *
 * On a machine with few cores, wrk and the upstream compete with the workers for CPU: read the
 * CPU per request there, not the requests/s. The scenario takes its sizes and CPU lists from the
 * environment, so that it measures real scaling unchanged on a larger machine:
 *   WORKERS=1,2            worker counts to compare (1 runs one process, no supervisor)
 *   PORTICO_CPUS=0-1       CPUs the instance may use (taskset list)
 *   LOAD_CPUS=0-1          CPUs of wrk and the upstream
 *   BENCH_DURATION=3s, BENCH_ROUNDS=5, BENCH_CONNS=64
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const COUNTS = (process.env.WORKERS ?? '1,2').split(',').map(Number);
const PORTICO_CPUS = process.env.PORTICO_CPUS ?? '0-1';
const LOAD_CPUS = process.env.LOAD_CPUS ?? '0-1';
const DURATION = process.env.BENCH_DURATION ?? '3s';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNS = Number(process.env.BENCH_CONNS ?? 64);
const CLK_TCK = 100;

const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
const hasTaskset = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const pinned = (cpus: string, cmd: string, args: string[]): [string, string[]] => (hasTaskset ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, args]);
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The process and its descendants (a supervisor and its workers). */
function tree(pid: number): number[] {
  const kids: number[] = [];
  for (const task of safeReaddir(`/proc/${pid}/task`)) {
    const list = safeRead(`/proc/${pid}/task/${task}/children`).trim();
    if (list) kids.push(...list.split(/\s+/).map(Number));
  }
  return [pid, ...kids.flatMap(tree)];
}
const safeRead = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};
const safeReaddir = (path: string) => {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
};
function cpuTicks(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = safeRead(`/proc/${pid}/stat`);
    if (!stat) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks;
}
function rssMiB(pids: readonly number[]): number {
  return pids.reduce((n, pid) => n + Number(/VmRSS:\s+(\d+) kB/.exec(safeRead(`/proc/${pid}/status`))?.[1] ?? 0) / 1024, 0);
}

function toMicros(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 1 : m[2] === 'ms' ? 1000 : 1e6);
}

async function wrk(url: string, host: string): Promise<{ rps: number; total: number; p50: number; p99: number; errors: number }> {
  const [c, a] = pinned(LOAD_CPUS, 'wrk', ['-t', '1', '-c', String(CONNS), '-d', DURATION, '--latency', '-H', `Host: ${host}`, url]);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}`))));
  });
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    total: Number(/(\d+) requests in/.exec(out)?.[1]),
    p50: toMicros(/\s50%\s+(\S+)/.exec(out)?.[1] ?? ''),
    p99: toMicros(/\s99%\s+(\S+)/.exec(out)?.[1] ?? ''),
    errors: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + (sock ? sock.slice(1).reduce((n, v) => n + Number(v), 0) : 0),
  };
}

async function startUpstream(): Promise<{ child: ChildProcess; port: number }> {
  const [c, a] = pinned(LOAD_CPUS, process.execPath, [join(here, 'upstream.js')]);
  const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim().split('\n')[0]))));
  return { child, port };
}

async function startPortico(workers: number, upstreamPort: number): Promise<{ child: ChildProcess; http: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-bench-workers-'));
  writeFileSync(join(dir, 'routes.yaml'), `listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" }
tls: { certs: ./certs }
workers: ${workers}
log: { level: info, access: true }
upstreams:
  app: { targets: ["127.0.0.1:${upstreamPort}"] }
hosts:
  bench.local: { tls: off, routes: [ { upstream: app } ] }
  limited.local:
    tls: off
    rateLimit: { rate: 10000000/s, burst: 10000000 }
    routes: [ { upstream: app } ]
`);
  const log = join(dir, 'out.log');
  const [c, a] = pinned(PORTICO_CPUS, process.execPath, [join(root, 'dist', 'cli.js'), 'start', '-c', join(dir, 'routes.yaml')]);
  const child = spawn(c, a, { stdio: ['ignore', openSync(log, 'w'), 'inherit'] });
  children.push(child);
  for (let i = 0; i < 400; i++) {
    await sleep(50);
    const line = existsSync(log) ? readFileSync(log, 'utf8').split('\n').find((l) => l.includes('"event":"listening"')) : undefined;
    if (line) return { child, http: (JSON.parse(line) as { http: number }).http };
  }
  throw new Error(`portico with ${workers} workers did not start`);
}

interface Row {
  readonly workers: number;
  readonly scenario: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuUs: number;
  readonly rss: number;
  readonly errors: number;
}

export async function runWorkers(): Promise<void> {
  const upstream = await startUpstream();
  const rows: Row[] = [];
  for (const workers of COUNTS) {
    const portico = await startPortico(workers, upstream.port);
    const url = `http://127.0.0.1:${portico.http}/`;
    for (const [scenario, host] of [['plain', 'bench.local'], ['rate-limited', 'limited.local']] as const) {
      await wrk(url, host); // warm-up
      const runs: Array<{ rps: number; p50: number; p99: number; cpuUs: number; errors: number }> = [];
      for (let round = 0; round < ROUNDS; round++) {
        const pids = tree(portico.child.pid!);
        const before = cpuTicks(pids);
        const r = await wrk(url, host);
        const cpuUs = ((cpuTicks(pids) - before) / CLK_TCK) * 1e6 / r.total;
        runs.push({ ...r, cpuUs });
        process.stderr.write(`  workers ${workers} ${scenario} round ${round + 1}/${ROUNDS}: ${r.rps.toFixed(0)} req/s, ${cpuUs.toFixed(1)} CPU µs/req\n`);
      }
      rows.push({
        workers,
        scenario,
        rps: median(runs.map((r) => r.rps)),
        p50: median(runs.map((r) => r.p50)),
        p99: median(runs.map((r) => r.p99)),
        cpuUs: median(runs.map((r) => r.cpuUs)),
        rss: rssMiB(tree(portico.child.pid!)),
        errors: runs.reduce((n, r) => n + r.errors, 0),
      });
    }
    portico.child.kill('SIGTERM');
    await new Promise((resolve) => portico.child.once('exit', resolve));
  }
  upstream.child.kill('SIGTERM');
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.+)/)?.[1] ?? 'unknown CPU';
  const cores = readFileSync('/proc/cpuinfo', 'utf8').match(/^processor\s*:/gm)?.length ?? 0;
  console.log(`\nPortico workers benchmark — ${new Date().toISOString()} — Node ${process.version} — ${cpu} × ${cores} — wrk -c ${CONNS} ${DURATION}, ${ROUNDS} rounds${hasTaskset ? `, instance on CPUs ${PORTICO_CPUS}, wrk and upstream on ${LOAD_CPUS}` : ''}\n`);
  const base = new Map(rows.filter((r) => r.workers === COUNTS[0]).map((r) => [r.scenario, r] as const));
  const head = ['workers', 'scenario', 'req/s', '× req/s', 'p50 µs', 'p99 µs', 'CPU µs/req', '× CPU/req', 'RSS MiB (all processes)', 'errors'];
  const lines = rows.map((r) => {
    const b = base.get(r.scenario)!;
    return [String(r.workers), r.scenario, r.rps.toFixed(0), (r.rps / b.rps).toFixed(2), r.p50.toFixed(0), r.p99.toFixed(0), r.cpuUs.toFixed(1), (r.cpuUs / b.cpuUs).toFixed(2), r.rss.toFixed(0), String(r.errors)];
  });
  console.log([head, head.map(() => '---'), ...lines].map((l) => `| ${l.join(' | ')} |`).join('\n'));
  console.log('\nCPU µs/req: utime+stime of the supervisor and all workers (/proc) ÷ requests, median over rounds. With as many workers as cores and wrk on the same cores, req/s cannot scale: compare CPU per request.');
}

/**
 * `npm run bench:scale` (or `npm run bench -- scale`): Portico with generated configs of 1,000
 * and 10,000 hosts (two routes each, a rate limit on one, ten shared upstreams). For each size:
 * - `portico check` wall and CPU time (median of 3 runs);
 * - reload time: median of 20 `POST /reload` at the admin API, each after changing the body
 *   of one host's route in the file, timed from the request to the response, with the CPU
 *   time the gateway spent meanwhile in all its threads and in its main thread;
 * - the longest wait of a request while the reloads run, under steady load (2 keep-alive
 *   clients sending one request after another to hosts all over the file), next to the same
 *   figure over the same time without reloads (what the machine alone costs);
 * - requests failed during the reloads;
 * - the gateway's RSS after the first and after the 20th reload, and after the same load for
 *   as long again without reloads (what traffic alone does to it).
 * Every reload's change is checked to be served. The machine's load average is printed: on a
 * shared machine it explains most of the spread between runs.
 * SCALE_HOSTS=1000,10000 and SCALE_RELOADS=20 change the sizes and the count; SCALE_WORKERS=2
 * runs the gateway with `workers: 2` (RSS and CPU are then summed over the supervisor and its
 * workers, and "main thread" is the workers' serving threads).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scaleConfig, scaleHostName } from './scale-config.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', '..', 'dist', 'cli.js');
const SIZES = (process.env.SCALE_HOSTS ?? '1000,10000').split(',').map(Number);
const RELOADS = Number(process.env.SCALE_RELOADS ?? 20);
const WORKERS = Number(process.env.SCALE_WORKERS ?? 1);
const CLIENTS = 2;

const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const progress = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const CLK_TCK = 100; // Linux USER_HZ: /proc/PID/stat times are in these ticks

/** CPU ms (user + system) of a process, or of one of its threads (`/proc/PID/task/TID/stat`). */
function cpuMs(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** Runs `portico check`, returning wall and CPU ms (CPU from GNU time when installed). */
function timeCheck(file: string): { wallMs: number; cpuMs: number } {
  const started = performance.now();
  if (!existsSync('/usr/bin/time')) {
    execFileSync(process.execPath, [cli, 'check', '-c', file], { stdio: 'ignore' });
    return { wallMs: performance.now() - started, cpuMs: NaN };
  }
  const run = spawnSync('/usr/bin/time', ['-f', 'cpu %U %S', process.execPath, cli, 'check', '-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (run.status !== 0) throw new Error(`portico check failed: ${run.stderr.toString().slice(0, 500)}`);
  const out = run.stderr.toString();
  const wallMs = performance.now() - started;
  const m = /cpu ([\d.]+) ([\d.]+)/.exec(out);
  return { wallMs, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN };
}

/** The gateway's processes: itself and, with workers, the worker processes it forked. */
function processTree(pid: number): number[] {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
  );
  return [pid, ...children];
}

/** RSS of the gateway's processes, summed. */
function rssMiB(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) kb += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? NaN);
  return kb / 1024;
}

/** CPU ms of all the gateway's processes, and of the threads serving requests (each worker's main thread, or the single process's). */
function gatewayCpuMs(pid: number): { all: number; serving: number } {
  const tree = processTree(pid);
  const serving = tree.length > 1 ? tree.slice(1) : tree;
  let all = 0;
  for (const p of tree) all += cpuMs(`/proc/${p}/stat`);
  let main = 0;
  for (const p of serving) main += cpuMs(`/proc/${p}/task/${p}/stat`);
  return { all, serving: main };
}

function httpGet(port: number, host: string, path: string, agent: Agent, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(300_000, () => req.destroy(new Error(`${method} ${host}${path}: no answer in 300 s`)));
    req.end();
  });
}

/** Steady load: CLIENTS loops, each sending its next request as soon as the last one ended. */
function startLoad(port: number, hosts: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  let running = true;
  let maxMs = 0;
  let sent = 0;
  const failures: string[] = [];
  let n = 0;
  const loop = async () => {
    while (running) {
      const host = scaleHostName((n++ * 7919) % hosts); // spread over the whole file
      const started = performance.now();
      try {
        const r = await httpGet(port, host, '/api/x', agent);
        if (r.status !== 200) failures.push(`${host}: ${r.status}`);
      } catch (err) {
        failures.push(`${host}: ${(err as Error).message}`);
      }
      maxMs = Math.max(maxMs, performance.now() - started);
      sent++;
    }
  };
  const loops = Array.from({ length: CLIENTS }, loop);
  return {
    /** Starts a new measuring window; returns the last one's figures. */
    window() {
      const w = { maxMs, sent, failures: [...failures] };
      maxMs = 0;
      sent = 0;
      failures.length = 0;
      return w;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
    },
  };
}

async function startGateway(file: string): Promise<{ child: ChildProcess; http: number; admin: number }> {
  const child = spawn(process.execPath, [cli, 'start', '-c', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let buffered = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"event":"listening"')) continue;
        const { http, admin } = JSON.parse(line) as { http: number; admin: number };
        resolve({ child, http, admin });
      }
      if (buffered.length > 1e6) buffered = ''; // access lines are not needed
    });
    child.once('exit', (code) => reject(new Error(`portico exited with ${code}`)));
  });
}

interface Row {
  hosts: number;
  bytes: number;
  checkMs: number;
  checkCpuMs: number;
  reloadMs: number;
  reloadCpuMs: number;
  reloadMainCpuMs: number;
  maxWaitMs: number;
  quietMaxWaitMs: number;
  requests: number;
  failed: number;
  rssFirst: number;
  rssLast: number;
  rssQuiet: number;
  load: string;
}

async function measure(hosts: number, upstreamPort: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-scale-'));
  const file = join(dir, 'routes.yaml');
  const preamble = `listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" }\nadmin: 127.0.0.1:0\ntls: { certs: ./certs }\nworkers: ${WORKERS}\n`;
  const text = (version: number) => scaleConfig({ hosts, target: `127.0.0.1:${upstreamPort}`, preamble, override: version === 0 ? undefined : { host: (version * 131) % hosts, body: `v${version}` } });
  const write = (version: number) => {
    writeFileSync(`${file}.tmp`, text(version));
    renameSync(`${file}.tmp`, file);
  };
  write(0);
  const bytes = text(0).length;

  const checks = [0, 1, 2].map(() => timeCheck(file));
  progress(`${hosts} hosts: check ${checks.map((c) => `${Math.round(c.wallMs)} ms (CPU ${Math.round(c.cpuMs)} ms)`).join(', ')}`);

  const gw = await startGateway(file);
  const admin = new Agent({ keepAlive: false });
  const load = startLoad(gw.http, hosts);
  await sleep(1000); // warm up
  load.window();
  const reloadTimes: number[] = [];
  const reloadCpu: number[] = [];
  const reloadMainCpu: number[] = [];
  const pid = gw.child.pid!;
  let rssFirst = NaN;
  const loadStart = loadavg()[0]!;
  for (let v = 1; v <= RELOADS; v++) {
    write(v);
    const cpu0 = gatewayCpuMs(pid);
    const started = performance.now();
    const r = await httpGet(gw.admin, '127.0.0.1', '/reload', admin, 'POST');
    reloadTimes.push(performance.now() - started);
    // Includes serving the steady load meanwhile; the main thread is the one serving requests.
    const cpu1 = gatewayCpuMs(pid);
    reloadCpu.push(cpu1.all - cpu0.all);
    reloadMainCpu.push(cpu1.serving - cpu0.serving);
    if (r.status !== 200) throw new Error(`reload ${v} failed: ${r.status} ${r.body.slice(0, 500)}`);
    const changed = await httpGet(gw.http, scaleHostName((v * 131) % hosts), '/', admin);
    if (changed.body !== `v${v}`) throw new Error(`reload ${v} not in effect: got ${changed.status} ${changed.body.slice(0, 100)}`);
    if (v === 1) rssFirst = rssMiB(gw.child.pid!);
    progress(`${hosts} hosts: reload ${v} took ${Math.round(reloadTimes.at(-1)!)} ms (CPU ${reloadCpu.at(-1)} ms, main thread ${reloadMainCpu.at(-1)} ms)`);
    await sleep(100);
  }
  const reloading = load.window();
  const rssLast = rssMiB(gw.child.pid!);
  const reloadWindowMs = reloadTimes.reduce((a, b) => a + b, 0) + RELOADS * 100;
  await sleep(Math.min(reloadWindowMs, 20_000)); // the same load, no reloads
  const quiet = load.window();
  const rssQuiet = rssMiB(gw.child.pid!);
  await load.stop();
  gw.child.kill('SIGTERM');
  return {
    hosts,
    bytes,
    checkMs: median(checks.map((c) => c.wallMs)),
    checkCpuMs: median(checks.map((c) => c.cpuMs)),
    reloadMs: median(reloadTimes),
    reloadCpuMs: median(reloadCpu),
    reloadMainCpuMs: median(reloadMainCpu),
    maxWaitMs: reloading.maxMs,
    quietMaxWaitMs: quiet.maxMs,
    requests: reloading.sent,
    failed: reloading.failures.length,
    rssFirst,
    rssLast,
    rssQuiet,
    load: `${loadStart.toFixed(1)}–${loadavg()[0]!.toFixed(1)}`,
  };
}

export async function runScale(): Promise<void> {
  const upstream = spawn(process.execPath, [join(here, 'upstream.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(upstream);
  const port = await new Promise<number>((resolve) => upstream.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  const rows: Row[] = [];
  for (const n of SIZES) rows.push(await measure(n, port));
  upstream.kill('SIGTERM');

  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.+)/)?.[1] ?? 'unknown CPU';
  console.log(`\nPortico scale benchmark — ${new Date().toISOString()} — Node ${process.version} — ${cpu}, ${RELOADS} reloads, ${CLIENTS} clients, workers: ${WORKERS}\n`);
  console.log('| hosts | file KiB | check ms (CPU) | reload ms (CPU, main thread) | longest wait ms, reloading | same, no reloads | requests | failed | RSS MiB after 1st / last reload / the same time later, no reloads | load avg |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const ms = Math.round;
    console.log(`| ${r.hosts} | ${ms(r.bytes / 1024)} | ${ms(r.checkMs)} (${ms(r.checkCpuMs)}) | ${ms(r.reloadMs)} (${ms(r.reloadCpuMs)}, ${ms(r.reloadMainCpuMs)}) | ${ms(r.maxWaitMs)} | ${ms(r.quietMaxWaitMs)} | ${r.requests} | ${r.failed} | ${ms(r.rssFirst)} / ${ms(r.rssLast)} / ${ms(r.rssQuiet)} | ${r.load} |`);
  }
  console.log('\nMedians: check of 3 runs, reload of all. CPU: user + system of the gateway (all threads of all its processes, including the steady load it serves meanwhile) and of the threads serving requests (the main thread, or each worker\'s), from /proc. RSS: summed over its processes.');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runScale().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

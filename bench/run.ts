/**
 * `npm run bench`: one fast upstream, then, in turn, a direct connection, a bare http-proxy
 * script (the floor for anything built on that library), Portico (plain, Basic Auth,
 * rate-limited, HTTPS, TLS handshakes) and nginx when installed, all under the same wrk
 * keep-alive load. Prints requests/s, p50/p99 at 64 and 4 connections, the proxy process's
 * CPU µs per request (from /proc) and RSS, with ratios; then the latency of single requests at
 * a fixed rate below saturation (bench/latency-probe.ts). The proxy is pinned to CPU 1 and wrk
 * to CPU 0 where `taskset` exists.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const DURATION = process.env.BENCH_DURATION ?? '2s';
const has = (cmd: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const TASKSET = has('taskset');
const CLK_TCK = 100; // Linux USER_HZ; /proc/PID/stat times are in these ticks

interface Result {
  name: string;
  conns: number;
  rps: number;
  p50us: number;
  p99us: number;
  cpuUsPerReq: number | undefined;
  /** Median over rounds of (this peer's CPU/req ÷ the bare script's in the same round). */
  cpuRatio: number | undefined;
  /** First and third quartiles of those per-round ratios: the spread the machine allowed. */
  cpuRatioIqr: readonly [number, number] | undefined;
  rssMiB: number | undefined;
  /** Bytes read by wrk per response, head included: what a compressed response saves. */
  bytesPerReq: number;
  errors: number;
}

const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

function pinned(cpu: number, cmd: string, args: string[]): [string, string[]] {
  return TASKSET ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
}

/** Starts a child that prints its port on the first stdout line. */
async function startWithPort(cpu: number, cmd: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const [c, a] = pinned(cpu, cmd, args);
  const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim().split('\n')[0])));
    child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code}`)));
  });
  return { child, port };
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function toMicros(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v : m[2] === 'ms' ? v * 1000 : v * 1e6;
}

async function wrk(url: string, conns: number, headers: string[]): Promise<{ rps: number; p50: number; p99: number; total: number; bytes: number; errors: number }> {
  const args = ['-t', '1', '-c', String(conns), '-d', DURATION, '--latency', ...headers.flatMap((h) => ['-H', h]), url];
  const [c, a] = pinned(0, 'wrk', args);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}`))));
  });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const total = Number(/(\d+) requests in/.exec(out)?.[1]);
  const p50 = toMicros(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
  const p99 = toMicros(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (sock ? sock.slice(1).reduce((n, v) => n + Number(v), 0) : 0);
  const read = /([\d.]+)([KMG]?)B read/.exec(out);
  const bytes = read ? Number(read[1]) * ({ '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 } as Record<string, number>)[read[2]!]! : NaN;
  return { rps, p50, p99, total, bytes, errors };
}

interface Scenario {
  readonly name: string;
  readonly url: string;
  readonly pid: number | undefined;
  readonly headers: string[];
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const FLOOR = 'bare http-proxy';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const quartiles = (xs: number[]): [number, number] => {
  const s = [...xs].sort((a, b) => a - b);
  return [s[Math.floor((s.length - 1) / 4)]!, s[Math.ceil(((s.length - 1) * 3) / 4)]!];
};

/**
 * Runs every scenario ROUNDS times, interleaved (round → connections → peer), so that the
 * bare script and Portico run back to back under the same load and a slow moment of the
 * machine hits both. Per round, each peer's CPU per request is divided by the bare script's
 * from the same round; the reported ratio is the median of those paired ratios, which on a
 * noisy VM is far steadier than a ratio of two separately aggregated figures. CPU per request
 * is also shown as the minimum over rounds; throughput and latency are medians.
 */
async function measureAll(scenarios: readonly Scenario[]): Promise<Result[]> {
  const samples = new Map<string, Result[]>();
  for (const sc of scenarios) for (const conns of [64, 4]) await wrk(sc.url, conns, sc.headers).catch(() => undefined); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const conns of [64, 4]) {
      const floorIndex = new Map<string, number>();
      for (const sc of scenarios) {
        const before = sc.pid ? cpuTicks(sc.pid) : 0;
        const r = await wrk(sc.url, conns, sc.headers);
        const ticks = sc.pid ? cpuTicks(sc.pid) - before : 0;
        const key = `${sc.name}|${conns}`;
        const list = samples.get(key) ?? [];
        list.push({
          name: sc.name,
          conns,
          rps: r.rps,
          p50us: r.p50,
          p99us: r.p99,
          cpuUsPerReq: sc.pid ? (ticks / CLK_TCK / r.total) * 1e6 : undefined,
          cpuRatio: undefined,
          cpuRatioIqr: undefined,
          rssMiB: sc.pid ? rssMiB(sc.pid) : undefined,
          bytesPerReq: r.bytes / r.total,
          errors: r.errors,
        });
        samples.set(key, list);
        floorIndex.set(sc.name, list.length - 1);
        process.stderr.write(`  round ${round + 1}/${ROUNDS} c=${conns} ${sc.name}: ${r.rps.toFixed(0)} req/s\n`);
      }
      const floor = samples.get(`${FLOOR}|${conns}`)?.at(-1)?.cpuUsPerReq;
      for (const sc of scenarios) {
        const last = samples.get(`${sc.name}|${conns}`)!.at(-1)!;
        if (floor && last.cpuUsPerReq !== undefined) last.cpuRatio = last.cpuUsPerReq / floor;
      }
    }
  }
  return [...samples.values()].map((list) => ({
    name: list[0]!.name,
    conns: list[0]!.conns,
    rps: median(list.map((r) => r.rps)),
    p50us: median(list.map((r) => r.p50us)),
    p99us: median(list.map((r) => r.p99us)),
    cpuUsPerReq: list[0]!.cpuUsPerReq === undefined ? undefined : Math.min(...list.map((r) => r.cpuUsPerReq!)),
    cpuRatio: list[0]!.cpuRatio === undefined ? undefined : median(list.map((r) => r.cpuRatio!)),
    cpuRatioIqr: list[0]!.cpuRatio === undefined ? undefined : quartiles(list.map((r) => r.cpuRatio!)),
    rssMiB: list[0]!.rssMiB === undefined ? undefined : Math.max(...list.map((r) => r.rssMiB!)),
    bytesPerReq: median(list.map((r) => r.bytesPerReq)),
    errors: list.reduce((n, r) => n + r.errors, 0),
  }));
}

const PROBE_RATE = Number(process.env.BENCH_PROBE_RATE ?? 1000);
const PROBE_CONNS = 4;

interface Probe {
  readonly name: string;
  readonly p50us: number;
  readonly p99us: number;
  readonly late: number;
}

/** One run of the open-loop probe (bench/latency-probe.ts) against a peer, pinned beside wrk. */
async function probe(port: number, host: string): Promise<{ p50us: number; p99us: number; late: number }> {
  const seconds = Math.max(1, Math.round(toMicros(DURATION) / 1e6));
  const [c, a] = pinned(0, process.execPath, [join(here, 'latency-probe.js'), String(port), host, String(PROBE_CONNS), String(PROBE_RATE), String(seconds)]);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`latency probe exited ${code}`))));
  });
  return JSON.parse(out) as { p50us: number; p99us: number; late: number };
}

/** Latency at a fixed offered rate below saturation, interleaved over rounds like measureAll. */
async function probeAll(peers: readonly { name: string; port: number; host: string }[]): Promise<Probe[]> {
  const runs = new Map<string, { p50us: number; p99us: number; late: number }[]>();
  for (const p of peers) await probe(p.port, p.host); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const p of peers) {
      const r = await probe(p.port, p.host);
      runs.set(p.name, [...(runs.get(p.name) ?? []), r]);
      process.stderr.write(`  round ${round + 1}/${ROUNDS} probe ${p.name}: p50 ${r.p50us.toFixed(0)} µs\n`);
    }
  }
  return peers.map((p) => {
    const list = runs.get(p.name)!;
    return { name: p.name, p50us: median(list.map((r) => r.p50us)), p99us: median(list.map((r) => r.p99us)), late: list.reduce((n, r) => n + r.late, 0) };
  });
}

function probeTable(probes: readonly Probe[]): string {
  const direct = probes.find((p) => p.name === 'direct');
  const head = ['peer', 'p50 µs', 'Δp50 vs direct', 'p99 µs', 'Δp99 vs direct', 'late sends'];
  const delta = (v: number, base: number | undefined) => (base === undefined ? '-' : `${v - base >= 0 ? '+' : ''}${(v - base).toFixed(0)}`);
  const rows = probes.map((p) => [p.name, p.p50us.toFixed(0), delta(p.p50us, direct?.p50us), p.p99us.toFixed(0), delta(p.p99us, direct?.p99us), String(p.late)]);
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

async function startPortico(upstreamPort: number): Promise<{ child: ChildProcess; http: number; https: number; auth: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-bench-'));
  const hash = await bcrypt.hash('bench-password', 12);
  const config = `listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" }
tls: { certs: ./certs }
log: { level: info, access: true }
upstreams:
  app: { targets: ["127.0.0.1:${upstreamPort}"] }
hosts:
  bench.local: { tls: off, routes: [ { path: /, upstream: app } ] }
  auth.local:
    tls: off
    basicAuth: { realm: Bench, users: { bench: "${hash}" } }
    routes: [ { upstream: app } ]
  limited.local:
    tls: off
    rateLimit: { rate: 10000000/s, burst: 10000000 }
    routes: [ { upstream: app, rateLimit: { rate: 10000000/s, burst: 10000000 } } ]
  tls.local: { tls: self-signed, routes: [ { upstream: app } ] }
  compress.local: { tls: off, compress: true, routes: [ { upstream: app } ] }
`;
  writeFileSync(join(dir, 'routes.yaml'), config);
  const logFile = join(dir, 'access.log');
  const [c, a] = pinned(1, process.execPath, [join(root, 'dist', 'cli.js'), 'start', '-c', join(dir, 'routes.yaml')]);
  const { openSync } = await import('node:fs');
  const child = spawn(c, a, { stdio: ['ignore', openSync(logFile, 'w'), 'inherit'] });
  children.push(child);
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const line = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').find((l) => l.includes('"event":"listening"')) : undefined;
    if (line) {
      const { http, https } = JSON.parse(line) as { http: number; https: number };
      return { child, http, https, auth: Buffer.from('bench:bench-password').toString('base64') };
    }
  }
  throw new Error('portico did not start');
}

async function startNginx(upstreamPort: number): Promise<{ child: ChildProcess; port: number } | undefined> {
  const bin = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
  if (!bin) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'nginx-bench-'));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    writeFileSync(join(dir, 'nginx.conf'), `daemon off; master_process off; worker_processes 1; error_log stderr error; pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http { access_log ${dir}/access.log; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  gzip_types application/json; gzip_comp_level 5; gzip_min_length 1024; gzip_vary on;
  server { listen 127.0.0.1:${port}; gzip on; location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; } } }
`);
    const [c, a] = pinned(1, bin, ['-p', dir, '-c', join(dir, 'nginx.conf')]);
    const child = spawn(c, a, { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(true), 500);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (ok) return { child, port };
  }
  return undefined;
}

function table(results: Result[]): string {
  const base = (conns: number, name: string) => results.find((r) => r.name === name && r.conns === conns);
  const rows = results.map((r) => {
    const direct = base(r.conns, 'direct');
    return [
      r.name,
      String(r.conns),
      r.rps.toFixed(0),
      direct ? (r.rps / direct.rps).toFixed(2) : '-',
      r.p50us.toFixed(0),
      direct ? `${r.p50us - direct.p50us >= 0 ? '+' : ''}${(r.p50us - direct.p50us).toFixed(0)}` : '-',
      r.p99us.toFixed(0),
      r.cpuUsPerReq === undefined ? '-' : r.cpuUsPerReq.toFixed(1),
      r.cpuRatio === undefined ? '-' : r.name === FLOOR ? '1.00' : `${r.cpuRatio.toFixed(2)} (${r.cpuRatioIqr![0].toFixed(2)}–${r.cpuRatioIqr![1].toFixed(2)})`,
      r.rssMiB === undefined ? '-' : r.rssMiB.toFixed(0),
      r.bytesPerReq.toFixed(0),
      String(r.errors),
    ];
  });
  const head = ['peer', 'conns', 'req/s', '×direct', 'p50 µs', 'Δp50 vs direct', 'p99 µs', 'CPU µs/req', '×floor CPU', 'RSS MiB', 'bytes/resp', 'errors'];
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

async function main(): Promise<void> {
  if (!has('wrk')) {
    console.error('bench: wrk is required (apt-get install -y wrk)');
    process.exit(2);
  }
  const node = process.execPath;
  const upstream = await startWithPort(0, node, [join(here, 'upstream.js')]);
  const bare = await startWithPort(1, node, [join(here, 'bare-proxy.js'), String(upstream.port)]);
  const portico = await startPortico(upstream.port);
  const nginx = await startNginx(upstream.port);
  const pid = portico.child.pid!;
  const plain = `http://127.0.0.1:${portico.http}/`;
  const secure = `https://127.0.0.1:${portico.https}/`;
  const scenarios: Scenario[] = [
    { name: 'direct', url: `http://127.0.0.1:${upstream.port}/`, pid: undefined, headers: [] },
    { name: 'bare http-proxy', url: `http://127.0.0.1:${bare.port}/`, pid: bare.child.pid, headers: [] },
    { name: 'portico', url: plain, pid, headers: ['Host: bench.local'] },
    { name: 'portico + basic auth', url: plain, pid, headers: ['Host: auth.local', `Authorization: Basic ${portico.auth}`] },
    { name: 'portico + rate limits', url: plain, pid, headers: ['Host: limited.local'] },
    { name: 'portico https', url: secure, pid, headers: ['Host: tls.local'] },
    { name: 'portico TLS handshake/req', url: secure, pid, headers: ['Host: tls.local', 'Connection: close'] },
  ];
  if (nginx) scenarios.push({ name: 'nginx', url: `http://127.0.0.1:${nginx.port}/`, pid: nginx.child.pid, headers: ['Host: bench.local'] });
  // 20 KB JSON: the same route uncompressed, then gzip and brotli (SPEC §4 Compression).
  scenarios.push(
    { name: 'portico 20 KB JSON', url: `${plain}json`, pid, headers: ['Host: bench.local', 'Accept-Encoding: gzip, br'] },
    { name: 'portico 20 KB JSON gzip', url: `${plain}json`, pid, headers: ['Host: compress.local', 'Accept-Encoding: gzip'] },
    { name: 'portico 20 KB JSON br', url: `${plain}json`, pid, headers: ['Host: compress.local', 'Accept-Encoding: gzip, br'] },
  );
  if (nginx) {
    scenarios.push(
      { name: 'nginx 20 KB JSON', url: `http://127.0.0.1:${nginx.port}/json`, pid: nginx.child.pid, headers: ['Host: bench.local'] },
      { name: 'nginx 20 KB JSON gzip on', url: `http://127.0.0.1:${nginx.port}/json`, pid: nginx.child.pid, headers: ['Host: bench.local', 'Accept-Encoding: gzip'] },
    );
  }
  // BENCH_ONLY=regex runs a subset (the floor always runs: the CPU ratios are relative to it).
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
  const results = await measureAll(only ? scenarios.filter((sc) => sc.name === FLOOR || sc.name === 'direct' || only.test(sc.name)) : scenarios);
  const probes = only ? [] : await probeAll([
    { name: 'direct', port: upstream.port, host: 'bench.local' },
    { name: 'bare http-proxy', port: bare.port, host: 'bench.local' },
    { name: 'portico', port: portico.http, host: 'bench.local' },
    ...(nginx ? [{ name: 'nginx', port: nginx.port, host: 'bench.local' }] : []),
  ]);
  for (const c of [bare.child, portico.child, nginx?.child, upstream.child]) c?.kill('SIGTERM');

  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.+)/)?.[1] ?? 'unknown CPU';
  console.log(`\nPortico benchmark — ${new Date().toISOString()} — Node ${process.version} — ${cpu} — wrk ${DURATION} per run, ${ROUNDS} interleaved rounds${TASKSET ? ', proxies pinned to CPU 1, wrk to CPU 0' : ''}\n`);
  console.log(table(results));
  console.log('\nCPU µs/req: the proxy process only (utime+stime from /proc ÷ requests), minimum over rounds. ×floor CPU: median over rounds of the ratio to the bare http-proxy script in the same round (interquartile range in brackets).');
  console.log('bytes/resp: bytes wrk read per response, head included (median). The 20 KB JSON rows: compress off, gzip level 5, brotli quality 4; nginx with gzip on, gzip_comp_level 5.');
  console.log('req/s and latencies: medians over rounds. "TLS handshake/req" sends Connection: close, so every request is a new TLS connection.');
  console.log(`\nLatency at a fixed rate: ${PROBE_RATE} req/s offered over ${PROBE_CONNS} keep-alive connections (open loop, bench/latency-probe.ts), medians over rounds. "late sends": requests not sent because every connection was still waiting.\n`);
  console.log(probeTable(probes));
}

// `npm run bench -- scale` and `npm run bench -- workers`: the config-at-scale scenario
// (bench/scale.ts) or the worker-process one (bench/workers.ts) instead.
const scenarios: Record<string, () => Promise<void>> = {
  scale: () => import('./scale.js').then((m) => m.runScale()),
  workers: () => import('./workers.js').then((m) => m.runWorkers()),
};
const run = scenarios[process.argv[2] ?? ''] ?? main;
run().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

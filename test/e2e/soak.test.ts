import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { startRedis } from '../helpers/start-redis.js';
import { startUpstream } from '../helpers/start-upstream.js';
import { attachWsEcho, openSse, openWs, roundTrip } from '../helpers/streams.js';
import { E2E_PREAMBLE, startOwnedPortico } from './helpers/portico-process.js';
import { startTraffic } from './helpers/traffic.js';

// A bounded soak (about a minute) of the built CLI: keep-alive GETs, POSTs with bodies, clients
// that abort mid-response, WebSockets and SSE streams opened and dropped, a reload every 5 s and
// one Redis restart. No request may fail, and the gateway's resident memory and open file
// descriptors must come back to within 15 % of their level after the warm-up: a leak of
// sockets, timers or retired route tables shows up here long before production finds it.

const WARM_UP_MS = 10_000;
const SOAK_MS = 45_000;
const RELOAD_EVERY_MS = 5_000;
const TOLERANCE = 1.15;

/** Resident memory (kB) and open descriptors of a process, from /proc. */
function usage(pid: number): { rssKb: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]);
  return { rssKb, fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** The upstream: echo on GET, byte count on POST, a long stream on /big, SSE on /events, WebSocket echo. */
async function soakUpstream() {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const upstream = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/big') {
      // 100 chunks over about a second; the client leaves after the first.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let sent = 0;
      const timer = setInterval(() => {
        if (sent++ === 100) {
          clearInterval(timer);
          res.end();
        } else res.write(chunk);
      }, 10);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (req.url === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      const timer = setInterval(() => res.write('data: tick\n\n'), 100);
      res.on('close', () => clearInterval(timer));
      return;
    }
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => res.end(JSON.stringify({ method: req.method, bytes })));
  });
  attachWsEcho(upstream, { greeting: true });
  return upstream;
}

function config(target: string, redisUrl: string, version: number): string {
  // Each version changes a header and adds or removes a route, so every reload builds new state.
  const extra = version % 2 ? `      - { path: /extra, respond: { status: 200, body: "v${version}" } }\n` : '';
  return `${E2E_PREAMBLE}redis: { url: "${redisUrl}", prefix: "soak:" }
upstreams:
  app: { targets: ["${target}"] }
hosts:
  soak.test:
    tls: off
    headers: { X-Config: "v${version}" }
    rateLimit: { rate: 20000/s, burst: 20000 }
    routes:
${extra}      - { path: /, upstream: app }
`;
}

t.test('a one-minute soak: no failed request; memory and descriptors return to their warm-up level', async (t) => {
  const upstream = await soakUpstream();
  t.teardown(() => upstream.close());
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  let version = 1;
  const p = await startOwnedPortico(t, { config: config(upstream.target, redis.url, version) });

  const failures: string[] = [];
  const counts = { aborted: 0, ws: 0, sse: 0 };
  let running = true;
  const host = 'soak.test';
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  // A client that reads the first chunk of a long response and leaves.
  const abortOne = () =>
    new Promise<void>((resolve) => {
      let left = false;
      const req = httpRequest({ host: '127.0.0.1', port: p.http, path: '/big', headers: { host }, agent: false }, (res) => {
        if (res.statusCode !== 200) failures.push(`abort loop: status ${res.statusCode}`);
        res.once('data', () => {
          left = true;
          counts.aborted++;
          req.destroy();
          resolve();
        });
        res.on('error', () => resolve());
      });
      req.on('error', (err) => {
        if (!left) failures.push(`abort loop: ${err.message}`);
        resolve();
      });
      req.setTimeout(15_000, () => req.destroy(new Error('timeout before the first chunk')));
      req.end();
    });
  const wsOne = async () => {
    try {
      const { ws } = await openWs(p.http, '/ws', { host });
      const echo = await roundTrip(ws, 'ping');
      if (echo !== 'echo:ping') failures.push(`ws: ${echo}`);
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close();
      });
      counts.ws++;
    } catch (err) {
      failures.push(`ws: ${(err as Error).message}`);
    }
  };
  const sseOne = async () => {
    try {
      const sse = await openSse(p.http, '/events', { host });
      if (sse.status !== 200) failures.push(`sse: status ${sse.status}`);
      await sse.waitFor(2);
      sse.close();
      counts.sse++;
    } catch (err) {
      failures.push(`sse: ${(err as Error).message}`);
    }
  };
  const loop = (one: () => Promise<void>, gapMs: number) =>
    (async () => {
      while (running) {
        await one();
        await pause(gapMs);
      }
    })();

  const post = 'p'.repeat(16 * 1024);
  const start = () => {
    running = true;
    return {
      gets: startTraffic({ port: p.http, host, path: '/', concurrency: 2, intervalMs: 5 }),
      posts: startTraffic({ port: p.http, host, path: '/upload', method: 'POST', body: post, headers: { 'content-type': 'text/plain' }, concurrency: 1, intervalMs: 10 }),
      loops: [loop(abortOne, 50), loop(wsOne, 100), loop(sseOne, 100)],
    };
  };
  const stop = async (load: ReturnType<typeof start>) => {
    running = false;
    const results = await Promise.all([load.gets.stop(), load.posts.stop()]);
    await Promise.all(load.loops);
    for (const r of results) for (const f of r.failures) failures.push(`${f.status ?? '-'} ${f.error ?? ''} ${f.body.slice(0, 80)}`);
    return results.reduce((n, r) => n + r.total, 0);
  };
  /** Waits for the gateway to settle once load stops: descriptors stable across half a second. */
  const settled = async () => {
    let last = usage(p.pid).fds;
    await eventually(
      async () => {
        await pause(500);
        const now = usage(p.pid).fds;
        const stable = now === last;
        last = now;
        return stable;
      },
      { within: 20_000, message: 'descriptors stable' },
    );
    return usage(p.pid);
  };

  // Warm-up: every kind of traffic once through, then a baseline at rest.
  let load = start();
  t.teardown(() => stop(load));
  await pause(WARM_UP_MS);
  let requests = await stop(load);
  const baseline = await settled();
  t.comment(`baseline after warm-up: RSS ${baseline.rssKb} kB, ${baseline.fds} fds`);

  // The soak: the same traffic with a reload every 5 s and one Redis restart half-way.
  load = start();
  const soakStart = Date.now();
  let restarted = false;
  while (Date.now() - soakStart < SOAK_MS) {
    await pause(RELOAD_EVERY_MS);
    version++;
    await p.writeConfig(config(upstream.target, redis.url, version));
    await p.waitForLog((l) => l.event === 'reload' && l.result === 'ok' && l.version === version, 10_000);
    if (!restarted && Date.now() - soakStart > SOAK_MS / 2) {
      restarted = true;
      await redis.stop();
      await p.waitForLog({ event: 'ratelimit_store', state: 'local' }, 15_000);
      await redis.restart();
    }
  }
  await p.waitForLog({ event: 'ratelimit_store', state: 'redis' }, 15_000);
  requests += await stop(load);
  t.comment(`${requests} requests, ${counts.aborted} aborted mid-response, ${counts.ws} WebSockets, ${counts.sse} SSE streams, ${version - 1} reloads`);

  t.same(failures, [], 'no request, WebSocket or SSE stream failed');
  t.ok(counts.aborted > 20 && counts.ws > 20 && counts.sse > 20, 'every kind of client ran');
  t.same(p.find({ event: 'reload', result: 'error' }), [], 'every reload was accepted');

  // Back at rest: no descriptor or memory left behind by the soak.
  const after = await eventually(
    async () => {
      const now = await settled();
      return now.fds <= baseline.fds * TOLERANCE && now.rssKb <= baseline.rssKb * TOLERANCE ? now : undefined;
    },
    { within: 30_000, message: `RSS and fds within 15 % of ${baseline.rssKb} kB / ${baseline.fds}` },
  ).catch(() => usage(p.pid));
  t.comment(`after the soak: RSS ${after.rssKb} kB, ${after.fds} fds`);
  t.ok(after.fds <= baseline.fds * TOLERANCE, `open fds ${after.fds} within 15 % of ${baseline.fds}`);
  t.ok(after.rssKb <= baseline.rssKb * TOLERANCE, `RSS ${after.rssKb} kB within 15 % of ${baseline.rssKb} kB`);
});

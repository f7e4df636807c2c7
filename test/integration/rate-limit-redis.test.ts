import { performance } from 'node:perf_hooks';
import t from 'tap';
import type { RateLimitConfig } from '../../src/config/config-types.js';
import type { TakeResult } from '../../src/ratelimit/bucket-store.js';
import { createFallbackBucketStore, type FallbackBucketStore } from '../../src/ratelimit/fallback-bucket-store.js';
import { createLocalBucketStore } from '../../src/ratelimit/local-bucket-store.js';
import { createRedisBucketStore } from '../../src/ratelimit/redis-bucket-store.js';
import { createRedisConnection, type RedisConnection } from '../../src/store/redis-connection.js';
import { eventually } from '../helpers/eventually.js';
import { request, type Reply } from '../helpers/http-request.js';
import { createLogSink } from '../helpers/log-sink.js';
import { PREAMBLE, startPortico, type Portico } from '../helpers/start-portico.js';
import { startRedis } from '../helpers/start-redis.js';

// SPEC §3 Rate limiting with `redis`, at two levels, each with its own redis-server because
// both kill and restart it: the bucket stores directly, then two real Portico instances.

/** The shared log sink, shaped as { lines, log } for these tests. */
function logSink(): { lines: Record<string, unknown>[]; log: ReturnType<typeof createLogSink>['logger'] } {
  const sink = createLogSink();
  return { lines: sink.lines, log: sink.logger };
}

function limitOf(ratePerSec: number, burst: number): RateLimitConfig {
  return { ratePerSec, burst, key: { kind: 'ip' }, id: `${ratePerSec}:${burst}:ip` };
}

t.test('bucket stores on a real Redis', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const prefix = `test${process.pid}:`;

  function connect(t: { teardown(fn: () => unknown): void }, log = logSink().log): RedisConnection {
    const conn = createRedisConnection({ url: redis.url, prefix }, log);
    t.teardown(() => conn.close());
    return conn;
  }

  async function countAllowed(takes: Array<TakeResult | Promise<TakeResult>>): Promise<number> {
    return (await Promise.all(takes)).filter((r) => r.allowed).length;
  }

  await t.test('two instances sharing one Redis admit exactly burst in total', async (t) => {
    const connA = connect(t);
    const connB = connect(t);
    await eventually(() => connA.client.status === 'ready' && connB.client.status === 'ready');
    const a = createRedisBucketStore(connA);
    const b = createRedisBucketStore(connB);
    const limit = limitOf(0.001, 5);
    const takes = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).take('shared', limit));
    t.equal(await countAllowed(takes), 5);

    const ttl = await connA.client.pttl(`${prefix}rl:shared`);
    t.ok(ttl > 0 && ttl <= 5_000_000, `PEXPIRE is about the time to refill (${ttl} ms)`);
    const rejected = await a.take('shared', limit);
    t.same(rejected, { allowed: false, remaining: 0, retryAfterMs: rejected.retryAfterMs });
    t.ok(rejected.retryAfterMs > 900_000, 'retry after ~1000 s at 0.001/s');
  });

  await t.test('the bucket refills on the Redis clock; rejected takes do not consume', async (t) => {
    const conn = connect(t);
    await eventually(() => conn.client.status === 'ready');
    const store = createRedisBucketStore(conn);
    const limit = limitOf(20, 2);
    t.same(await store.take('refill', limit), { allowed: true, remaining: 1, retryAfterMs: 0 });
    t.same(await store.take('refill', limit), { allowed: true, remaining: 0, retryAfterMs: 0 });
    const rejected = await store.take('refill', limit);
    t.equal(rejected.allowed, false);
    t.ok(rejected.retryAfterMs >= 1 && rejected.retryAfterMs <= 50, `one token in <= 50 ms (${rejected.retryAfterMs})`);
    await eventually(async () => (await store.take('refill', limit)).allowed);
    t.equal((await store.take('refill', limit)).allowed, false, 'exactly one token came back');
  });

  await t.test('the EVALSHA script survives SCRIPT FLUSH (EVAL fallback)', async (t) => {
    const conn = connect(t);
    await eventually(() => conn.client.status === 'ready');
    const store = createRedisBucketStore(conn);
    await store.take('flush', limitOf(1, 3));
    await conn.client.script('FLUSH');
    t.same(await store.take('flush', limitOf(1, 3)), { allowed: true, remaining: 1, retryAfterMs: 0 });
  });

  await t.test('Redis outage: fallback answers fast and locally, then goes back to Redis', async (t) => {
    const sinkA = logSink();
    const sinkConnA = logSink();
    const connA = connect(t, sinkConnA.log);
    const connB = connect(t);
    await eventually(() => connA.client.status === 'ready' && connB.client.status === 'ready');
    const fallback = (conn: RedisConnection, log = logSink().log): FallbackBucketStore => {
      const store = createFallbackBucketStore({
        primary: createRedisBucketStore(conn),
        local: createLocalBucketStore(),
        probe: () => conn.client.ping(),
        log,
        probeIntervalMs: 50,
      });
      t.teardown(() => store.close());
      return store;
    };
    const a = fallback(connA, sinkA.log);
    const b = fallback(connB);
    const limit = limitOf(0.001, 4);
    const shared = (key: string): Array<TakeResult | Promise<TakeResult>> =>
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).take(key, limit));

    t.equal(await countAllowed(shared('before')), 4, 'shared while Redis is up');
    t.equal(a.usingFallback(), false);

    let reconnects = 0;
    connA.client.on('reconnecting', () => reconnects++);
    await redis.stop();
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const result = await a.take('outage', limit);
      const elapsed = performance.now() - started;
      t.ok(elapsed < 300, `take ${i} answered in ${elapsed.toFixed(1)} ms`);
      t.equal(result.allowed, i < 4, `take ${i} answered by a local bucket`);
    }
    t.equal(a.usingFallback(), true);
    await eventually(() => reconnects >= 3);
    const storeEvents = sinkA.lines.filter((l) => l.event === 'ratelimit_store' && l.state !== 'probe_failed');
    t.match(storeEvents, [{ state: 'local', code: 'PORTICO_STORE_UNAVAILABLE' }], 'logged once');
    const downs = sinkConnA.lines.filter((l) => l.event === 'redis' && l.state === 'down');
    t.equal(downs.length, 1, `one "down" event across ${reconnects} reconnect attempts`);

    await redis.restart();
    await eventually(() => !a.usingFallback());
    await eventually(() => connB.client.status === 'ready');
    t.equal(b.usingFallback(), false, 'b never needed Redis during the outage');
    t.match(
      sinkA.lines.filter((l) => l.event === 'ratelimit_store' && l.state !== 'probe_failed'),
      [{ state: 'local' }, { state: 'redis' }],
    );
    t.ok(sinkConnA.lines.some((l) => l.event === 'redis' && l.state === 'up'));
    t.equal(await countAllowed(shared('after')), 4, 'shared again after Redis returned');
  });

  await t.test('a frozen Redis (no replies) costs at most the command timeout', async (t) => {
    const conn = connect(t);
    await eventually(() => conn.client.status === 'ready');
    const sink = logSink();
    const store = createFallbackBucketStore({
      primary: createRedisBucketStore(conn),
      local: createLocalBucketStore(),
      probe: () => conn.client.ping(),
      log: sink.log,
      probeIntervalMs: 50,
    });
    t.teardown(() => store.close());
    const limit = limitOf(0.001, 2);
    t.equal((await store.take('frozen', limit)).allowed, true);

    const pid = redis.pid;
    process.kill(pid, 'SIGSTOP');
    t.teardown(() => {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // Already gone: the server was killed by its own teardown.
      }
    });
    const results = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const started = performance.now();
        const result = await store.take('frozen', limit);
        return { result, elapsed: performance.now() - started };
      }),
    );
    for (const { elapsed } of results) t.ok(elapsed < 300, `answered in ${elapsed.toFixed(1)} ms`);
    t.equal(results.filter((r) => r.result.allowed).length, 2, 'a full local bucket answered');
    t.equal(store.usingFallback(), true);
    const started = performance.now();
    await store.take('frozen', limit);
    const elapsed = performance.now() - started;
    t.ok(elapsed < 50, `once down, takes skip Redis and do not wait for the timeout (${elapsed.toFixed(1)} ms)`);

    process.kill(pid, 'SIGCONT');
    await eventually(() => !store.usingFallback());
    // Timed-out commands were already written and ran once Redis woke up, so the 'frozen' bucket
    // is in an unknown state; a fresh key shows the store writes to Redis again.
    const one = limitOf(0.001, 1);
    t.equal((await store.take('thawed', one)).allowed, true);
    const direct = createRedisBucketStore(connect(t));
    await eventually(async () => (await direct.take('probe-ready', one).then(() => true, () => false)));
    t.equal((await direct.take('thawed', one)).allowed, false, 'the token was taken in Redis');
  });
});

// SPEC §3 Rate limiting with `redis`: two real Portico instances share each bucket through one
// real redis-server; when Redis dies each instance falls back to local buckets (logged, gauge
// set, no 5xx, no waiting), and goes back to Redis when it returns.

const BURST = 5;
const body = `
hosts:
  shared.test:
    tls: off
    routes: [ { respond: { body: "ok\\n" }, rateLimit: { rate: 1/m, burst: ${BURST}, key: "header:X-Api-Key" } } ]
  tight.test:
    tls: off
    rateLimit: { rate: 1/m, burst: 5 }
    routes:
      - { path: /tight, respond: { body: "tight\\n" }, rateLimit: { rate: 1/m, burst: 2 } }
      - { respond: { body: "other\\n" } }
`;

t.test('two Portico instances sharing a real Redis', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());

  // A fresh prefix per run: the same redis-server is never shared, but keys must not collide
  // with anything a previous run might have left if the port is reused.
  const preamble = `${PREAMBLE}redis: { url: "${redis.url}", prefix: "rl-it-${process.pid}:" }\n`;

  const a = await startPortico(body, { preamble });
  t.teardown(() => a.close());
  const b = await startPortico(body, { preamble });
  t.teardown(() => b.close());
  const instances: Portico[] = [a, b];

  function send(p: Portico, apiKey: string): Promise<Reply> {
    return request(p.http, '/', { headers: { host: 'shared.test', 'x-api-key': apiKey }, timeoutMs: 5000 });
  }

  /** `n` requests alternating between the instances; returns their statuses in order. */
  async function alternate(n: number, apiKey: string): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await send(instances[i % 2]!, apiKey)).status);
    return out;
  }

  async function fallbackGauge(p: Portico): Promise<number> {
    const metrics = await request(p.admin, '/metrics');
    const line = metrics.body.split('\n').find((l) => l.startsWith('portico_ratelimit_local_fallback '));
    return Number(line?.split(' ')[1] ?? 'NaN');
  }

  await eventually(() => instances.every((p) => p.logs.find({ event: 'redis', state: 'up' }) !== undefined), {
    within: 5000,
    message: 'both instances connected to Redis',
  });

  await t.test('two instances share one bucket: burst 5 admits exactly 5 in total, not 10', async (t) => {
    const got = await alternate(4 * BURST, 'k-shared');
    t.equal(got.filter((s) => s === 200).length, BURST, `admitted: ${got.join(',')}`);
    t.equal(got.filter((s) => s === 429).length, 3 * BURST);
    t.same(got.slice(0, BURST), Array(BURST).fill(200), 'the first five, whichever instance');
    for (const p of instances) t.equal(await fallbackGauge(p), 0, 'not on the local fallback');
  });

  await t.test('with Redis, a request the route limit rejects gives its host token back', async (t) => {
    const on = (p: Portico, path: string) => request(p.http, path, { headers: { host: 'tight.test' } });
    const tight: number[] = [];
    // All on one instance: its refunds travel on the same connection, ahead of its next take.
    for (let i = 0; i < 8; i++) tight.push((await on(a, '/tight')).status);
    t.same(tight, [200, 200, 429, 429, 429, 429, 429, 429], 'route burst 2');
    const other: number[] = [];
    for (let i = 0; i < 3; i++) other.push((await on(a, '/')).status);
    t.same(other, [200, 200, 200], 'the shared host bucket (burst 5) lost only the 2 admitted requests');
    await eventually(async () => (await on(b, '/')).status === 429, { within: 2000, message: 'the host bucket is shared' });
  });

  await t.test('Redis dies: both instances keep serving from local buckets, fast, with no 5xx', async (t) => {
    await redis.stop();
    const statuses: number[] = [];
    let slowest = 0;
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const r = await send(instances[i % 2]!, 'k-outage');
      slowest = Math.max(slowest, performance.now() - started);
      statuses.push(r.status);
    }
    t.ok(statuses.every((s) => s === 200 || s === 429), `only 200/429 (${statuses.join(',')})`);
    t.ok(slowest < 1000, `each request completed quickly (slowest ${slowest.toFixed(0)} ms)`);
    // Local buckets: each instance admits its own burst for this key.
    t.equal(statuses.filter((s) => s === 200).length, 2 * BURST, 'each instance admits its own burst locally');

    for (const p of instances) {
      await eventually(() => p.logs.find({ event: 'ratelimit_store', state: 'local' }), { message: 'fallback logged' });
      t.equal(await fallbackGauge(p), 1, 'portico_ratelimit_local_fallback is 1');
    }
    t.equal(a.logs.filter({ event: 'ratelimit_store', state: 'local' }).length, 1, 'the outage is logged once, not per request');
  });

  await t.test('Redis returns: both instances go back to it and share buckets again', async (t) => {
    await redis.restart();
    for (const p of instances) {
      await eventually(() => p.logs.find({ event: 'ratelimit_store', state: 'redis' }), { within: 10_000, message: 'back on Redis' });
      t.equal(await fallbackGauge(p), 0, 'gauge back to 0');
    }
    const got = await alternate(4 * BURST, 'k-after');
    t.equal(got.filter((s) => s === 200).length, BURST, `shared again: ${got.join(',')}`);
    t.ok(got.every((s) => s === 200 || s === 429));
  });
});

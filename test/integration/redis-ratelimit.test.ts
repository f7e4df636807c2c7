import { performance } from 'node:perf_hooks';
import t from 'tap';
import type { RateLimitConfig } from '../../src/config/config-types.js';
import type { TakeResult } from '../../src/ratelimit/bucket-store.js';
import { createFallbackBucketStore, type FallbackBucketStore } from '../../src/ratelimit/fallback-bucket-store.js';
import { createLocalBucketStore } from '../../src/ratelimit/local-bucket-store.js';
import { createRedisBucketStore } from '../../src/ratelimit/redis-bucket-store.js';
import { createRedisConnection, type RedisConnection } from '../../src/store/redis-connection.js';
import { eventually } from '../helpers/eventually.js';
import { createLogSink } from '../helpers/log-sink.js';
import { startRedis } from '../helpers/start-redis.js';

/** The shared log sink, shaped as { lines, log } for these tests. */
function logSink(): { lines: Record<string, unknown>[]; log: ReturnType<typeof createLogSink>['logger'] } {
  const sink = createLogSink();
  return { lines: sink.lines, log: sink.logger };
}

function limitOf(ratePerSec: number, burst: number): RateLimitConfig {
  return { ratePerSec, burst, key: { kind: 'ip' }, id: `${ratePerSec}:${burst}:ip` };
}

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

t.test('two instances sharing one Redis admit exactly burst in total', async (t) => {
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

t.test('the bucket refills on the Redis clock; rejected takes do not consume', async (t) => {
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

t.test('the EVALSHA script survives SCRIPT FLUSH (EVAL fallback)', async (t) => {
  const conn = connect(t);
  await eventually(() => conn.client.status === 'ready');
  const store = createRedisBucketStore(conn);
  await store.take('flush', limitOf(1, 3));
  await conn.client.script('FLUSH');
  t.same(await store.take('flush', limitOf(1, 3)), { allowed: true, remaining: 1, retryAfterMs: 0 });
});

t.test('Redis outage: fallback answers fast and locally, then goes back to Redis', async (t) => {
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

t.test('a frozen Redis (no replies) costs at most the command timeout', async (t) => {
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

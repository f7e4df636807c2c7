import { performance } from 'node:perf_hooks';
import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { request, type Reply } from '../helpers/http-request.js';
import { PREAMBLE, startPortico, type Portico } from '../helpers/start-portico.js';
import { startRedis } from '../helpers/start-redis.js';

// SPEC §3 Rate limiting with `redis`: two real Portico instances share each bucket through one
// real redis-server; when Redis dies each instance falls back to local buckets (logged, gauge
// set, no 5xx, no waiting), and goes back to Redis when it returns.

const redis = await startRedis();
t.teardown(() => redis.stop());

// A fresh prefix per run: the same redis-server is never shared, but keys must not collide
// with anything a previous run might have left if the port is reused.
const preamble = `${PREAMBLE}redis: { url: "${redis.url}", prefix: "rl-it-${process.pid}:" }\n`;
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

t.test('two instances share one bucket: burst 5 admits exactly 5 in total, not 10', async (t) => {
  const got = await alternate(4 * BURST, 'k-shared');
  t.equal(got.filter((s) => s === 200).length, BURST, `admitted: ${got.join(',')}`);
  t.equal(got.filter((s) => s === 429).length, 3 * BURST);
  t.same(got.slice(0, BURST), Array(BURST).fill(200), 'the first five, whichever instance');
  for (const p of instances) t.equal(await fallbackGauge(p), 0, 'not on the local fallback');
});

t.test('with Redis, a request the route limit rejects gives its host token back', async (t) => {
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

t.test('Redis dies: both instances keep serving from local buckets, fast, with no 5xx', async (t) => {
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

t.test('Redis returns: both instances go back to it and share buckets again', async (t) => {
  await redis.restart();
  for (const p of instances) {
    await eventually(() => p.logs.find({ event: 'ratelimit_store', state: 'redis' }), { within: 10_000, message: 'back on Redis' });
    t.equal(await fallbackGauge(p), 0, 'gauge back to 0');
  }
  const got = await alternate(4 * BURST, 'k-after');
  t.equal(got.filter((s) => s === 200).length, BURST, `shared again: ${got.join(',')}`);
  t.ok(got.every((s) => s === 200 || s === 429));
});

import { Redis } from 'ioredis';
import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { startRedis } from '../helpers/start-redis.js';
import { E2E_PREAMBLE, startOwnedPortico } from './helpers/portico-process.js';
import { startTraffic } from './helpers/traffic.js';

// SPEC §3 Rate limiting: with `redis`, buckets live in Redis; if Redis is unreachable each
// instance falls back to local buckets and keeps serving (logged), and goes back to Redis when
// it returns. Here redis-server is killed (SIGKILL, like a crash) and started again on the same
// port while traffic runs through a rate-limited host.

/** 429 is a rate limit doing its job; anything else outside 2xx/3xx, or no answer, is a failure. */
const servedOrLimited = (status: number) => (status >= 200 && status < 400) || status === 429;

t.test('Redis killed and restarted under traffic: no failed request, one log line each way, back on Redis', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const p = await startOwnedPortico(t, {
    config: `${E2E_PREAMBLE}redis: { url: "${redis.url}", prefix: "e2e:" }
hosts:
  limited.test:
    tls: off
    rateLimit: { rate: 5000/s, burst: 5000 }
    routes:
      - { respond: { status: 200, body: "ok" } }
`,
  });
  const inspect = new Redis(redis.port, '127.0.0.1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 200 });
  inspect.on('error', () => {}); // the test kills this server on purpose
  t.teardown(() => inspect.disconnect());
  await inspect.connect();
  const fallback = async () => {
    const metrics = (await request(p.admin, '/metrics', { headers: { host: '127.0.0.1' } })).body;
    return Number(/^portico_ratelimit_local_fallback (\d+)/m.exec(metrics)?.[1]);
  };

  const traffic = startTraffic({ port: p.http, host: 'limited.test', path: '/', concurrency: 4, intervalMs: 2, ok: servedOrLimited });
  t.teardown(() => traffic.stop());
  await eventually(async () => (await inspect.keys('e2e:rl:*')).length > 0, { within: 10_000, message: 'buckets in Redis' });
  t.equal(await fallback(), 0, 'on Redis before the outage');

  await redis.stop();
  await p.waitForLog({ event: 'ratelimit_store', state: 'local' }, 15_000);
  t.equal(await fallback(), 1, 'the metric shows the local fallback');
  const duringOutage = traffic.results.length;
  await eventually(() => traffic.results.length > duringOutage + 200, { within: 15_000, message: '200 requests during the outage' });

  await redis.restart();
  await p.waitForLog({ event: 'ratelimit_store', state: 'redis' }, 15_000);
  await inspect.connect().catch(() => {}); // ioredis may already be reconnecting on its own
  await eventually(async () => (await inspect.keys('e2e:rl:*')).length > 0, { within: 10_000, message: 'buckets in the restarted Redis' });
  t.equal(await fallback(), 0, 'back on Redis');

  const { total, failures, results } = await traffic.stop();
  t.ok(total > 400, `${total} requests`);
  t.same(failures, [], 'no request failed');
  t.equal(results.filter((r) => r.status === 429).length, 0, 'the generous limit refused nobody');
  t.equal(p.find({ event: 'ratelimit_store', state: 'local' }).length, 1, 'the fallback is logged once');
  t.equal(p.find({ event: 'ratelimit_store', state: 'redis' }).length, 1, 'the return to Redis is logged once');
  t.equal(p.find({ event: 'redis', state: 'down' }).length, 1, 'the outage of the connection is logged once, not per retry');
});

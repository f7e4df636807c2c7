import { performance } from 'node:perf_hooks';
import t, { type Test } from 'tap';
import { WebSocket } from 'ws';
import { eventually } from '../helpers/eventually.js';
import { request, type Reply } from '../helpers/http-request.js';
import { startPortico } from '../helpers/start-portico.js';
import { echoHandler } from '../helpers/start-upstream.js';
import { startWsEchoUpstream, tryWs, type WsAttempt } from '../helpers/streams.js';

// SPEC §3 Rate limiting (and Client IP as the default key), through a real Portico with the
// local bucket store. trustedProxies: [127.0.0.1] lets each test be its own client via
// X-Forwarded-For, so buckets never leak between tests.

const upstream = await startWsEchoUpstream(t, echoHandler('app'), { greeting: false });

const portico = await startPortico(`
trustedProxies: [127.0.0.1]
hosts:
  burst.test:
    tls: off
    rateLimit: { rate: 10/s, burst: 3 }
    routes: [ { upstream: "${upstream.target}" } ]
  both.test:
    tls: off
    rateLimit: { rate: 1/m, burst: 3 }
    routes: [ { upstream: "${upstream.target}", rateLimit: { rate: 1/m, burst: 5 } } ]
  route-tighter.test:
    tls: off
    rateLimit: { rate: 1/m, burst: 5 }
    routes:
      - { path: /tight, upstream: "${upstream.target}", rateLimit: { rate: 1/m, burst: 2 } }
      - { upstream: "${upstream.target}" }
  apikey.test:
    tls: off
    routes: [ { upstream: "${upstream.target}", rateLimit: { rate: 1/m, burst: 2, key: "header:X-Api-Key" } } ]
  ip.test:
    tls: off
    rateLimit: { rate: 1/m, burst: 2 }
    routes: [ { respond: { body: "ok\\n" } } ]
  ws.test:
    tls: off
    rateLimit: { rate: 1/m, burst: 1 }
    routes: [ { upstream: "${upstream.target}" } ]
`);
t.teardown(() => portico.close());

function get(host: string, ip: string, path = '/', headers: Record<string, string> = {}): Promise<Reply> {
  return request(portico.http, path, { headers: { host, 'x-forwarded-for': ip, ...headers } });
}

async function statuses(n: number, send: () => Promise<Reply>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send()).status);
  return out;
}

const count = (list: number[], status: number) => list.filter((s) => s === status).length;

function checkTooMany(t: Test, r: Reply, burst: number): void {
  t.equal(r.status, 429);
  const retryAfter = String(r.headers['retry-after']);
  t.match(retryAfter, /^\d+$/, `Retry-After is whole seconds (${retryAfter})`);
  t.ok(Number(retryAfter) >= 1, 'Retry-After >= 1');
  t.equal(r.headers['ratelimit-limit'], String(burst), 'RateLimit-Limit');
  t.equal(r.headers['ratelimit-remaining'], '0', 'RateLimit-Remaining');
  t.match(String(r.headers['ratelimit-reset']), /^\d+$/, 'RateLimit-Reset');
}

t.test('burst passes, then 429 with Retry-After, then the bucket refills', async (t) => {
  const ip = '10.1.0.1';
  const before = upstream.requests.length;
  t.same(await statuses(3, () => get('burst.test', ip)), [200, 200, 200], 'the burst of 3 passes at once');
  const rejected = await get('burst.test', ip);
  const rejectedAt = performance.now();
  checkTooMany(t, rejected, 3);
  t.equal(upstream.requests.length, before + 3, 'a rejected request never reaches the upstream');

  // 10/s: one token every 100 ms. This gap is what is under test, so it is waited for.
  await eventually(async () => (await get('burst.test', ip)).status === 200, { within: 1000, message: 'a refilled token' });
  const waitedMs = performance.now() - rejectedAt;
  t.ok(waitedMs >= 50, `the refill took time (${waitedMs.toFixed(0)} ms), it was not a reset`);
  t.equal((await get('burst.test', ip)).status, 429, 'one token only: the next one is rejected again');
});

t.test('rejected requests do not consume tokens', async (t) => {
  const ip = '10.1.0.2';
  t.same(await statuses(3, () => get('burst.test', ip)), [200, 200, 200]);
  // 15 rejected requests at once: if each cost a token, the bucket would owe 1.5 s of refill.
  const storm = await Promise.all(Array.from({ length: 15 }, () => get('burst.test', ip)));
  t.ok(count(storm.map((r) => r.status), 200) <= 1, 'the storm is rejected (one may catch a refill)');
  await eventually(async () => (await get('burst.test', ip)).status === 200, { within: 600, message: 'admitted after about one refill interval' });
});

t.test('a host limit and a route limit both apply', async (t) => {
  const hostTighter = await statuses(8, () => get('both.test', '10.1.1.1'));
  t.equal(count(hostTighter, 200), 3, 'host burst 3 < route burst 5: only 3 pass');
  t.equal(count(hostTighter, 429), 5);
  t.same(hostTighter.slice(0, 3), [200, 200, 200], 'and they are the first three');

  const routeTighter = await statuses(8, () => get('route-tighter.test', '10.1.1.2', '/tight'));
  t.equal(count(routeTighter, 200), 2, 'route burst 2 < host burst 5: only 2 pass');
  // The 6 requests the route limit rejected took no host tokens (SPEC §3: rejected requests
  // do not consume tokens), so 5 - 2 = 3 are left for the host's other routes.
  t.same(await statuses(4, () => get('route-tighter.test', '10.1.1.2', '/other')), [200, 200, 200, 429], 'the host bucket lost only the 2 admitted requests');
});

t.test('key: header:X-Api-Key gives each key its own bucket; no header falls back to the client IP', async (t) => {
  const ip = '10.1.2.1';
  const key = (k: string) => () => get('apikey.test', ip, '/', { 'x-api-key': k });
  t.same(await statuses(3, key('alpha')), [200, 200, 429], 'key alpha: burst 2');
  t.same(await statuses(3, key('beta')), [200, 200, 429], 'key beta has its own bucket, same client IP');
  t.same(await statuses(3, () => get('apikey.test', ip)), [200, 200, 429], 'no header: keyed by the client IP, not by alpha/beta');
  t.same(await statuses(3, () => get('apikey.test', '10.1.2.2')), [200, 200, 429], 'no header from another IP: another bucket');
  t.same(await statuses(1, key('gamma')), [200], 'a new key from the exhausted IP still passes');
  t.same(await statuses(3, key('10.1.2.3')), [200, 200, 429], 'a key that looks like an IP…');
  t.same(await statuses(1, () => get('apikey.test', '10.1.2.3')), [200], '…does not share that IP\'s bucket');
});

t.test('trusted proxy: each X-Forwarded-For client has its own bucket', async (t) => {
  t.same(await statuses(3, () => get('ip.test', '10.1.3.1')), [200, 200, 429]);
  t.same(await statuses(3, () => get('ip.test', '10.1.3.2')), [200, 200, 429], 'another client, another bucket');
  t.same(await statuses(1, () => get('ip.test', '10.1.3.2, 10.1.3.3')), [200], 'the right-most untrusted hop is the client');
});

t.test('without trustedProxies X-Forwarded-For is ignored: one bucket per TCP peer', async (t) => {
  const p = await startPortico(`
hosts:
  ip.test:
    tls: off
    rateLimit: { rate: 1/m, burst: 2 }
    routes: [ { respond: { body: "ok\\n" } } ]
`);
  t.teardown(() => p.close());
  const send = (ip: string) => request(p.http, '/', { headers: { host: 'ip.test', 'x-forwarded-for': ip } });
  t.equal((await send('10.2.0.1')).status, 200);
  t.equal((await send('10.2.0.2')).status, 200);
  t.equal((await send('10.2.0.3')).status, 429, 'forged client addresses share the peer\'s bucket');
});

t.test('a reload keeps the buckets of an unchanged limit and starts a changed limit fresh', async (t) => {
  const config = (burst: number, extra: string) => `
hosts:
  r.test:
    tls: off
    rateLimit: { rate: 1/m, burst: ${burst} }
    routes: [ { respond: { body: "ok\\n" } } ]
${extra}`;
  const p = await startPortico(config(2, ''));
  t.teardown(() => p.close());
  const send = () => request(p.http, '/', { headers: { host: 'r.test' } });
  const reloaded = async (body: string) => {
    const before = p.logs.filter({ event: 'reload', result: 'ok' }).length;
    await p.writeConfig(body);
    await eventually(() => p.logs.filter({ event: 'reload', result: 'ok' }).length > before, { message: 'reload logged' });
  };
  t.same(await statuses(3, send), [200, 200, 429], 'exhausted');

  await reloaded(config(2, `  other.test:\n    tls: off\n    routes: [ { respond: { body: "other" } } ]\n`));
  t.equal((await request(p.http, '/', { headers: { host: 'other.test' } })).body, 'other', 'the unrelated change is live');
  t.equal((await send()).status, 429, 'the unchanged limit kept its exhausted bucket');

  await reloaded(config(3, ''));
  t.same(await statuses(4, send), [200, 200, 200, 429], 'the changed limit (burst 3) starts with a full bucket');
});

async function rateLimitedTotal(scope: string): Promise<number> {
  const metrics = await request(portico.admin, '/metrics');
  const line = metrics.body.split('\n').find((l) => l.startsWith(`portico_rate_limited_total{scope="${scope}"}`));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

t.test('portico_rate_limited_total counts rejected requests on admin /metrics', async (t) => {
  const scope = 'host:ip.test';
  const before = await rateLimitedTotal(scope);
  t.same(await statuses(5, () => get('ip.test', '10.1.4.1')), [200, 200, 429, 429, 429]);
  t.equal(await rateLimitedTotal(scope), before + 3);
});

function openWs(host: string, ip: string): Promise<WsAttempt> {
  return tryWs(portico.http, { host, 'x-forwarded-for': ip });
}

t.test('rate limits apply to WebSocket upgrades: 429 on the upgrade', async (t) => {
  const first = await openWs('ws.test', '10.1.5.1');
  const ws = first.ws;
  if (ws === undefined) throw new Error(`first upgrade refused with ${first.status}`);
  t.teardown(() => ws.terminate());
  const echoed = await new Promise<string>((resolve) => {
    ws.once('message', (data) => resolve(data.toString()));
    ws.send('hi');
  });
  t.equal(echoed, 'echo:hi', 'the first upgrade (burst 1) is proxied');

  const second = await openWs('ws.test', '10.1.5.1');
  t.equal(second.status, 429, 'the second upgrade is refused');
  t.match(String(second.headers?.['retry-after']), /^\d+$/, 'with Retry-After');
  t.notOk(second.ws);
  t.equal((await get('ws.test', '10.1.5.1')).status, 429, 'plain requests share the bucket');
});

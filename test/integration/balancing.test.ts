import type { IncomingMessage, ServerResponse } from 'node:http';
import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { startPortico } from '../helpers/start-portico.js';
import { echoHandler, startUpstream, type Upstream } from '../helpers/start-upstream.js';

// SPEC §3 Balancing: round_robin, least_conn, ip_hash (rendezvous: only the clients of a target
// that leaves or returns move) and active health checks visible in the admin API, the
// `portico_upstream_target_up` metric and `{event:"health"}` log lines.

interface Target extends Upstream {
  /** Flip to make the target's health check fail. */
  readonly health: { ok: boolean };
}

/** An upstream that answers with its name, and whose /live answers 503 while `healthy` is false. */
async function target(name: string): Promise<Target> {
  const echo = echoHandler(name);
  const health = { ok: true };
  const u = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/live') {
      res.writeHead(health.ok ? 200 : 503).end();
      return;
    }
    echo(req, res);
  });
  t.teardown(() => u.close());
  return { ...u, close: u.close, health };
}

const rr = await Promise.all(['rr-a', 'rr-b', 'rr-c'].map(target));
const ih = await Promise.all(['ih-a', 'ih-b', 'ih-c'].map(target));
const lcFast = await target('lc-fast');
const held: ServerResponse[] = [];
let onHeld: (() => void) | undefined;
const lcSlow = await startUpstream((_req, res) => {
  held.push(res); // answered only when released
  onHeld?.();
});
t.teardown(() => lcSlow.close());
t.teardown(() => held.forEach((res) => res.end('late')));

const portico = await startPortico(`
trustedProxies: [127.0.0.1]
upstreams:
  rr: { targets: [${rr.map((u) => `"${u.target}"`).join(', ')}] }
  lc: { targets: ["${lcSlow.target}", "${lcFast.target}"], balance: least_conn }
  ih:
    targets: [${ih.map((u) => `"${u.target}"`).join(', ')}]
    balance: ip_hash
    healthCheck: { path: /live, interval: 50ms, timeout: 500ms, unhealthyAfter: 2, healthyAfter: 1 }
hosts:
  lb.test:
    tls: off
    routes:
      - { path: /rr, upstream: rr }
      - { path: /lc, upstream: lc }
      - { path: /ih, upstream: ih }
`);
t.teardown(() => portico.close());

/** Name of the target that served a request from `clientIp` (simulated through a trusted proxy). */
async function servedBy(path: string, clientIp?: string): Promise<string> {
  const r = await request(portico.http, path, { headers: { host: 'lb.test', ...(clientIp ? { 'x-forwarded-for': clientIp } : {}) } });
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.body}`);
  return (JSON.parse(r.body) as { name: string }).name;
}

async function admin(path: string): Promise<string> {
  return (await request(portico.admin, path, { headers: { host: '127.0.0.1' } })).body;
}

async function upHealth(name: string): Promise<boolean[]> {
  const view = JSON.parse(await admin('/upstreams')) as Record<string, { targets: { url: string; healthy: boolean }[] }>;
  return view[name]!.targets.map((x) => x.healthy);
}

t.test('round_robin spreads requests evenly over the targets', async (t) => {
  const counts: Record<string, number> = {};
  for (let i = 0; i < 30; i++) {
    const name = await servedBy('/rr');
    counts[name] = (counts[name] ?? 0) + 1;
  }
  t.same(counts, { 'rr-a': 10, 'rr-b': 10, 'rr-c': 10 });
});

t.test('least_conn avoids the target that still has a request in flight', async (t) => {
  let slowSeen = 0;
  let fast = 0;
  for (let i = 0; i < 20; i++) {
    // Either the fast target answers, or the slow one holds the request (left in flight).
    const heldNow = new Promise<string>((resolve) => (onHeld = () => resolve('held')));
    const reply = request(portico.http, '/lc', { headers: { host: 'lb.test' } }).then(() => 'answered');
    reply.catch(() => {});
    const outcome = await Promise.race([reply, heldNow]);
    onHeld = undefined;
    if (outcome === 'held') slowSeen++;
    else fast++;
  }
  t.ok(slowSeen <= 1, `the slow target got at most one request (${slowSeen}); round robin would give it 10`);
  t.ok(fast >= 19);
  const view = JSON.parse(await admin('/upstreams')) as Record<string, { targets: { url: string; inFlight: number }[] }>;
  t.same(view.lc!.targets.map((x) => x.inFlight), [slowSeen, 0], '/upstreams shows the in-flight count');
  held.splice(0).forEach((res) => res.end('late'));
});

t.test('ip_hash keeps each client on one target, and only the clients of a leaving target move', async (t) => {
  const clients = Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1}`);
  const home = new Map<string, string>();
  for (const ip of clients) {
    const first = await servedBy('/ih', ip);
    t.equal(await servedBy('/ih', ip), first, `${ip} sticks`);
    t.equal(await servedBy('/ih', `203.0.113.250, ${ip}`), first, `${ip}: an untrusted earlier hop does not change the client`);
    home.set(ip, first);
  }
  const used = new Set(home.values());
  t.ok(used.size === 3, `clients spread over every target (${[...used].join(', ')})`);

  // Take ih-b down through its health check.
  const [, b] = ih;
  b!.health.ok = false;
  await eventually(async () => (await upHealth('ih'))[1] === false, { within: 3000, message: 'ih-b marked down' });
  t.same(await upHealth('ih'), [true, false, true], 'GET /upstreams shows the transition');
  t.match(await admin('/metrics'), new RegExp(`portico_upstream_target_up\\{upstream="ih",target="${b!.url}"\\} 0`));
  t.match(portico.logs.find({ event: 'health', target: b!.url, healthy: false }), { upstream: 'ih', healthy: false });

  for (const ip of clients) {
    const now = await servedBy('/ih', ip);
    if (home.get(ip) === 'ih-b') t.not(now, 'ih-b', `${ip} moved off the down target`);
    else t.equal(now, home.get(ip), `${ip} did not move`);
  }

  b!.health.ok = true;
  await eventually(async () => (await upHealth('ih'))[1] === true, { within: 3000, message: 'ih-b back up' });
  t.match(await admin('/metrics'), new RegExp(`portico_upstream_target_up\\{upstream="ih",target="${b!.url}"\\} 1`));
  t.match(portico.logs.find({ event: 'health', target: b!.url, healthy: true }), { upstream: 'ih', healthy: true });
  for (const ip of clients) t.equal(await servedBy('/ih', ip), home.get(ip), `${ip} is back on its original target`);
});

import t from 'tap';
import { createIpHashBalancer } from '../../../src/upstreams/balancers/ip-hash.js';
import { createLeastConnBalancer } from '../../../src/upstreams/balancers/least-conn.js';
import { createRoundRobinBalancer } from '../../../src/upstreams/balancers/round-robin.js';
import { createBalancer } from '../../../src/upstreams/balancers/create-balancer.js';
import { TargetState } from '../../../src/upstreams/target-state.js';

/** Targets with active checks, so `healthy = false` means unavailable until a check passes. */
function targets(n: number, base = 8000): TargetState[] {
  return Array.from({ length: n }, (_, i) => new TargetState('api', `http://127.0.0.1:${base + i}`, { unhealthyAfter: 1, healthyAfter: 1, activeCheck: true }, () => {}));
}

/** mulberry32: a seeded PRNG, so "random" test data is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function randomIps(n: number, random: () => number): string[] {
  const byte = () => Math.floor(random() * 256);
  return Array.from({ length: n }, (_, i) =>
    i % 10 === 9
      ? `2001:db8:${Math.floor(random() * 65536).toString(16)}::${Math.floor(random() * 65536).toString(16)}`
      : `${byte()}.${byte()}.${byte()}.${byte()}`,
  );
}

t.test('round_robin cycles through targets in order', async (t) => {
  const ts = targets(3);
  const rr = createRoundRobinBalancer(ts);
  t.same(Array.from({ length: 7 }, () => ts.indexOf(rr.pick('1.1.1.1')!)), [0, 1, 2, 0, 1, 2, 0]);
});

t.test('round_robin skips unavailable targets and excluded ones', async (t) => {
  const ts = targets(3);
  ts[1]!.healthy = false;
  const rr = createRoundRobinBalancer(ts);
  t.same(Array.from({ length: 6 }, () => ts.indexOf(rr.pick('1.1.1.1')!)), [0, 2, 0, 2, 0, 2]);
  t.equal(rr.pick('1.1.1.1', new Set([ts[0]!])), ts[2], 'a target that already failed this request is skipped');
  ts[0]!.healthy = false;
  ts[2]!.healthy = false;
  t.equal(rr.pick('1.1.1.1'), undefined, 'every target down: nothing, at once');
  ts[1]!.healthy = true;
  t.equal(rr.pick('1.1.1.1'), ts[1], 'a recovered target is used again');
});

t.test('least_conn picks the available target with fewest in-flight requests', async (t) => {
  const ts = targets(3);
  [ts[0]!.inFlight, ts[1]!.inFlight, ts[2]!.inFlight] = [5, 1, 3];
  const lc = createLeastConnBalancer(ts);
  t.equal(lc.pick('x'), ts[1]);
  ts[1]!.healthy = false;
  t.equal(lc.pick('x'), ts[2], 'an unavailable target is skipped even when idle');
  t.equal(lc.pick('x', new Set([ts[2]!])), ts[0]);
  ts[0]!.healthy = false;
  ts[2]!.healthy = false;
  t.equal(lc.pick('x'), undefined);
});

t.test('least_conn takes turns among tied targets (smooth weighted round robin, as nginx)', async (t) => {
  const ts = targets(4);
  [ts[0]!.inFlight, ts[1]!.inFlight, ts[2]!.inFlight, ts[3]!.inFlight] = [2, 0, 7, 0];
  const lc = createLeastConnBalancer(ts);
  t.same(Array.from({ length: 4 }, () => ts.indexOf(lc.pick('x')!)), [1, 3, 1, 3], 'the two idle targets alternate');

  // Idle pool: exactly a third each.
  const idle = targets(3);
  const even = createLeastConnBalancer(idle);
  t.same(shares(idle, Array.from({ length: 3000 }, () => even.pick('x'))), [1000, 1000, 1000]);
});

t.test('ip_hash sends one client IP to the same target every time', async (t) => {
  const ts = targets(5);
  const ih = createIpHashBalancer(ts);
  for (const ip of ['203.0.113.7', '198.51.100.1', '2001:db8::1', '10.0.0.1']) {
    const first = ih.pick(ip);
    t.ok(first);
    for (let i = 0; i < 20; i++) t.equal(ih.pick(ip), first, ip);
    t.equal(createIpHashBalancer([...ts].reverse()).pick(ip), first, `${ip}: independent of list order and balancer instance`);
  }
});

t.test('ip_hash: 10,000 clients spread evenly; only the leaving target\'s clients move, and they come back', async (t) => {
  const ts = targets(5);
  const ih = createIpHashBalancer(ts);
  const ips = randomIps(10_000, seeded(7));
  const before = ips.map((ip) => ih.pick(ip)!);

  const mean = ips.length / ts.length;
  const counts = ts.map((x) => before.filter((b) => b === x).length);
  for (const c of counts) t.ok(c >= mean * 0.75 && c <= mean * 1.25, `within ±25% of ${mean}: ${counts.join(', ')}`);

  const leaving = ts[2]!;
  leaving.healthy = false;
  const during = ips.map((ip) => ih.pick(ip)!);
  let stayed = 0;
  let moved = 0;
  const movedTo = new Map<TargetState, number>();
  for (let i = 0; i < ips.length; i++) {
    if (before[i] === leaving) {
      moved++;
      if (during[i] === leaving) t.fail(`${ips[i]} still on the down target`);
      movedTo.set(during[i]!, (movedTo.get(during[i]!) ?? 0) + 1);
    } else if (during[i] === before[i]) stayed++;
  }
  t.equal(stayed, ips.length - counts[2]!, 'every client not on the leaving target stays exactly where it was');
  t.equal(moved, counts[2]);
  t.equal(movedTo.size, 4, 'the leaving target\'s clients spread over all the others');

  // The same holds when the target is dropped from the list (config change) instead of down.
  const without = ts.filter((x) => x !== leaving);
  leaving.healthy = true;
  const ihWithout = createIpHashBalancer(without);
  t.same(ips.map((ip) => ihWithout.pick(ip)), during, 'removal from the list = marked down');

  const after = ips.map((ip) => ih.pick(ip)!);
  t.same(after, before, 'the returning target takes back exactly its own clients');
});

t.test('ip_hash with exclude falls back to the next-best target, the same for every retry of that client', async (t) => {
  const ts = targets(3);
  const ih = createIpHashBalancer(ts);
  const best = ih.pick('192.0.2.55')!;
  const second = ih.pick('192.0.2.55', new Set([best]))!;
  t.not(second, best);
  best.healthy = false;
  t.equal(ih.pick('192.0.2.55'), second, 'a failed-over client lands where a retry would');
  for (const x of ts) x.healthy = false;
  t.equal(ih.pick('192.0.2.55'), undefined);
});

t.test('createBalancer maps each strategy name', async (t) => {
  const ts = targets(2);
  ts[0]!.inFlight = 4;
  t.equal(createBalancer('least_conn', ts).pick('x'), ts[1]);
  const rr = createBalancer('round_robin', ts);
  t.same([rr.pick('x'), rr.pick('x')], [ts[0], ts[1]]);
  const ih = createBalancer('ip_hash', ts);
  t.equal(ih.pick('1.2.3.4'), createIpHashBalancer(ts).pick('1.2.3.4'));
});

/** Targets with the given weights, all healthy. */
function weighted(...weights: number[]): TargetState[] {
  const ts = targets(weights.length);
  ts.forEach((x, i) => (x.weight = weights[i]!));
  return ts;
}

function shares(ts: readonly TargetState[], picks: readonly (TargetState | undefined)[]): number[] {
  return ts.map((x) => picks.filter((p) => p === x).length);
}

t.test('round_robin is nginx\'s smooth weighted round robin: 5:1:1 gives a a b a c a a', async (t) => {
  const ts = weighted(5, 1, 1);
  const rr = createRoundRobinBalancer(ts);
  const names = 'abc';
  const seq = Array.from({ length: 14 }, () => names[ts.indexOf(rr.pick('x')!)]).join(' ');
  t.equal(seq, 'a a b a c a a a a b a c a a', 'interleaved, not five a in a row; and it repeats every 7');
});

t.test('weighted spread over 6,000 picks: round_robin and idle least_conn exact, ip_hash within 10%', async (t) => {
  const expected = [1000, 2000, 3000];
  const rrTargets = weighted(1, 2, 3);
  const rr = createRoundRobinBalancer(rrTargets);
  t.same(shares(rrTargets, Array.from({ length: 6000 }, () => rr.pick('x'))), expected, 'round_robin: exactly by weight');

  const lcTargets = weighted(1, 2, 3);
  const lc = createLeastConnBalancer(lcTargets);
  t.same(shares(lcTargets, Array.from({ length: 6000 }, () => lc.pick('x'))), expected, 'least_conn, idle pool: exactly by weight');

  const ihTargets = weighted(1, 2, 3);
  const ih = createIpHashBalancer(ihTargets);
  const ihShares = shares(ihTargets, randomIps(6000, seeded(11)).map((ip) => ih.pick(ip)));
  ihShares.forEach((c, i) => t.ok(Math.abs(c - expected[i]!) <= expected[i]! * 0.1, `ip_hash, distinct clients: ${ihShares.join(', ')} ≈ ${expected.join(', ')}`));
});

t.test('least_conn compares in-flight requests relative to weight', async (t) => {
  const ts = weighted(1, 3);
  [ts[0]!.inFlight, ts[1]!.inFlight] = [1, 2];
  const lc = createLeastConnBalancer(ts);
  t.equal(lc.pick('x'), ts[1], '2/3 busy is less busy than 1/1');
  ts[1]!.inFlight = 4;
  t.equal(lc.pick('x'), ts[0], '4/3 is busier than 1/1');

  // Under sustained load (each request holds its target for a while) the split follows weight.
  const load = weighted(1, 3);
  const busy = createLeastConnBalancer(load);
  const open: TargetState[] = [];
  const counts = [0, 0];
  for (let i = 0; i < 4000; i++) {
    const p = busy.pick('x')!;
    p.inFlight++;
    counts[load.indexOf(p)]!++;
    open.push(p);
    if (open.length > 8) open.shift()!.inFlight--;
  }
  t.ok(Math.abs(counts[1]! / 4000 - 0.75) < 0.05, `weights 1:3 under load: ${counts.join(', ')}`);
});

t.test('weight 0 (standby) and a drained target get no new request, whatever the strategy', async (t) => {
  for (const strategy of ['round_robin', 'least_conn', 'ip_hash'] as const) {
    const ts = weighted(1, 0, 1);
    const b = createBalancer(strategy, ts);
    const ips = randomIps(3000, seeded(1));
    t.equal(shares(ts, ips.map((ip) => b.pick(ip)))[1], 0, `${strategy}: standby gets nothing of 3,000`);
    ts[0]!.draining = true;
    t.same(shares(ts, ips.map((ip) => b.pick(ip))), [0, 0, 3000], `${strategy}: drained target gets nothing either`);
    ts[2]!.healthy = false;
    t.equal(b.pick('192.0.2.1'), undefined, `${strategy}: a standby does not stand in for a down target`);
    ts[2]!.healthy = true;
    ts[0]!.draining = false;
    t.ok(ips.slice(0, 100).some((ip) => b.pick(ip) === ts[0]), `${strategy}: enabled again, the target takes requests`);
  }
});

t.test('a canary of weight 1 beside 19 gets 1 request in 20', async (t) => {
  const ts = weighted(19, 1);
  const rr = createRoundRobinBalancer(ts);
  const perRound = Array.from({ length: 50 }, () => shares(ts, Array.from({ length: 20 }, () => rr.pick('x')))[1]);
  t.same(perRound, Array(50).fill(1), 'round_robin: exactly one in every 20, round after round');
  const lcTs = weighted(19, 1);
  const lc = createLeastConnBalancer(lcTs);
  t.equal(shares(lcTs, Array.from({ length: 4000 }, () => lc.pick('x')))[1], 200, 'least_conn, idle pool: 200 of 4,000');
  const ihTs = weighted(19, 1);
  const ih = createIpHashBalancer(ihTs);
  const ihCanary = shares(ihTs, randomIps(4000, seeded(13)).map((ip) => ih.pick(ip)))[1]!;
  t.ok(ihCanary > 140 && ihCanary < 260, `ip_hash: about 200 of 4,000 clients (${ihCanary})`);
});

t.test('ip_hash: a weight change moves only the clients it must', async (t) => {
  const ts = targets(5);
  const ih = createIpHashBalancer(ts);
  const ips = randomIps(10_000, seeded(21));
  const before = ips.map((ip) => ih.pick(ip)!);
  const changed = ts[2]!;
  const ownBefore = before.filter((b) => b === changed).length;

  changed.weight = 3; // 3 of 7 shares instead of 1 of 5
  const up = ips.map((ip) => ih.pick(ip)!);
  let gained = 0;
  for (let i = 0; i < ips.length; i++) {
    if (up[i] === before[i]) continue;
    if (up[i] !== changed) t.fail(`${ips[i]} moved between two unchanged targets`);
    gained++;
  }
  t.equal(before.filter((b, i) => b === changed && up[i] !== changed).length, 0, 'none of its own clients leaves the heavier target');
  const wanted = ips.length * (3 / 7) - ownBefore;
  t.ok(Math.abs(gained - wanted) < ips.length * 0.03, `it gains about ${Math.round(wanted)} clients, from the others: ${gained}`);

  changed.weight = 1;
  t.same(ips.map((ip) => ih.pick(ip)!), before, 'back to weight 1: every client is back where it was');

  changed.weight = 0;
  const standby = ips.map((ip) => ih.pick(ip)!);
  for (let i = 0; i < ips.length; i++) {
    if (before[i] !== changed && standby[i] !== before[i]) t.fail(`${ips[i]} moved though its target did not change`);
    if (standby[i] === changed) t.fail(`${ips[i]} still on the standby`);
  }
  changed.healthy = false;
  changed.weight = 1;
  t.same(ips.map((ip) => ih.pick(ip)!), standby, 'weight 0 moves exactly the clients that going down moves');
});

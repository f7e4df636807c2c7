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
  const rr = createRoundRobinBalancer();
  t.same(Array.from({ length: 7 }, () => ts.indexOf(rr.pick(ts, '1.1.1.1')!)), [0, 1, 2, 0, 1, 2, 0]);
});

t.test('round_robin skips unavailable targets and excluded ones', async (t) => {
  const ts = targets(3);
  ts[1]!.healthy = false;
  const rr = createRoundRobinBalancer();
  t.same(Array.from({ length: 6 }, () => ts.indexOf(rr.pick(ts, '1.1.1.1')!)), [0, 2, 0, 2, 0, 2]);
  t.equal(rr.pick(ts, '1.1.1.1', new Set([ts[0]!])), ts[2], 'a target that already failed this request is skipped');
  ts[0]!.healthy = false;
  ts[2]!.healthy = false;
  t.equal(rr.pick(ts, '1.1.1.1'), undefined, 'every target down: nothing, at once');
  ts[1]!.healthy = true;
  t.equal(rr.pick(ts, '1.1.1.1'), ts[1], 'a recovered target is used again');
});

t.test('least_conn picks the available target with fewest in-flight requests', async (t) => {
  const ts = targets(3);
  [ts[0]!.inFlight, ts[1]!.inFlight, ts[2]!.inFlight] = [5, 1, 3];
  const lc = createLeastConnBalancer(() => 0.5);
  t.equal(lc.pick(ts, 'x'), ts[1]);
  ts[1]!.healthy = false;
  t.equal(lc.pick(ts, 'x'), ts[2], 'an unavailable target is skipped even when idle');
  t.equal(lc.pick(ts, 'x', new Set([ts[2]!])), ts[0]);
  ts[0]!.healthy = false;
  ts[2]!.healthy = false;
  t.equal(lc.pick(ts, 'x'), undefined);
});

t.test('least_conn breaks ties with the injected randomness', async (t) => {
  const ts = targets(4);
  [ts[0]!.inFlight, ts[1]!.inFlight, ts[2]!.inFlight, ts[3]!.inFlight] = [2, 0, 7, 0];
  t.equal(createLeastConnBalancer(() => 0.999).pick(ts, 'x'), ts[1], 'random never below 1/ties: the first tie stays');
  t.equal(createLeastConnBalancer(() => 0).pick(ts, 'x'), ts[3], 'random 0: the last tie wins');

  // Uniform among ties: each of 3 idle targets gets about a third of the picks.
  const idle = targets(3);
  const lc = createLeastConnBalancer(seeded(42));
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) counts[idle.indexOf(lc.pick(idle, 'x')!)]!++;
  for (const c of counts) t.ok(c > 800 && c < 1200, `about 1000 of 3000 each: ${counts.join(', ')}`);
});

t.test('ip_hash sends one client IP to the same target every time', async (t) => {
  const ts = targets(5);
  const ih = createIpHashBalancer();
  for (const ip of ['203.0.113.7', '198.51.100.1', '2001:db8::1', '10.0.0.1']) {
    const first = ih.pick(ts, ip);
    t.ok(first);
    for (let i = 0; i < 20; i++) t.equal(ih.pick(ts, ip), first, ip);
    t.equal(createIpHashBalancer().pick([...ts].reverse(), ip), first, `${ip}: independent of list order and balancer instance`);
  }
});

t.test('ip_hash: 10,000 clients spread evenly; only the leaving target\'s clients move, and they come back', async (t) => {
  const ts = targets(5);
  const ih = createIpHashBalancer();
  const ips = randomIps(10_000, seeded(7));
  const before = ips.map((ip) => ih.pick(ts, ip)!);

  const mean = ips.length / ts.length;
  const counts = ts.map((x) => before.filter((b) => b === x).length);
  for (const c of counts) t.ok(c >= mean * 0.75 && c <= mean * 1.25, `within ±25% of ${mean}: ${counts.join(', ')}`);

  const leaving = ts[2]!;
  leaving.healthy = false;
  const during = ips.map((ip) => ih.pick(ts, ip)!);
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
  t.same(ips.map((ip) => ih.pick(without, ip)), during, 'removal from the list = marked down');

  const after = ips.map((ip) => ih.pick(ts, ip)!);
  t.same(after, before, 'the returning target takes back exactly its own clients');
});

t.test('ip_hash with exclude falls back to the next-best target, the same for every retry of that client', async (t) => {
  const ts = targets(3);
  const ih = createIpHashBalancer();
  const best = ih.pick(ts, '192.0.2.55')!;
  const second = ih.pick(ts, '192.0.2.55', new Set([best]))!;
  t.not(second, best);
  best.healthy = false;
  t.equal(ih.pick(ts, '192.0.2.55'), second, 'a failed-over client lands where a retry would');
  for (const x of ts) x.healthy = false;
  t.equal(ih.pick(ts, '192.0.2.55'), undefined);
});

t.test('createBalancer maps each strategy name', async (t) => {
  const ts = targets(2);
  ts[0]!.inFlight = 4;
  t.equal(createBalancer('least_conn').pick(ts, 'x'), ts[1]);
  const rr = createBalancer('round_robin');
  t.same([rr.pick(ts, 'x'), rr.pick(ts, 'x')], [ts[0], ts[1]]);
  const ih = createBalancer('ip_hash');
  t.equal(ih.pick(ts, '1.2.3.4'), createIpHashBalancer().pick(ts, '1.2.3.4'));
});

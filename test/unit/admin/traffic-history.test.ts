import t from 'tap';
import { SAMPLE_MS, TrafficHistory, WINDOW_MS } from '../../../src/admin/traffic-history.js';

// The dashboard's rates come from the cumulative counters /metrics exports, sampled only when
// someone looks: an injected clock makes the arithmetic exact.

function setup() {
  let now = 1_000_000;
  const counts = new Map<string, number[]>([['a.test', [0, 0, 0, 0, 0]]]);
  const history = new TrafficHistory(() => new Map([...counts].map(([h, c]) => [h, c.slice()])), () => now);
  return {
    history,
    advance: (ms: number) => (now += ms),
    add: (host: string, cls: number, n: number) => {
      const c = counts.get(host) ?? [0, 0, 0, 0, 0];
      c[cls]! += n;
      counts.set(host, c);
    },
  };
}

t.test('the first look has no rate yet; later looks average over the last samples', async (t) => {
  const s = setup();
  s.add('a.test', 1, 100); // before anyone looked: in the total, not in the window
  const first = s.history.look().traffic('a.test');
  t.same(first, { rps: null, series: [], classes: [0, 0, 0, 0, 0], total: 100 });
  s.add('a.test', 1, 40);
  s.add('a.test', 4, 10);
  s.advance(SAMPLE_MS);
  s.add('b.test', 2, 25);
  const view = s.history.look();
  t.equal(view.totalRps(), 75 / (SAMPLE_MS / 1000), 'the total rate covers every host');
  t.equal(view.rps('b.test'), 25 / (SAMPLE_MS / 1000));
  const second = view.traffic('a.test');
  t.equal(second.rps, 50 / (SAMPLE_MS / 1000));
  t.same(second.series, [50 / (SAMPLE_MS / 1000)]);
  t.same(second.classes, [0, 40, 0, 0, 10]);
  t.equal(second.total, 150);
});

t.test('looks closer together than a sample interval add no sample', async (t) => {
  const s = setup();
  s.history.look();
  for (let i = 0; i < 5; i++) {
    s.advance(1000);
    s.history.look();
  }
  t.same(s.history.look().traffic('a.test').series.length, 1, 'one interval after 5 s of 1 s polls');
});

t.test('samples older than the window are dropped; an unknown host is all zero', async (t) => {
  const s = setup();
  s.history.look();
  for (let i = 0; i < 100; i++) {
    s.advance(SAMPLE_MS);
    s.add('a.test', 1, 5);
    s.history.look();
  }
  const view = s.history.look();
  t.ok(view.traffic('a.test').series.length <= WINDOW_MS / SAMPLE_MS, 'at most one window of samples');
  t.ok(view.at - view.since <= WINDOW_MS);
  t.same(view.traffic('b.test'), { rps: 0, series: view.traffic('b.test').series.map(() => 0), classes: [0, 0, 0, 0, 0], total: 0 });
});

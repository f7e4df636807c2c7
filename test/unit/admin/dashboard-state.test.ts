import t from 'tap';
import { buildDashboardState } from '../../../src/admin/dashboard-state.js';
import { TrafficHistory } from '../../../src/admin/traffic-history.js';
import { parseConfig } from '../../../src/config/load-config.js';

// What GET /dashboard.json sends: one page of each list, filtered, and only safe fields.

const HASH = '$2b$04$abcdefghijklmnopqrstuuVb0bDd9e0MNKfBcPZPvlHcItZxV8.Hq';
const hosts = Array.from({ length: 1000 }, (_, i) => `  h${String(i).padStart(4, '0')}.test: { tls: off, routes: [ { upstream: app } ] }`).join('\n');
const config = parseConfig(
  'routes.yaml',
  `upstreams:\n  app: { targets: ["127.0.0.1:8000"] }\nhosts:\n  secret.test:\n    tls: off\n    basicAuth: { realm: R, users: { alice: "${HASH}" } }\n    headers: { X-Api-Key: "k-123" }\n    routes: [ { respond: { body: "body-456" } } ]\n${hosts}\n`,
);
let now = 0;
const counts = new Map<string, number[]>([['h0500.test', [0, 0, 0, 0, 0]]]);
const sources = {
  config: () => config,
  upstreams: () => ({ app: { targets: [{ url: 'http://127.0.0.1:8000', healthy: true, inFlight: 0 }] } }),
  certificates: () => [],
  reloads: () => [],
  refusals: async () => ({ rateLimited: new Map([['host:h0001.test', 3]]), authRefused: 2, authBusy: 1 }),
  traffic: new TrafficHistory(() => new Map([...counts].map(([h, c]) => [h, c.slice()])), () => now),
};
const state = (q: string) => buildDashboardState(sources, new URLSearchParams(q));

t.test('1,001 hosts: one page at a time, a filter, and sorting by traffic', async (t) => {
  const first = await state('');
  t.equal(first.summary.hosts, 1001);
  t.equal(first.hosts.total, 1001);
  t.equal(first.hosts.items.length, 25);
  t.equal(first.hosts.items[0]!.name, 'secret.test', 'config order');
  const last = await state('page=9999&size=100');
  t.equal(last.hosts.page, 10, 'a page past the end is the last one');
  t.equal(last.hosts.items.length, 1);
  t.same((await state('q=H0999')).hosts.items.map((h) => h.name), ['h0999.test'], 'case-insensitive');
  now += 10_000;
  counts.get('h0500.test')![1] = 500;
  t.equal((await state('sort=traffic')).hosts.items[0]!.name, 'h0500.test');
  t.equal(first.summary.rateLimited, 3);
  t.equal(first.summary.authRefused, 2);
  t.equal(first.summary.authBusy, 1);
});

t.test('no secret: no password hash, header value or response body', async (t) => {
  const json = JSON.stringify(await buildDashboardState(sources, new URLSearchParams('q=secret')));
  t.match(json, /secret\.test/);
  for (const secret of [HASH.slice(7), 'k-123', 'body-456', 'alice']) t.notOk(json.includes(secret), secret);
});

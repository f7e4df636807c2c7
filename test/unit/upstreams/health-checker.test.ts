import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import type { HealthCheckConfig } from '../../../src/config/config-types.js';
import { startHealthChecker } from '../../../src/upstreams/health-checker.js';
import { TargetState } from '../../../src/upstreams/target-state.js';
import { eventually } from '../../helpers/eventually.js';
import { startUpstream } from '../../helpers/start-upstream.js';

const hc = (over: Partial<HealthCheckConfig> = {}): HealthCheckConfig => ({
  path: '/live',
  intervalMs: 50,
  timeoutMs: 1_000,
  unhealthyAfter: 2,
  healthyAfter: 2,
  ...over,
});

/** A target whose transitions are recorded, each with `onTransition()` taken at that moment. */
function watched(url: string, check: HealthCheckConfig, onTransition: (healthy: boolean) => void = () => {}) {
  const changes: { healthy: boolean; reason: string }[] = [];
  const thresholds = { unhealthyAfter: check.unhealthyAfter, healthyAfter: check.healthyAfter, activeCheck: true };
  const state = new TargetState('api', url, thresholds, (_s, healthy, reason) => {
    onTransition(healthy);
    changes.push({ healthy, reason });
  });
  return { state, changes };
}

t.test('down after unhealthyAfter failing probes, up after healthyAfter passing ones', async (t) => {
  let status = 200;
  const seen: { status: number; at: number }[] = [];
  const upstream = await startUpstream((req, res) => {
    seen.push({ status, at: Date.now() });
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(req.url === '/live' ? 'ok' : 'wrong path');
  });
  t.teardown(() => upstream.close());
  // Probes are sequential, so at each transition the upstream has answered exactly the probes
  // that counted: the statuses since the last change of `status` are the streak.
  const streaks: number[] = [];
  const { state, changes } = watched(upstream.url, hc(), (healthy) => {
    const streak = seen.slice(switchedAt).filter((s) => s.status === (healthy ? 204 : 503)).length;
    streaks.push(streak);
  });
  let switchedAt = 0;
  const stop = startHealthChecker(state, hc());
  t.teardown(stop);

  await eventually(() => seen.length >= 2, { within: 3000, message: 'probes arrive' });
  t.equal(state.healthy, true);
  t.ok(upstream.requests.every((r) => r.url === '/live' && r.method === 'GET'), 'GET of the configured path');
  t.equal(upstream.requests[0]?.headers['user-agent'], 'portico-health-check');

  switchedAt = seen.length;
  status = 503;
  await eventually(() => !state.healthy, { within: 3000, message: 'marked down' });
  t.equal(streaks[0], 2, 'down after exactly unhealthyAfter = 2 failing probes');
  t.same(changes, [{ healthy: false, reason: 'health check status 503' }]);

  switchedAt = seen.length;
  status = 204;
  await eventually(() => state.healthy, { within: 3000, message: 'marked up' });
  t.equal(streaks[1], 2, 'up after exactly healthyAfter = 2 passing probes');
  t.same(changes.map((c) => c.healthy), [false, true], 'one event per transition');
});

t.test('a 3xx passes; connection refused fails', async (t) => {
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(302, { location: '/elsewhere' });
    res.end();
  });
  const { state, changes } = watched(upstream.url, hc({ unhealthyAfter: 1 }));
  const stop = startHealthChecker(state, hc({ unhealthyAfter: 1 }));
  t.teardown(stop);
  await eventually(() => upstream.requests.length >= 3, { within: 3000 });
  t.equal(state.healthy, true, '302 counts as up');

  await upstream.close();
  await eventually(() => !state.healthy, { within: 3000, message: 'down once the port refuses' });
  t.match(changes[0]?.reason ?? '', /^health check (ECONNREFUSED|ECONNRESET)$/);
});

t.test('no answer within timeout fails the probe', async (t) => {
  const hanging: Server = createServer(() => {
    // never answers
  });
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    hanging.closeAllConnections();
    hanging.close();
  });
  const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
  const check = hc({ timeoutMs: 50, unhealthyAfter: 1 });
  const { state, changes } = watched(url, check);
  const stop = startHealthChecker(state, check);
  t.teardown(stop);
  await eventually(() => !state.healthy, { within: 3000, message: 'timed-out probe marks down' });
  t.same(changes, [{ healthy: false, reason: 'health check timeout' }]);
});

t.test('stop() ends the probes', async (t) => {
  let probes = 0;
  let otherProbes = 0;
  const upstream = await startUpstream((req, res) => {
    if (req.url === '/live') probes++;
    else otherProbes++;
    res.end();
  });
  t.teardown(() => upstream.close());
  const stopped = watched(upstream.url, hc());
  const stop = startHealthChecker(stopped.state, hc());
  const other = watched(upstream.url, hc({ path: '/other' }));
  const stopOther = startHealthChecker(other.state, hc({ path: '/other' }));
  t.teardown(stopOther);
  await eventually(() => probes >= 2, { within: 3000 });
  stop();
  const atStop = probes;
  const otherAtStop = otherProbes;
  await eventually(() => otherProbes >= otherAtStop + 5, { within: 3000, message: 'the other checker keeps probing' });
  t.ok(probes <= atStop + 1, `no probes after stop (at most the one in flight): ${atStop} -> ${probes}`);
});

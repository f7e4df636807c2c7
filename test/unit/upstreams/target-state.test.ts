import t from 'tap';
import { eventually } from '../../helpers/eventually.js';
import { TargetState } from '../../../src/upstreams/target-state.js';

interface Change {
  healthy: boolean;
  reason: string;
}

function target(thresholds: { unhealthyAfter: number; healthyAfter: number; activeCheck: boolean }, now?: () => number) {
  const changes: Change[] = [];
  const state = new TargetState('api', 'http://127.0.0.1:8000', thresholds, (s, healthy, reason) => {
    if (s !== state) throw new Error('onChange must pass the target itself');
    changes.push({ healthy, reason });
  }, now);
  return { state, changes };
}

t.test('down after exactly unhealthyAfter consecutive failures; onChange once', async (t) => {
  const { state, changes } = target({ unhealthyAfter: 3, healthyAfter: 1, activeCheck: true });
  state.recordFailure('health check status 500');
  state.recordFailure('health check status 500');
  t.equal(state.healthy, true, 'two failures of three');
  t.same(changes, []);
  state.recordFailure('health check ECONNREFUSED');
  t.equal(state.healthy, false);
  t.same(changes, [{ healthy: false, reason: 'health check ECONNREFUSED' }]);
  state.recordFailure('again');
  state.recordFailure('again');
  t.equal(changes.length, 1, 'no event for failures of a target already down');
});

t.test('a passed check resets the failure count', async (t) => {
  const { state, changes } = target({ unhealthyAfter: 2, healthyAfter: 1, activeCheck: true });
  state.recordFailure('x');
  state.recordProbePass();
  state.recordFailure('x');
  t.equal(state.healthy, true, 'failures must be consecutive');
  state.recordFailure('x');
  t.equal(state.healthy, false);
  t.equal(changes.length, 1);
});

t.test('up after exactly healthyAfter consecutive successes; onChange once', async (t) => {
  const { state, changes } = target({ unhealthyAfter: 1, healthyAfter: 3, activeCheck: true });
  state.recordFailure('down');
  state.recordProbePass();
  state.recordProbePass();
  t.equal(state.healthy, false, 'two of three');
  state.recordFailure('flap');
  state.recordProbePass();
  state.recordProbePass();
  t.equal(state.healthy, false, 'a failure resets the success count');
  state.recordProbePass();
  t.equal(state.healthy, true);
  t.same(changes, [
    { healthy: false, reason: 'down' },
    { healthy: true, reason: 'recovered' },
  ]);
  state.recordProbePass();
  t.equal(changes.length, 2, 'no event for successes of a healthy target');
});

t.test('with an active check, a down target stays unavailable until a check passes', async (t) => {
  let now = 0;
  const { state } = target({ unhealthyAfter: 1, healthyAfter: 1, activeCheck: true }, () => now);
  state.recordFailure('x');
  now = 3_600_000;
  t.equal(state.available, false, 'no passive retry when active checks decide');
  state.recordProbePass();
  t.equal(state.available, true);
});

t.test('with an active check, proxied responses never reset a failing count nor mark a target up', async (t) => {
  const { state, changes } = target({ unhealthyAfter: 2, healthyAfter: 1, activeCheck: true });
  state.recordFailure('health check status 503');
  state.recordResponse();
  state.recordResponse();
  state.recordFailure('health check status 503');
  t.equal(state.healthy, false, 'two failed checks in a row, whatever traffic it served between them');
  state.recordResponse();
  t.equal(state.healthy, false, 'a response does not bring it back');
  state.recordProbePass();
  t.equal(state.healthy, true, 'a passed check does');
  t.same(changes.map((c) => c.healthy), [false, true]);
});

t.test('with an active check, connection failures of proxied requests count as failed checks', async (t) => {
  const { state } = target({ unhealthyAfter: 2, healthyAfter: 1, activeCheck: true });
  state.recordFailure('health check status 500');
  state.recordFailure('ECONNREFUSED');
  t.equal(state.healthy, false);
});

t.test('without an active check, a response ends a run of connection failures', async (t) => {
  const { state } = target({ unhealthyAfter: 2, healthyAfter: 1, activeCheck: false });
  state.recordFailure('ECONNREFUSED');
  state.recordResponse();
  state.recordFailure('ECONNREFUSED');
  t.equal(state.healthy, true, 'failures must be consecutive');
});

t.test('passive health: a downed target is retried after the 10 s cooldown (injected clock)', async (t) => {
  let now = 1_000;
  const { state, changes } = target({ unhealthyAfter: 2, healthyAfter: 1, activeCheck: false }, () => now);
  t.equal(state.available, true);
  state.recordFailure('ECONNREFUSED');
  state.recordFailure('ECONNREFUSED');
  t.equal(state.healthy, false);
  t.equal(state.available, false);
  now = 10_999;
  t.equal(state.available, false, 'still cooling down');
  now = 11_000;
  t.equal(state.available, true, 'after 10 s one request may try again');
  state.recordFailure('ECONNREFUSED');
  t.equal(state.available, false, 'a failed retry starts another cooldown');
  now = 20_999;
  t.equal(state.available, false);
  now = 21_000;
  t.equal(state.available, true);
  state.recordResponse();
  t.equal(state.healthy, true, 'a response brings it back');
  t.same(changes.map((c) => c.healthy), [false, true]);
});

t.test('agents: http targets get an http.Agent, https targets an https.Agent, keep-alive on', async (t) => {
  const plain = new TargetState('a', 'http://127.0.0.1:1', { unhealthyAfter: 1, healthyAfter: 1, activeCheck: false }, () => {});
  const secure = new TargetState('a', 'https://127.0.0.1:1', { unhealthyAfter: 1, healthyAfter: 1, activeCheck: false }, () => {});
  t.teardown(() => {
    plain.destroy();
    secure.destroy();
  });
  t.equal((plain.agent as unknown as { protocol: string }).protocol, 'http:');
  t.equal((secure.agent as unknown as { protocol: string }).protocol, 'https:');
  t.equal((plain.agent as unknown as { keepAlive: boolean }).keepAlive, true);
});

t.test('pooled upstream sockets idle across two sweeps are closed; used ones are kept', async (t) => {
  const { createServer, request } = await import('node:http');
  const closedOnServer: number[] = [];
  let connections = 0;
  const server = createServer((_req, res) => res.end('ok'));
  server.on('connection', (socket) => {
    const id = ++connections;
    socket.on('close', () => closedOnServer.push(id));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  const state = new TargetState('api', `http://127.0.0.1:${port}`, { unhealthyAfter: 1, healthyAfter: 1, activeCheck: false }, () => {});
  t.teardown(() => state.destroy());
  const get = () =>
    new Promise<void>((resolve, reject) => {
      request({ port, host: '127.0.0.1', path: '/', agent: state.agent }, (res) => {
        res.resume();
        res.on('end', () => setImmediate(resolve)); // the socket returns to the pool after 'end'
      }).on('error', reject).end();
    });
  const pooled = () => Object.values(state.agent.freeSockets).reduce((n, l) => n + (l?.length ?? 0), 0);

  await get();
  t.equal(pooled(), 1, 'the connection is pooled');
  t.equal(state.closeIdleSockets(), 0, 'first sweep only notes it');
  await get(); // reused between sweeps: it carried traffic
  t.equal(state.closeIdleSockets(), 0, 'a socket used since the last sweep is kept');
  t.equal(connections, 1, 'the same connection was reused');
  t.equal(state.closeIdleSockets(), 1, 'idle across a whole interval: closed');
  await eventually(() => closedOnServer.length === 1, { message: 'the upstream saw it close' });
  t.same(closedOnServer, [1], 'the upstream saw it close');
  t.equal(pooled(), 0);
});

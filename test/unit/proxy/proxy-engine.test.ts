import t, { type Test } from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { UpstreamConfig } from '../../../src/config/config-types.js';
import { compileHeaderPlan } from '../../../src/pipeline/header-plan.js';
import { ProxyEngine } from '../../../src/proxy/proxy-engine.js';
import { prepareUpstreamRequest } from '../../../src/proxy/upstream-request.js';
import { TargetState } from '../../../src/upstreams/target-state.js';
import { UpstreamPool } from '../../../src/upstreams/upstream-pool.js';
import { fakeContext } from '../../helpers/fake-context.js';
import { request } from '../../helpers/http-request.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { startUpstream, type Handler } from '../../helpers/start-upstream.js';



/**
 * A ProxyEngine behind a bare HTTP server on port 0, in front of one real upstream: the edge
 * (routing, steps, error pages) is left out, so what is seen is the engine's own behaviour.
 * The error reply writes just the status, so a test sees which status the engine chose.
 */
async function engineFor(t: Test, handler: Handler, opts: { responseTimeoutMs?: number } = {}) {
  const upstream = await startUpstream(handler);
  t.teardown(() => upstream.close());
  const sink = createLogSink();
  const engine = new ProxyEngine(sink.logger);
  const config: UpstreamConfig = {
    name: 'api',
    targets: [{ url: upstream.url, weight: 1 }],
    balance: 'round_robin',
    healthCheck: undefined,
    connectTimeoutMs: 5_000,
    responseTimeoutMs: opts.responseTimeoutMs ?? 10_000,
  };
  const target = new TargetState('api', upstream.url, { unhealthyAfter: 3, healthyAfter: 1, activeCheck: false }, () => {});
  t.teardown(() => target.agent.destroy());
  const pool = new UpstreamPool(config, [target]);
  const plan = compileHeaderPlan({}, {});
  const front = createServer((req: IncomingMessage, res: ServerResponse) => {
    const ctx = { ...fakeContext({ method: req.method, path: req.url }), req };
    res.on('close', () => ctx.onResponseClose?.responseClosed());
    const hasBody = req.method === 'POST';
    prepareUpstreamRequest(req, ctx, false, hasBody); // as the edge does: hop-by-hop fields out
    const reply = (r: ServerResponse, status: number) => r.writeHead(status, { 'content-type': 'text/plain' }).end(`portico ${status}`);
    engine.web(req, res, ctx, pool, plan, reply, hasBody);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => (front.closeAllConnections(), front.close(() => resolve()))));
  return { port: (front.address() as AddressInfo).port, upstream, target, sink };
}

t.test('proxies the upstream response and keeps the target healthy', async (t) => {
  const { port, target } = await engineFor(t, (_req, res) => res.writeHead(201, { 'x-up': '1' }).end('made'));
  const reply = await request(port, '/thing');
  t.equal(reply.status, 201);
  t.equal(reply.headers['x-up'], '1');
  t.equal(reply.headers['x-request-id'], 'r1', 'the request id is set on the response');
  t.equal(reply.body, 'made');
  t.equal(target.inFlight, 0, 'in-flight count released');
});

t.test('an upstream that resets the connection is a 502, not retried with one target', async (t) => {
  const { port, upstream, sink } = await engineFor(t, (req) => req.socket.destroy());
  const reply = await request(port, '/');
  t.equal(reply.status, 502);
  t.equal(upstream.requests.length, 1, 'a fresh connection is not replayed');
  t.match(sink.find({ event: 'upstream_error' }), { status: 502, target: upstream.url });
});

t.test('no first byte within the response timeout is a 504', async (t) => {
  const { port, sink } = await engineFor(t, () => {}, { responseTimeoutMs: 100 });
  const reply = await request(port, '/slow');
  t.equal(reply.status, 504);
  t.match(sink.find({ event: 'upstream_error' }), { code: 'PORTICO_UPSTREAM_TIMEOUT', status: 504 });
});

t.test('no healthy target: 502 at once, logged with its code', async (t) => {
  const { port, upstream, target, sink } = await engineFor(t, (_req, res) => res.end('never'));
  for (let i = 0; i < 3; i++) target.recordFailure('ECONNREFUSED'); // unhealthyAfter: 3
  t.equal(target.available, false);
  const reply = await request(port, '/');
  t.equal(reply.status, 502);
  t.equal(upstream.requests.length, 0, 'the upstream was not tried');
  t.match(sink.find({ event: 'upstream_error' }), { code: 'PORTICO_NO_HEALTHY_TARGET', upstream: 'api', status: 502 });
});

/** An upstream that answers the first request of each connection and drops the connection on the next. */
function closesReusedConnections(): Handler {
  const served = new WeakMap<Socket, number>();
  return (req, res) => {
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (n > 1) {
      req.socket.destroy(); // as if it closed the idle connection just as the request came
      return;
    }
    req.resume();
    req.on('end', () => res.end(`ok ${req.method}`));
  };
}

t.test('a bodiless GET on a pooled connection the upstream closed is replayed once on a new one', async (t) => {
  const { port, upstream, sink } = await engineFor(t, closesReusedConnections());
  t.equal((await request(port, '/one')).status, 200);
  const second = await request(port, '/two');
  t.equal(second.status, 200, 'the client never sees the stale connection');
  t.equal(second.body, 'ok GET');
  t.same(upstream.requests.map((r) => r.url), ['/one', '/two', '/two'], 'replayed exactly once');
  t.equal(sink.filter({ event: 'upstream_error' }).length, 0, 'not an upstream error');
});

t.test('a request with a body is not replayed', async (t) => {
  const { port, upstream } = await engineFor(t, closesReusedConnections());
  t.equal((await request(port, '/one', { method: 'POST', body: 'a' })).status, 200);
  const second = await request(port, '/two', { method: 'POST', body: 'b' });
  t.equal(second.status, 502, 'its body may have reached the upstream: answered, not resent');
  t.same(upstream.requests.map((r) => r.url), ['/one', '/two']);
});

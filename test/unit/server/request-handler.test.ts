import t, { type Test } from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '../../../src/config/load-config.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { RequestContext } from '../../../src/pipeline/request-context.js';
import { ProxyEngine } from '../../../src/proxy/proxy-engine.js';
import { compileRouteTable } from '../../../src/routing/compile-route-table.js';
import type { EdgeContext } from '../../../src/server/edge-context.js';
import { createRequestHandler } from '../../../src/server/request-handler.js';
import { TargetRegistry } from '../../../src/upstreams/target-registry.js';
import { rawExchange } from '../../helpers/raw-http.js';

const ROUTES = `
hosts:
  plain.test:
    tls: off
    routes:
      - { path: /app, respond: { body: "app\\n" } }
  hidden.test:
    tls: off
    noindex: true
    routes:
      - { path: /app, respond: { body: "hidden app\\n" } }
  secure.test:
    routes:
      - { respond: { body: "secure\\n" } }
`;

/**
 * The HTTP listener's request handler on a real server (port 0), over a route table compiled
 * from YAML: no gateway, so every answer below is the handler's own decision. `finished` lists
 * the status of each request the handler reported as over.
 */
async function edge(t: Test) {
  const targets = new TargetRegistry(() => {});
  t.teardown(() => targets.close());
  const none = (): never => {
    throw new Error('no rate limit or auth in this table');
  };
  const { table } = compileRouteTable(parseConfig('/etc/portico/routes.yaml', ROUTES), {
    engine: new ProxyEngine(createLogger('silent')),
    targets,
    createRateLimitStep: none,
    createBasicAuthStep: none,
  }, 1);
  const finished: number[] = [];
  const gw: EdgeContext = {
    table,
    httpsPort: 8443,
    challengeResponse: async () => undefined,
    finish: (_ctx: RequestContext, status: number) => void finished.push(status),
    onStepError: (_ctx, err) => t.fail(String(err)),
    onInternalError: (err) => t.fail(String(err)),
    draining: false,
  };
  const server = createServer(createRequestHandler(gw, 'http'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  const send = (head: string) => rawExchange((server.address() as AddressInfo).port, `${head}\r\nConnection: close\r\n\r\n`);
  return { send, finished };
}

t.test('a known host and path reaches its route', async (t) => {
  const { send, finished } = await edge(t);
  const r = await send('GET /app/x HTTP/1.1\r\nHost: plain.test');
  t.equal(r.status, 200);
  t.match(r.data, /\r\n\r\napp\n$/);
  t.same(finished, [200], 'reported over exactly once');
});

t.test('an unknown host is 404 "unknown host"; an unrouted path is 404', async (t) => {
  const { send } = await edge(t);
  const unknown = await send('GET / HTTP/1.1\r\nHost: nowhere.test');
  t.equal(unknown.status, 404);
  t.match(unknown.data, /unknown host\n$/);
  const unrouted = await send('GET /elsewhere HTTP/1.1\r\nHost: plain.test');
  t.equal(unrouted.status, 404);
  t.match(unrouted.data, /Not Found\n$/);
});

t.test('plain HTTP to a TLS host is a 308 to the HTTPS port, path and query kept', async (t) => {
  const { send } = await edge(t);
  const r = await send('GET /a/b?c=d HTTP/1.1\r\nHost: secure.test');
  t.equal(r.status, 308);
  t.match(r.data, /\r\nlocation: https:\/\/secure\.test:8443\/a\/b\?c=d\r\n/i);
});

t.test('framing Portico cannot forward safely is refused with 400 and a closed connection', async (t) => {
  const { send } = await edge(t);
  const both = await send('POST /app HTTP/1.1\r\nHost: plain.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked');
  t.equal(both.status, 400, 'Content-Length with Transfer-Encoding');
  t.ok(both.closed);
  const badTarget = await send('GET http://user@plain.test/app HTTP/1.1\r\nHost: plain.test');
  t.equal(badTarget.status, 400, 'userinfo in an absolute-form target');
});

t.test('an absolute-form target is served, its authority winning over Host', async (t) => {
  const { send } = await edge(t);
  const r = await send('GET http://plain.test/app HTTP/1.1\r\nHost: nowhere.test');
  t.equal(r.status, 200);
  t.match(r.data, /app\n$/);
});

t.test('a noindex host answers /robots.txt even with no route for it', async (t) => {
  const { send } = await edge(t);
  const robots = await send('GET /robots.txt HTTP/1.1\r\nHost: hidden.test');
  t.equal(robots.status, 200);
  t.match(robots.data, /User-agent: \*\r?\nDisallow: \//);
  t.equal((await send('GET /robots.txt HTTP/1.1\r\nHost: plain.test')).status, 404, 'only on noindex hosts');
});

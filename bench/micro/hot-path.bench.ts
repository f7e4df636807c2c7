/**
 * Micro-benchmarks of the functions every request runs (`npm run bench:micro`): host lookup,
 * path normalisation and route match, balancer picks, header plan, token bucket, client IP,
 * and the Basic Auth step on a cached credential.
 * They use a route table compiled from a realistic config, as the gateway does.
 */
import { bench, do_not_optimize, group, run } from 'mitata';
import bcrypt from 'bcryptjs';
import { createAuthFailureThrottle } from '../../src/auth/auth-failure-throttle.js';
import { createCredentialCache } from '../../src/auth/credential-cache.js';
import { createBasicAuthStep } from '../../src/pipeline/steps/basic-auth.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/observability/logger.js';
import { applyHeaderPlan, compileHeaderPlan, SECURITY_HEADER_DEFAULTS } from '../../src/pipeline/header-plan.js';
import { createAccessLogWriter } from '../../src/observability/access-log.js';
import { LineBatcher } from '../../src/observability/line-batcher.js';
import type { RequestContext } from '../../src/pipeline/request-context.js';
import { ProxyEngine } from '../../src/proxy/proxy-engine.js';
import { buildResponseHead } from '../../src/proxy/response-head.js';
import { takeToken, fullTokenBucket } from '../../src/ratelimit/token-bucket.js';
import { compileRouteTable } from '../../src/routing/compile-route-table.js';
import { normalizeHost } from '../../src/routing/normalize-host.js';
import { normalizeRequestPath } from '../../src/routing/path-match.js';
import { compileClientIpResolver } from '../../src/server/client-ip.js';
import { createIpHashBalancer } from '../../src/upstreams/balancers/ip-hash.js';
import { createLeastConnBalancer } from '../../src/upstreams/balancers/least-conn.js';
import { createRoundRobinBalancer } from '../../src/upstreams/balancers/round-robin.js';
import { TargetRegistry } from '../../src/upstreams/target-registry.js';

const hosts = Array.from({ length: 50 }, (_, i) => `  app${i}.example.com:\n    tls: off\n    routes:\n      - { path: /api/, upstream: api }\n      - { path: /static, upstream: "127.0.0.1:3000" }\n      - { path: /, upstream: "127.0.0.1:3000" }\n`).join('');
const config = parseConfig('bench.yaml', `upstreams:
  api: { targets: ["127.0.0.1:8000", "127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003"], balance: ip_hash }
hosts:
${hosts}  "*.preview.example.com": { tls: off, routes: [ { upstream: "127.0.0.1:4000" } ] }
`);
const log = createLogger('silent');
const registry = new TargetRegistry(() => {});
const { table } = compileRouteTable(config, {
  engine: new ProxyEngine(log),
  targets: registry,
  createRateLimitStep: () => () => undefined,
  createBasicAuthStep: () => () => undefined,
}, 1);
const targets = registry.acquire(config.upstreams.get('api')!);
const ips = Array.from({ length: 1024 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`);
let n = 0;

group('routing', () => {
  bench('normalizeHost + lookupHost (exact)', () => do_not_optimize(table.lookupHost(normalizeHost('App25.Example.com:8443'))));
  bench('lookupHost (wildcard)', () => do_not_optimize(table.lookupHost('pr-42.preview.example.com')));
  const host = table.lookupHost('app25.example.com')!;
  bench('normalizeRequestPath (fast path)', () => do_not_optimize(normalizeRequestPath('/api/users/42?page=2')));
  bench('normalizeRequestPath (decode + dot segments)', () => do_not_optimize(normalizeRequestPath('/api/%75sers/../42?page=2')));
  bench('matchRoute (3 routes)', () => do_not_optimize(host.matchRoute('/api/users/42')));
});

group('balancers (4 targets)', () => {
  const rr = createRoundRobinBalancer(targets);
  const lc = createLeastConnBalancer(targets);
  const ih = createIpHashBalancer(targets);
  bench('round_robin pick', () => do_not_optimize(rr.pick('')));
  bench('least_conn pick', () => do_not_optimize(lc.pick('')));
  bench('ip_hash pick', () => do_not_optimize(ih.pick(ips[n++ & 1023]!)));
});

group('per-request helpers', () => {
  const plan = compileHeaderPlan(SECURITY_HEADER_DEFAULTS, { Server: null, 'X-Robots-Tag': 'noindex, nofollow' });
  bench('headerPlan.apply (upstream headers)', () => {
    const headers: Record<string, string> = { 'content-type': 'text/html', server: 'upstream', 'content-length': '13' };
    applyHeaderPlan(plan, headers);
    return do_not_optimize(headers);
  });
  const raw = ['Content-Type', 'text/html', 'Server', 'upstream', 'Content-Length', '13', 'Date', 'Mon, 23 Nov 2026 21:00:00 GMT', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5'];
  bench('buildResponseHead (HTTP/1.1 response head from raw headers)', () => do_not_optimize(buildResponseHead(raw, plan, 'f175bd1e-5848-4806-9d93-5a8ae05ce2c4')));
  const ctx = {
    req: { method: 'GET', url: '/api/users/42?page=2' }, requestId: 'f175bd1e-5848-4806-9d93-5a8ae05ce2c4', clientIp: '203.0.113.9',
    hostLabel: 'app.example.com', routeLabel: '/api', targetLabel: 'http://127.0.0.1:3000',
  } as unknown as RequestContext;
  const sink = { write: (b: Buffer) => do_not_optimize(b), flush: () => {}, flushSync: () => {} };
  const accessLog = createAccessLogWriter(createLogger('info', new LineBatcher(sink)));
  bench('access line (built and encoded into the batch)', () => accessLog(ctx, 200, 1423, 3.517));
  const limit = { ratePerSec: 100, burst: 200 };
  const state = fullTokenBucket(limit, 0);
  let now = 0;
  bench('tokenBucket.take', () => do_not_optimize(takeToken(state, limit, (now += 5))));
  const resolver = compileClientIpResolver(['10.0.0.0/8', '192.168.0.0/16']);
  bench('clientIp.resolve (trusted peer, 3 hops)', () => do_not_optimize(resolver.resolve('10.0.0.1', '203.0.113.7, 192.168.1.1, 10.1.1.1')));
});

const authStep = createBasicAuthStep({
  config: { realm: 'Bench', users: { bench: bcrypt.hashSync('bench-password', 4) } },
  cache: createCredentialCache(),
  throttle: createAuthFailureThrottle(),
  compare: (password, hash) => bcrypt.compare(password, hash), // paid once, before the bench
});
const authCtx = {
  req: { headers: { authorization: `Basic ${Buffer.from('bench:bench-password').toString('base64')}` } }, clientIp: '203.0.113.9',
} as unknown as RequestContext;
await authStep(authCtx); // the first request pays bcrypt once; the cache answers the rest

group('basic auth', () => {
  bench('basic auth step (cached credential)', () => do_not_optimize(authStep(authCtx)));
});

await run({ colors: false });
registry.close();

import t from 'tap';
import type { BasicAuthConfig, Config, RateLimitConfig } from '../../../src/config/config-types.js';
import { parseConfig } from '../../../src/config/load-config.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { Step } from '../../../src/pipeline/step.js';
import { robotsTxtStep } from '../../../src/pipeline/steps/robots-txt.js';
import { ProxyEngine } from '../../../src/proxy/proxy-engine.js';
import { compileRewrite } from '../../../src/routing/compile-rewrite.js';
import { compileRouteTable, compileRouteTableInSlices, type CompileDeps, type CompiledTable } from '../../../src/routing/compile-route-table.js';
import { TargetRegistry } from '../../../src/upstreams/target-registry.js';
import { eventually } from '../../helpers/eventually.js';
import { startUpstream } from '../../helpers/start-upstream.js';

/** Step factories that return named no-op steps, so the order of a route's steps is visible. */
function createDeps(t: Pick<typeof import('tap').default, 'teardown'>): CompileDeps & { names: Map<Step, string> } {
  const names = new Map<Step, string>();
  const named = (name: string): Step => {
    const step: Step = () => undefined;
    names.set(step, name);
    return step;
  };
  const targets = new TargetRegistry(() => {});
  t.teardown(() => targets.close());
  return {
    engine: new ProxyEngine(createLogger('silent')),
    targets,
    names,
    createRateLimitStep: (scope: string, limit: RateLimitConfig) => named(`rate-limit ${scope} ${limit.id}`),
    createBasicAuthStep: (config: BasicAuthConfig) => named(`basic-auth ${config.realm}`),
  };
}

/** The target states a compile uses for one upstream, in the order of its targets. */
const targetsOf = (compiled: CompiledTable, upstream: string) => [...compiled.targets].filter((s) => s.upstream === upstream);

const config = (yaml: string): Config => parseConfig('/etc/portico/routes.yaml', yaml);

const ROUTES = `
upstreams:
  api:
    targets: ["127.0.0.1:8000", "127.0.0.1:8001"]
hosts:
  example.com:
    aliases: [www.example.com]
    routes:
      - path: /
        respond: { body: root }
      - path: /api
        upstream: api
        stripPrefix: true
      - path: /api/users/
        upstream: api
      - path: /apix
        respond: { body: apix }
      - path: /health
        rewrite: /live/
        upstream: api
  "*.preview.example.com":
    routes: [{ respond: { body: preview } }]
  "*":
    routes: [{ respond: { status: 404, body: unknown } }]
`;

t.test('the longest matching prefix wins, whatever the order in the file', async (t) => {
  const { table } = compileRouteTable(config(ROUTES), createDeps(t), 1);
  const host = table.lookupHost('example.com');
  t.ok(host);
  const route = (p: string) => host?.matchRoute(p)?.path;
  t.equal(route('/'), '/');
  t.equal(route('/other'), '/');
  t.equal(route('/api'), '/api');
  t.equal(route('/api/'), '/api');
  t.equal(route('/api/orders'), '/api');
  t.equal(route('/api/users'), '/api/users', 'a trailing / on P is ignored');
  t.equal(route('/api/users/7'), '/api/users');
  t.equal(route('/api/usersx'), '/api', '"P or P/…", not any string starting with P');
  t.equal(route('/apix'), '/apix');
  t.equal(route('/apix/y'), '/apix');
  t.equal(route('/apixy'), '/');
  t.equal(route('/ap'), '/');
});

t.test('a host without "/" has no route for other paths', async (t) => {
  const { table } = compileRouteTable(
    config('hosts:\n  a.example:\n    routes:\n      - path: /only\n        respond: { body: x }\n'),
    createDeps(t),
    1,
  );
  t.equal(table.lookupHost('a.example')?.matchRoute('/only/x')?.path, '/only');
  t.equal(table.lookupHost('a.example')?.matchRoute('/'), undefined);
});

t.test('host lookup through the table: exact, alias, one-label wildcard, catch-all', async (t) => {
  const { table } = compileRouteTable(config(ROUTES), createDeps(t), 7);
  t.equal(table.version, 7);
  t.equal(table.lookupHost('example.com')?.name, 'example.com');
  t.equal(table.lookupHost('www.example.com'), table.lookupHost('example.com'), 'an alias is the same compiled host');
  t.equal(table.lookupHost('pr-1.preview.example.com')?.name, '*.preview.example.com');
  t.equal(table.lookupHost('a.b.preview.example.com')?.name, '*', 'two labels do not match the wildcard');
  t.equal(table.lookupHost('nobody.org')?.name, '*');
  t.ok(Object.isFrozen(table), 'a published table is immutable');
});

t.test('stripPrefix and rewrite are compiled into one rewrite function; the query is kept', async (t) => {
  const routes = config(ROUTES).hosts.find((h) => h.name === 'example.com')?.routes ?? [];
  const rewriteOf = (path: string) => {
    const rc = routes.find((r) => r.path === path);
    if (!rc) throw new Error(`no route ${path}`);
    return compileRewrite(rc);
  };
  const api = rewriteOf('/api');
  t.equal(api?.('/api/orders?page=2', '/api/orders'), '/orders?page=2');
  t.equal(api?.('/api', '/api'), '/');
  const health = rewriteOf('/health');
  t.equal(health?.('/health/deep?v=1', '/health/deep'), '/live/deep?v=1', 'rewrite drops the trailing / of both sides');
  t.equal(health?.('/health', '/health'), '/live');
  t.equal(rewriteOf('/api/users'), undefined, 'no rewrite: the path goes as sent');
});

t.test('steps run in the fixed order: robots-txt, host rate-limit, route rate-limit, basic-auth, body-limit', async (t) => {
  const deps = createDeps(t);
  const { table } = compileRouteTable(
    config(`
hosts:
  staging.example.com:
    noindex: true
    maxBodySize: 1k
    rateLimit: { rate: 100/s }
    basicAuth:
      realm: Staging
      users: { alice: "$2b$04$eUkyFKs1BCSO.zG8AXvGJub0fhmSku8EgXqMig8edDbfKFo1AvV.u" }
    routes:
      - path: /api
        upstream: "127.0.0.1:3000"
        rateLimit: { rate: 10/s, burst: 20 }
      - upstream: "127.0.0.1:3000"
`),
    deps,
    1,
  );
  const host = table.lookupHost('staging.example.com');
  const api = host?.matchRoute('/api');
  const root = host?.matchRoute('/');
  if (!api || !root) return t.fail('routes missing');
  const name = (s: Step) => (s === robotsTxtStep ? 'robots-txt' : deps.names.get(s) ?? 'body-limit');
  t.same(api.steps.map(name), [
    'robots-txt',
    'rate-limit host:staging.example.com 100/s:100:ip',
    'rate-limit route:staging.example.com:/api 10/s:20:ip',
    'basic-auth Staging',
    'body-limit',
  ]);
  t.same(root.steps.map(name), ['robots-txt', 'rate-limit host:staging.example.com 100/s:100:ip', 'basic-auth Staging', 'body-limit']);
  t.equal(api.steps[3], root.steps[2], 'one basic-auth step per host, shared by its routes');
});

t.test('a host without steps has an empty step list', async (t) => {
  const { table } = compileRouteTable(config(ROUTES), createDeps(t), 1);
  t.same(table.lookupHost('example.com')?.matchRoute('/')?.steps, []);
});

t.test('headers: security defaults, overrides, HSTS only for acme/file hosts', async (t) => {
  const { table } = compileRouteTable(
    config(`
tls:
  acme: { email: ops@example.com }
hosts:
  example.com:
    headers: { X-Frame-Options: DENY, Server: null }
    routes: [{ respond: { body: x } }]
  "*.preview.example.com":
    noindex: true
    routes: [{ respond: { body: x } }]
`),
    createDeps(t),
    1,
  );
  const main = table.lookupHost('example.com');
  t.same(main?.httpsHeaders.sets, [['x-frame-options', 'DENY']]);
  t.same(main?.httpsHeaders.removes, ['server']);
  t.same(Object.fromEntries(main?.httpsHeaders.defaults ?? []), {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'strict-origin-when-cross-origin',
    'strict-transport-security': 'max-age=31536000',
  });
  t.notOk(main?.httpHeaders.defaults.some(([n]) => n === 'strict-transport-security'), 'no HSTS over plain HTTP');
  const preview = table.lookupHost('a.preview.example.com');
  t.notOk(preview?.httpsHeaders.defaults.some(([n]) => n === 'strict-transport-security'), 'no HSTS for self-signed hosts');
  t.same(preview?.httpsHeaders.sets, [['x-robots-tag', 'noindex, nofollow']]);
});

t.test('registry carry-over: an unchanged upstream keeps the same TargetState objects', async (t) => {
  const deps = createDeps(t);
  const first = compileRouteTable(config(ROUTES), deps, 1);
  const before = targetsOf(first, 'api');
  t.equal(before.length, 2);
  before[0]!.inFlight = 3;
  before[1]!.healthy = false;

  // Another config: routes changed, a new upstream added, "api" unchanged.
  const next = compileRouteTable(
    config(`
upstreams:
  api:
    targets: ["127.0.0.1:8000", "127.0.0.1:8001"]
  web:
    targets: ["127.0.0.1:9000"]
hosts:
  example.com:
    routes:
      - path: /v2
        upstream: api
      - upstream: web
`),
    deps,
    2,
  );
  deps.targets.retain(next.targets);
  const after = targetsOf(next, 'api');
  t.equal(after[0], before[0], 'same object for 127.0.0.1:8000');
  t.equal(after[1], before[1], 'same object for 127.0.0.1:8001');
  t.equal(after[0]?.inFlight, 3, 'in-flight count carried over');
  t.equal(after[1]?.healthy, false, 'health carried over');
  t.equal(deps.targets.all().length, 3);
});

t.test('registry: a removed target is retired, a changed healthCheck gets a fresh state', async (t) => {
  const deps = createDeps(t);
  const first = compileRouteTable(config(ROUTES), deps, 1);
  const [kept, removed] = targetsOf(first, 'api');
  const next = compileRouteTable(
    config(`
upstreams:
  api:
    targets: ["127.0.0.1:8000"]
  checked:
    targets: ["127.0.0.1:8000"]
    healthCheck: { interval: 1h }
hosts:
  example.com:
    routes: [{ upstream: api }, { path: /c, upstream: checked }]
`),
    deps,
    2,
  );
  deps.targets.retain(next.targets);
  t.equal(targetsOf(next, 'api')[0], kept);
  t.notOk(deps.targets.all().includes(removed!), 'the removed target is no longer in the registry');
  t.notOk(next.targets.has(removed!));
  const checked = targetsOf(next, 'checked')[0];
  t.not(checked, kept, 'another upstream (and health check) is another identity');
});

t.test('a retired target stops its health checks at once', async (t) => {
  const probes = { keep: 0, gone: 0 };
  const upstream = await startUpstream((req, res) => {
    if (req.url === '/keep') probes.keep++;
    if (req.url === '/gone') probes.gone++;
    res.end('ok');
  });
  t.teardown(() => upstream.close());
  const deps = createDeps(t);
  const yaml = (names: string[]) =>
    `upstreams:\n${names.map((n) => `  ${n}:\n    targets: ["${upstream.target}"]\n    healthCheck: { path: /${n}, interval: 20ms }\n`).join('')}` +
    `hosts:\n  example.com:\n    routes:\n${names.map((n) => `      - { path: /${n}, upstream: ${n} }\n`).join('')}`;
  const first = compileRouteTable(config(yaml(['keep', 'gone'])), deps, 1);
  deps.targets.retain(first.targets);
  await eventually(() => probes.gone >= 2 && probes.keep >= 2, { within: 3000, message: 'both checkers probe' });

  const next = compileRouteTable(config(yaml(['keep'])), deps, 2);
  deps.targets.retain(next.targets);
  const goneAtRetire = probes.gone;
  const keepAtRetire = probes.keep;
  // Five more probes of the kept checker span several intervals of the retired one.
  await eventually(() => probes.keep >= keepAtRetire + 5, { within: 3000, message: 'the kept checker goes on' });
  t.ok(probes.gone <= goneAtRetire + 1, `the retired checker stopped (at most the probe in flight): ${goneAtRetire} -> ${probes.gone}`);
});

const SITES = (edit: { bPath?: string; target?: string; extra?: boolean } = {}) => `
upstreams:
  app:
    targets: ["${edit.target ?? '127.0.0.1:8000'}"]
hosts:
  a.example:
    aliases: [www.a.example]
    routes:
      - path: /
        upstream: app
  b.example:
    routes:
      - path: ${edit.bPath ?? '/'}
        upstream: app
  "*.c.example":
    routes:
      - path: /
        respond: { body: c }
${edit.extra ? '  d.example:\n    routes:\n      - path: /\n        upstream: app\n' : ''}`;

t.test('a recompile keeps the compiled hosts it is given the same config objects for', async (t) => {
  const deps = createDeps(t);
  const first = config(SITES());
  const one = await compileRouteTableInSlices(first, deps, 1);
  // The config loader hands back the HostConfig object of every host whose text is unchanged:
  // here host b is edited and host d added, a and *.c are the objects of the first load.
  const edited = config(SITES({ bPath: '/new', extra: true }));
  const keep = (name: string) => first.hosts.find((h) => h.name === name)!;
  const fresh = (name: string) => edited.hosts.find((h) => h.name === name)!;
  const next: Config = { ...edited, hosts: [keep('a.example'), fresh('b.example'), keep('*.c.example'), fresh('d.example')] };
  const two = await compileRouteTableInSlices(next, deps, 2, one.table);

  t.equal(two.table.lookupHost('a.example'), one.table.lookupHost('a.example'), 'an unchanged host is the same compiled host');
  t.equal(two.table.lookupHost('www.a.example'), one.table.lookupHost('a.example'), 'reached by its alias too');
  t.equal(two.table.lookupHost('x.c.example'), one.table.lookupHost('x.c.example'), 'and a wildcard host');
  t.not(two.table.lookupHost('b.example'), one.table.lookupHost('b.example'), 'the edited host is compiled anew');
  t.equal(two.table.lookupHost('b.example')?.matchRoute('/'), undefined, 'its old route is gone');
  t.equal(two.table.lookupHost('b.example')?.matchRoute('/new/x')?.path, '/new', 'its new route is there');
  t.equal(two.table.lookupHost('d.example')?.matchRoute('/')?.path, '/', 'an added host is compiled');
  t.equal(two.table.version, 2);
  t.equal(two.table.config, next);
  t.same([...two.targets], [...one.targets], 'the same target states');

  // Without the host b, and from a table the first compile made: removed hosts are not served.
  const three = await compileRouteTableInSlices({ ...first, hosts: [keep('a.example')] }, deps, 3, two.table);
  t.equal(three.table.lookupHost('b.example'), undefined, 'a removed host is gone');
  t.equal(three.table.lookupHost('a.example'), one.table.lookupHost('a.example'));

  // Hosts hold their upstream pools: another upstream target means every host is compiled anew.
  const moved = config(SITES({ target: '127.0.0.1:8001' }));
  const four = await compileRouteTableInSlices({ ...moved, hosts: [keep('a.example')] }, deps, 4, three.table);
  t.not(four.table.lookupHost('a.example'), one.table.lookupHost('a.example'), 'a changed upstream recompiles its hosts');
  t.same([...four.targets].map((s) => s.url), ['http://127.0.0.1:8001'], 'against the new target');

  // A table compiled against other services (another gateway) is never reused.
  const other = createDeps(t);
  const five = await compileRouteTableInSlices(first, other, 5, one.table);
  t.not(five.table.lookupHost('a.example'), one.table.lookupHost('a.example'), 'other compile deps: compiled anew');
});

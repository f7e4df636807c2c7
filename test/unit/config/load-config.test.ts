import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Config, HostConfig, UpstreamConfig } from '../../../src/config/config-types.js';
import { loadConfig, parseConfig } from '../../../src/config/load-config.js';
import { ConfigError, formatIssue } from '../../../src/errors.js';

// Golden fixtures (Caddy's caddyfile_adapt idea): every valid/*.yaml must load, every
// invalid/<case>.yaml must fail with exactly the FILE:LINE:COL lines of <case>.expected.
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const fixtures = join(root, 'test/fixtures/config');
const validDir = join(fixtures, 'valid');
const invalidDir = join(fixtures, 'invalid');
/** The path as a user would type it on the command line: relative to the working directory. */
const asGiven = (abs: string) => relative(process.cwd(), abs);

const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

async function issuesOf(file: string): Promise<string[]> {
  try {
    await loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map(formatIssue);
    throw err;
  }
  return [];
}

const host = (config: Config, name: string): HostConfig => {
  const h = config.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no host ${name}`);
  return h;
};
const upstream = (config: Config, name: string): UpstreamConfig => {
  const u = config.upstreams.get(name);
  if (!u) throw new Error(`no upstream ${name}`);
  return u;
};

t.test('every valid fixture loads', async (t) => {
  const files = yamlFiles(validDir);
  t.ok(files.length >= 3, 'there are golden valid configs');
  for (const f of files) {
    const file = asGiven(join(validDir, f));
    const { config, digest } = await loadConfig(file);
    t.equal(config.file, file, `${f}: file is kept as given`);
    t.equal(digest, createHash('sha256').update(readFileSync(join(validDir, f))).digest('hex'), `${f}: the content's digest is returned for change detection`);
    t.ok(config.hosts.length > 0, `${f}: has hosts`);
  }
});

t.test('the repo routes.yaml and every examples/*.yaml load (documentation cannot rot)', async (t) => {
  const examples = join(root, 'examples');
  const files = [join(root, 'routes.yaml'), ...(existsSync(examples) ? yamlFiles(examples).map((f) => join(examples, f)) : [])];
  for (const f of files) {
    const file = asGiven(f);
    t.same(await issuesOf(file), [], file);
  }
});

t.test('every invalid fixture fails with exactly its .expected lines', async (t) => {
  const files = yamlFiles(invalidDir);
  t.ok(files.length >= 18, 'the invalid cases are all there');
  for (const f of files) {
    const file = asGiven(join(invalidDir, f));
    const expectedFile = join(invalidDir, f.replace(/\.yaml$/, '.expected'));
    const expected = readFileSync(expectedFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.replace(/^FILE:/, `${file}:`).replaceAll('DIR', invalidDir));
    t.ok(expected.length > 0, `${f}: .expected is not empty`);
    t.same(await issuesOf(file), expected, f);
  }
});

t.test('every .expected has its .yaml and the other way round', async (t) => {
  const names = readdirSync(invalidDir);
  const cases = yamlFiles(invalidDir).map((f) => f.slice(0, -5)).sort();
  const expected = names.filter((f) => f.endsWith('.expected')).map((f) => f.slice(0, -9)).sort();
  t.same(expected, cases);
});

t.test('SPEC §2 example: units, defaults and relative paths', async (t) => {
  const { config } = await loadConfig(asGiven(join(validDir, 'spec-example.yaml')));
  t.same(config.listen, { http: { host: undefined, port: 80 }, https: { host: undefined, port: 443 } });
  t.same(config.admin, { host: '127.0.0.1', port: 9901 });
  t.same(config.tls, {
    certsDir: join(validDir, 'certs'),
    minVersion: 'TLSv1.2',
    acme: {
      email: 'ops@example.com',
      directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
      caFile: join(validDir, 'files/pebble-ca.pem'),
      renewBeforeMs: 30 * 86_400_000,
    },
  });
  t.same(config.redis, { url: 'redis://127.0.0.1:6379', prefix: 'portico:' });
  t.same(config.trustedProxies, ['10.0.0.0/8']);
  t.same(config.log, { level: 'info', access: true });

  t.same(upstream(config, 'api'), {
    name: 'api',
    targets: [{ url: 'http://127.0.0.1:8000', weight: 1 }, { url: 'http://127.0.0.1:8002', weight: 1 }],
    balance: 'ip_hash',
    healthCheck: { path: '/live', intervalMs: 5_000, timeoutMs: 2_000, unhealthyAfter: 2, healthyAfter: 1 },
    connectTimeoutMs: 5_000,
    responseTimeoutMs: 60_000,
  });

  const main = host(config, 'example.com');
  t.same(main.aliases, ['www.example.com']);
  t.same(main.tls, { kind: 'acme' });
  t.same(main.headers, { 'X-Frame-Options': 'DENY', Server: null }, 'null is kept: it removes the header');
  t.same(main.rateLimit, { ratePerSec: 100, burst: 200, key: { kind: 'ip' }, id: '100/s:200:ip' });
  t.equal(main.maxBodySize, 10 * 1024 * 1024);
  t.same(main.routes.map((r) => r.path), ['/api', '/health', '/maintenance', '/old', '/'], 'a trailing / on a prefix is dropped');
  const [api, health, maintenance, old, rest] = main.routes;
  t.equal(api?.stripPrefix, true);
  t.same(api?.rateLimit, { ratePerSec: 10, burst: 20, key: { kind: 'ip' }, id: '10/s:20:ip' });
  t.same(api?.action, { kind: 'proxy', upstream: 'api' });
  t.equal(health?.rewrite, '/live');
  t.equal(health?.stripPrefix, false);
  t.same(maintenance?.action, { kind: 'respond', status: 503, body: 'Back soon\n', headers: { 'Retry-After': '120' } });
  t.same(old?.action, { kind: 'redirect', to: 'https://example.com/new/', status: 301 });
  t.same(rest?.action, { kind: 'proxy', upstream: 'inline:127.0.0.1:3000' });
  t.same(upstream(config, 'inline:127.0.0.1:3000').targets, [{ url: 'http://127.0.0.1:3000', weight: 1 }]);

  const staging = host(config, 'staging.example.com');
  t.same(staging.tls, { kind: 'acme' }, 'with tls.acme an exact host defaults to acme');
  t.equal(staging.noindex, true);
  t.same(staging.basicAuth, { realm: 'Staging', users: { alice: '$2b$04$eUkyFKs1BCSO.zG8AXvGJub0fhmSku8EgXqMig8edDbfKFo1AvV.u' }, forwardAuthorization: true });
  t.same(host(config, 'vault.example.com').tls, { kind: 'off' });
  t.same(host(config, 'files.example.com').tls, {
    kind: 'file',
    certFile: join(validDir, 'files/example.crt'),
    keyFile: join(validDir, 'files/example.key'),
  });
  t.same(host(config, '*.preview.example.com').tls, { kind: 'self-signed' }, 'wildcards default to self-signed');
  t.same(host(config, '*').tls, { kind: 'self-signed' }, '"*" defaults to self-signed');
  t.same(host(config, '*').routes[0]?.action, { kind: 'respond', status: 404, body: 'unknown host\n', headers: {} });
});

t.test('minimal file: every default of SPEC §2', async (t) => {
  const { config } = await loadConfig(asGiven(join(validDir, 'minimal.yaml')));
  t.same(config.listen, { http: { host: undefined, port: 80 }, https: { host: undefined, port: 443 } }, 'listen 80/443');
  t.equal(config.admin, undefined, 'no admin unless asked');
  t.same(config.tls, { certsDir: join(validDir, 'certs'), minVersion: 'TLSv1.2', acme: undefined }, 'certs default ./certs next to the file');
  t.equal(config.redis, undefined);
  t.same(config.trustedProxies, [], 'no proxy is trusted by default');
  t.same(config.log, { level: 'info', access: true });

  const app = upstream(config, 'app');
  t.same(app.targets, [{ url: 'http://localhost:3000', weight: 1 }]);
  t.equal(app.balance, 'round_robin');
  t.same(app.healthCheck, { path: '/', intervalMs: 5_000, timeoutMs: 2_000, unhealthyAfter: 2, healthyAfter: 1 }, 'healthCheck defaults 5s/2s/2/1');
  t.equal(app.connectTimeoutMs, 5_000, 'connect 5s');
  t.equal(app.responseTimeoutMs, 60_000, 'response 60s');

  const h = host(config, 'app.example.com');
  t.same(h.tls, { kind: 'self-signed' }, 'self-signed without tls.acme');
  t.same(h.aliases, []);
  t.same(h.headers, {});
  t.equal(h.noindex, false);
  t.equal(h.basicAuth, undefined);
  t.equal(h.maxBodySize, undefined, 'maxBodySize unlimited');
  t.equal(h.rateLimit, undefined);
  const [root, old, limited] = h.routes;
  t.equal(root?.path, '/', 'path defaults to /');
  t.same(old?.action, { kind: 'redirect', to: '/new', status: 308 }, 'redirect status defaults to 308');
  t.equal(limited?.rateLimit?.burst, 5, 'burst defaults to the rate N');
  t.ok(Math.abs((limited?.rateLimit?.ratePerSec ?? 0) - 5 / 60) < 1e-12, '5/m in tokens per second');
});

t.test('environments: anchors and merge keys reuse a stanza, explicit keys win', async (t) => {
  const { config } = await loadConfig(asGiven(join(validDir, 'environments.yaml')));
  t.same(config.listen, { http: { host: '127.0.0.1', port: 8080 }, https: { host: '::1', port: 8443 } });
  t.same(config.admin, { host: '127.0.0.1', port: 9901 }, 'a bare admin port binds loopback');
  t.equal(config.tls.certsDir, resolve(validDir, '../state/certs'));
  t.equal(config.tls.minVersion, 'TLSv1.3');
  t.equal(config.tls.acme?.directoryUrl, 'https://acme-staging-v02.api.letsencrypt.org/directory');
  t.equal(config.tls.acme?.renewBeforeMs, 30 * 86_400_000, 'renewBefore defaults to 30d');
  t.equal(config.tls.acme?.caFile, undefined);
  t.same(config.trustedProxies, ['10.0.0.0/8', '192.168.1.10', 'fd00::/8']);

  const prod = upstream(config, 'prod-web');
  t.equal(prod.balance, 'least_conn');
  t.same(prod.healthCheck, { path: '/healthz', intervalMs: 500, timeoutMs: 2_000, unhealthyAfter: 2, healthyAfter: 1 });
  t.equal(prod.responseTimeoutMs, 120_000);
  const staging = upstream(config, 'staging-web');
  t.same(staging.targets, [{ url: 'http://127.0.0.1:3100', weight: 1 }], 'own targets win over the merged ones');
  t.equal(staging.balance, 'least_conn', 'balance merged from the anchor');
  t.same(staging.healthCheck, prod.healthCheck, 'healthCheck merged from the anchor');
  t.equal(staging.responseTimeoutMs, 120_000);
  t.equal(upstream(config, 'dev-web').balance, 'round_robin', 'an explicit key overrides the merged one');

  const p = host(config, 'example.com');
  const s = host(config, 'staging.example.com');
  const d = host(config, 'dev.example.com');
  t.same(p.rateLimit?.key, { kind: 'header', name: 'X-Api-Key' });
  t.equal(p.rateLimit?.burst, 50, 'burst defaults to N');
  t.same(s.headers, p.headers, 'staging inherits headers from production');
  t.same(s.rateLimit, p.rateLimit);
  t.same(s.aliases, [], 'staging overrides aliases (otherwise www would be a duplicate)');
  t.equal(s.noindex, true);
  t.equal(s.basicAuth?.realm, 'Restricted', 'realm default');
  t.equal(s.basicAuth?.forwardAuthorization, true, 'the Authorization header is forwarded by default, as nginx does');
  t.same(s.routes.map((r) => r.action), [
    { kind: 'proxy', upstream: 'staging-web' },
    { kind: 'proxy', upstream: 'inline:127.0.0.1:4000,127.0.0.1:4001' },
  ]);
  t.equal(p.routes[1]?.stripPrefix, true);
  t.equal(s.routes[1]?.stripPrefix, false, 'routes are replaced, not merged');
  t.equal(d.noindex, true, 'the first merge source wins over later ones');
  t.ok(d.basicAuth, 'dev is guarded like staging');
  t.equal(d.maxBodySize, 1024 ** 3);
  t.same(d.routes.map((r) => r.action), [{ kind: 'proxy', upstream: 'dev-web' }]);

  const inline = upstream(config, 'inline:127.0.0.1:4000,127.0.0.1:4001');
  t.same(inline.targets, [{ url: 'http://127.0.0.1:4000', weight: 1 }, { url: 'http://127.0.0.1:4001', weight: 1 }], 'an inline list is one pool');
  t.equal(inline.healthCheck, undefined, 'no active check unless healthCheck is given');
  t.same(upstream(config, 'inline:https://cdn.internal:8443').targets, [{ url: 'https://cdn.internal:8443', weight: 1 }]);

  t.same(p.tls, { kind: 'acme' });
  t.same(host(config, '*.preview.example.com').tls, { kind: 'self-signed' });
  t.same(host(config, '*').tls, { kind: 'self-signed' });
});

t.test('relative paths resolve against the config file, not the working directory', async (t) => {
  const source = 'tls:\n  certs: state/certs\nhosts:\n  a.example:\n    routes: [{ upstream: "127.0.0.1:3000" }]\n';
  t.equal(parseConfig('/etc/portico/routes.yaml', source).tls.certsDir, '/etc/portico/state/certs');
  t.equal(parseConfig('/srv/x/y/routes.yaml', source).tls.certsDir, '/srv/x/y/state/certs');
  const viaRelative = await loadConfig(asGiven(join(validDir, 'spec-example.yaml')));
  const viaAbsolute = await loadConfig(join(validDir, 'spec-example.yaml'));
  t.same(viaRelative.config.tls, viaAbsolute.config.tls);
});

t.test('hosts and aliases are stored lower case without a trailing dot', async (t) => {
  const config = parseConfig('r.yaml', 'hosts:\n  Example.COM.:\n    aliases: [WWW.Example.com.]\n    routes: [{ upstream: "127.0.0.1:3000" }]\n');
  t.equal(config.hosts[0]?.name, 'example.com');
  t.same(config.hosts[0]?.aliases, ['www.example.com']);
});

t.test('targets: host:port (any port, IPv6 too), http and https URLs; names need a port', async (t) => {
  const load = (target: string) =>
    parseConfig('r.yaml', `upstreams:\n  u:\n    targets: ["${target}"]\nhosts:\n  a.example:\n    routes: [{ upstream: u }]\n`).upstreams.get('u')?.targets[0]?.url;
  t.equal(load('10.0.0.1:80'), 'http://10.0.0.1', 'the default port is a port too');
  t.equal(load('10.0.0.1:8000'), 'http://10.0.0.1:8000');
  t.equal(load('[::1]:8000'), 'http://[::1]:8000');
  t.equal(load('[::1]:80'), 'http://[::1]');
  t.equal(load('https://api.internal'), 'https://api.internal');
  t.equal(load('http://app:3000'), 'http://app:3000');
  t.throws(() => load('app'), ConfigError, 'a bare name is a typo for an upstream name');
  t.throws(() => load('ftp://x:21'), ConfigError);
  t.throws(() => load('http://x:1/path'), ConfigError, 'a target is an origin, no path');
});

t.test('an unreadable or missing config file is one issue at 1:1', async (t) => {
  const file = asGiven(join(fixtures, 'does-not-exist.yaml'));
  t.same(await issuesOf(file), [`${file}:1:1: cannot read config file (ENOENT)`]);
  t.same(await issuesOf(asGiven(fixtures)), [`${asGiven(fixtures)}:1:1: cannot read config file (EISDIR)`], 'a directory');
});

t.test('an empty document reports the missing hosts key', async (t) => {
  const err = t.throws(() => parseConfig('empty.yaml', '')) as ConfigError;
  t.same(err.issues.map(formatIssue), ['empty.yaml:1:1: missing required key "hosts"']);
  t.equal(err.code, 'PORTICO_CONFIG_INVALID');
});

t.test('parseConfig and loadConfig agree on invalid fixtures', async (t) => {
  for (const f of yamlFiles(invalidDir)) {
    const file = asGiven(join(invalidDir, f));
    const viaParse = (() => {
      try {
        parseConfig(file, readFileSync(join(invalidDir, f), 'utf8'));
        return [];
      } catch (err) {
        return (err as ConfigError).issues.map(formatIssue);
      }
    })();
    t.same(viaParse, await issuesOf(file), f);
  }
});

t.test('targets take a weight: "host:port" is weight 1, { url, weight } sets it, 0 is a standby', async (t) => {
  const config = parseConfig(
    'r.yaml',
    `upstreams:
  api:
    targets:
      - "127.0.0.1:8000"
      - { url: "127.0.0.1:8001", weight: 19 }
      - { url: "https://10.0.0.2", weight: 0 }
      - { url: "[::1]:8003" }
hosts:
  a.example:
    routes: [{ upstream: api }, { path: /inline, upstream: ["127.0.0.1:9000", "127.0.0.1:9001"] }]
`,
  );
  t.same(upstream(config, 'api').targets, [
    { url: 'http://127.0.0.1:8000', weight: 1 },
    { url: 'http://127.0.0.1:8001', weight: 19 },
    { url: 'https://10.0.0.2', weight: 0 },
    { url: 'http://[::1]:8003', weight: 1 },
  ]);
  t.same(upstream(config, 'inline:127.0.0.1:9000,127.0.0.1:9001').targets.map((x) => x.weight), [1, 1], 'inline targets weigh 1');
});

t.test('SPEC §4: compress, allow/deny and errorPages, as the runtime sees them', async (t) => {
  const { config } = await loadConfig(join(validDir, 'traffic-features.yaml'));
  const example = host(config, 'example.com');
  const route = (h: HostConfig, path: string) => h.routes.find((r) => r.path === path)!;
  t.same(example.access, { allow: ['203.0.113.0/24', '2001:db8::/32'], deny: ['203.0.113.9'] });
  t.same(route(example, '/admin').access, { allow: ['10.0.0.0/8'], deny: [] }, "a route's lists replace its host's, both of them");
  t.equal(route(example, '/').access, example.access, 'a route without lists uses its host');
  t.equal(route(example, '/').compress, true, 'compress is inherited from the host');
  t.equal(route(example, '/events').compress, false, 'and the route wins');
  const open = host(config, 'open.example.com');
  t.equal(open.access, undefined);
  t.same(open.routes[0]!.access, { allow: undefined, deny: ['::1'] });
  t.equal(open.routes[0]!.compress, true);
  const down = '<h1>The app is down</h1>\n';
  t.same(Object.keys(example.errorPages).sort(), ['404', '502', '504'], 'top-level pages merged into the host');
  t.equal(example.errorPages['404']!.html, down, 'the host wins for a status it names');
  t.equal(example.errorPages['502']!.file, join(validDir, 'files/errors/down.html'), 'paths resolve against the config file');
  t.equal(open.errorPages['404']!.html, '<h1>Not here</h1>\n');
  t.equal(config.errorPages['502']!.html, down, 'read at load');
});

import bcrypt from 'bcryptjs';
import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { startPortico } from '../helpers/start-portico.js';
import { echoHandler, startUpstream } from '../helpers/start-upstream.js';

// SPEC §3 Admin: /healthz, /metrics (the SPEC metric names), POST /reload (see reload.test.ts),
// /config with password hashes redacted, /upstreams; loopback only; no public security headers.

const up = await startUpstream(echoHandler('up'));
t.teardown(() => up.close());
const hash = await bcrypt.hash('s3cret', 4);

const portico = await startPortico(`
upstreams:
  app: { targets: ["${up.target}"] }
hosts:
  open.test:
    tls: off
    routes: [ { upstream: app } ]
  limited.test:
    tls: off
    rateLimit: { rate: 1/m, burst: 1 }
    routes: [ { respond: { body: "ok" } } ]
  staging.test:
    tls: off
    basicAuth: { realm: Staging, users: { alice: "${hash}" } }
    routes: [ { upstream: app } ]
  secure.test:
    tls: self-signed
    routes: [ { upstream: app } ]
`);
t.teardown(() => portico.close());

const admin = (path: string, opts: Parameters<typeof request>[2] = {}) => request(portico.admin, path, { ...opts, headers: { host: `127.0.0.1:${portico.admin}`, ...opts.headers } });

t.test('GET /healthz → 200', async (t) => {
  const r = await admin('/healthz');
  t.equal(r.status, 200);
  t.equal(r.body, 'ok\n');
});

t.test('GET /metrics exposes the SPEC metrics in Prometheus text', async (t) => {
  await request(portico.http, '/', { headers: { host: 'Open.Test:8080' } });
  await request(portico.http, '/', { headers: { host: 'nowhere.test' } });
  t.equal((await request(portico.http, '/', { headers: { host: 'limited.test' } })).status, 200);
  t.equal((await request(portico.http, '/', { headers: { host: 'limited.test' } })).status, 429);
  await request(portico.https, '/', { https: true, headers: { host: 'secure.test' } });

  const r = await admin('/metrics');
  t.equal(r.status, 200);
  t.match(r.headers['content-type'], /^text\/plain/);
  const m = r.body;
  t.match(m, /^portico_requests_total\{host="open\.test",class="2xx"\} [1-9]/m, 'the host label is the configured name, not the raw header');
  t.match(m, /^portico_requests_total\{host="-",class="4xx"\} [1-9]/m, 'unknown hosts share one label');
  t.match(m, /^portico_requests_total\{host="limited\.test",class="4xx"\} 1$/m);
  t.match(m, /^# TYPE portico_request_duration_seconds histogram$/m);
  t.match(m, /^portico_request_duration_seconds_bucket\{le="0\.1",host="open\.test"\} \d+/m);
  t.match(m, new RegExp(`^portico_upstream_target_up\\{upstream="app",target="http://${up.target.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
  t.match(m, /^portico_rate_limited_total\{scope="host:limited\.test"\} 1$/m);
  t.match(m, /^# TYPE portico_certificate_expiry_seconds gauge$/m);
  await eventually(async () => /^portico_certificate_expiry_seconds\{host="secure\.test",source="self-signed"\} \d{10}$/m.test((await admin('/metrics')).body), {
    within: 3000,
    message: 'certificate expiry of the self-signed host',
  });
  t.match(m, /^portico_reloads_total\{result="ok"\} 0$/m);
  t.match(m, /^portico_reloads_total\{result="error"\} 0$/m);
});

t.test('GET /config shows the active config with password hashes redacted', async (t) => {
  const r = await admin('/config');
  t.equal(r.status, 200);
  t.match(r.headers['content-type'], /^application\/json/);
  t.notOk(r.body.includes('$2'), 'no bcrypt hash in the body');
  t.notOk(r.body.includes(hash.slice(7)), 'not even the hash without its prefix');
  const config = JSON.parse(r.body) as { hosts: { name: string; basicAuth?: { realm: string; users: Record<string, string> } }[]; upstreams: Record<string, unknown> };
  const staging = config.hosts.find((h) => h.name === 'staging.test');
  t.same(Object.keys(staging?.basicAuth?.users ?? {}), ['alice'], 'user names are kept');
  t.equal(staging?.basicAuth?.realm, 'Staging');
  t.ok(config.upstreams.app, 'upstreams are listed');
});

t.test('GET /upstreams lists targets, weight, state, health and in-flight counts', async (t) => {
  const r = await admin('/upstreams');
  t.equal(r.status, 200);
  const target = { target: up.target, url: `http://${up.target}`, weight: 1, state: 'active', healthy: true, inFlight: 0, lastCheck: null };
  const pool = { active: 0, idle: Number, queued: 0 };
  t.same(Object.keys(JSON.parse(r.body)), ['app']);
  t.match(JSON.parse(r.body), { app: { targets: [{ ...target, connections: pool }] } });
  t.match(JSON.parse((await admin('/upstreams/app')).body), { targets: [{ ...target, connections: pool }] }, 'one upstream');
  t.match(JSON.parse((await admin(`/upstreams/app/targets/${up.target}`)).body), { ...target, connections: pool }, 'one target');
  t.equal((await admin('/upstreams/nope')).status, 404);
});

t.test('the admin API refuses non-loopback Host headers (DNS rebinding)', async (t) => {
  for (const host of ['evil.example', 'evil.example:9901', '10.0.0.1', '127.0.0.1.evil.example']) {
    const r = await admin('/config', { headers: { host } });
    t.equal(r.status, 403, `Host: ${host}`);
    t.notOk(r.body.includes('hosts'), 'no config leaked');
  }
  const reload = await admin('/reload', { method: 'POST', headers: { host: 'evil.example' } });
  t.equal(reload.status, 403, 'POST /reload too');
  for (const host of ['localhost', `localhost:${portico.admin}`, '127.0.0.1', '[::1]:1234']) {
    t.equal((await admin('/healthz', { headers: { host } })).status, 200, `Host: ${host}`);
  }
});

t.test('admin responses carry none of the public security headers', async (t) => {
  for (const path of ['/healthz', '/metrics', '/config', '/upstreams', '/nope']) {
    const r = await admin(path);
    for (const h of ['x-content-type-options', 'x-frame-options', 'referrer-policy', 'strict-transport-security']) {
      t.equal(r.headers[h], undefined, `${path}: no ${h}`);
    }
  }
  t.equal((await admin('/nope')).status, 404);
  t.equal((await admin('/reload')).status, 404, 'GET /reload does not reload');
});

t.test('the admin address must be loopback', async (t) => {
  await t.rejects(
    startPortico('hosts:\n  a.test: { tls: off, routes: [ { respond: { body: x } } ] }\n', {
      preamble: 'listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" }\nadmin: 0.0.0.0:0\n',
    }),
    /loopback/,
  );
});

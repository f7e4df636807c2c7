import bcrypt from 'bcryptjs';
import t, { type Test } from 'tap';
import { request, type Reply } from '../helpers/http-request.js';
import { startPortico } from '../helpers/start-portico.js';
import { deadTarget, echoHandler, startUpstream } from '../helpers/start-upstream.js';

// SPEC §3 noindex and Security headers: every response of a noindex host carries
// X-Robots-Tag (Portico's own replies and 4xx/5xx included), /robots.txt is answered without
// auth, and the default security headers are on Portico's own 401 and 429 replies too.

const NOINDEX = 'noindex, nofollow';
const ROBOTS = 'User-agent: *\nDisallow: /\n';
const password = 'dev-pass';
const hash = await bcrypt.hash(password, 4);
const authorization = `Basic ${Buffer.from(`dev:${password}`).toString('base64')}`;

const upstream = await startUpstream((req, res) => {
  if (req.url === '/robots.txt') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('upstream robots\n');
    return;
  }
  if (req.url === '/loud') {
    // An upstream that wants to be indexed must not win on a noindex host.
    res.writeHead(200, { 'content-type': 'text/plain', 'x-robots-tag': 'all' });
    res.end('loud');
    return;
  }
  echoHandler('app')(req, res);
});
t.teardown(() => upstream.close());

// A refused port for the 502 case.
const gone = await deadTarget();

const portico = await startPortico(`
hosts:
  dev.test:
    tls: off
    noindex: true
    basicAuth: { realm: Dev, users: { dev: "${hash}" } }
    routes: [ { upstream: "${upstream.target}" } ]
  limited.test:
    tls: off
    noindex: true
    rateLimit: { rate: 1/m, burst: 1 }
    routes: [ { respond: { body: "ok\\n" } } ]
  api-only.test:
    tls: off
    noindex: true
    routes:
      - { path: /api, upstream: "${upstream.target}" }
      - { path: /loud, upstream: "${upstream.target}" }
      - { path: /down, upstream: "${gone}" }
      - { path: /own, respond: { status: 200, body: "own reply\\n" } }
      - { path: /teapot, respond: { status: 418, body: "short and stout\\n" } }
  public.test:
    tls: off
    routes: [ { upstream: "${upstream.target}" } ]
`);
t.teardown(() => portico.close());

function get(host: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return request(portico.http, path, { headers: { host, ...headers } });
}

function securityHeaders(t: Test, r: Reply, what: string): void {
  t.equal(r.headers['x-content-type-options'], 'nosniff', `${what}: X-Content-Type-Options`);
  t.equal(r.headers['x-frame-options'], 'SAMEORIGIN', `${what}: X-Frame-Options`);
  t.equal(r.headers['referrer-policy'], 'strict-origin-when-cross-origin', `${what}: Referrer-Policy`);
}

t.test('X-Robots-Tag on a proxied 200', async (t) => {
  const r = await get('dev.test', '/page', { authorization });
  t.equal(r.status, 200);
  t.equal(JSON.parse(r.body).name, 'app', 'proxied');
  t.equal(r.headers['x-robots-tag'], NOINDEX);
  const loud = await get('api-only.test', '/loud');
  t.equal(loud.status, 200);
  t.equal(loud.headers['x-robots-tag'], NOINDEX, 'the upstream\'s own X-Robots-Tag is overridden');
});

const ERROR_REPLIES = [
  { what: 'a 401 of an auth host', host: 'dev.test', path: '/page', status: 401 },
  { what: 'a 404 when no route matches', host: 'api-only.test', path: '/nothing-here', status: 404 },
  { what: 'a 502 when the upstream is down', host: 'api-only.test', path: '/down', status: 502 },
];
for (const { what, host, path, status } of ERROR_REPLIES) {
  t.test(`X-Robots-Tag on ${what}`, async (t) => {
    const r = await get(host, path);
    t.equal(r.status, status);
    t.equal(r.headers['x-robots-tag'], NOINDEX);
  });
}

t.test('X-Robots-Tag on Portico\'s own replies (respond action)', async (t) => {
  const own = await get('api-only.test', '/own');
  t.equal(own.status, 200);
  t.equal(own.body, 'own reply\n');
  t.equal(own.headers['x-robots-tag'], NOINDEX);
  const teapot = await get('api-only.test', '/teapot');
  t.equal(teapot.status, 418);
  t.equal(teapot.headers['x-robots-tag'], NOINDEX);
});

t.test('GET /robots.txt on a noindex + auth host is Portico\'s disallow-all, without credentials', async (t) => {
  const before = upstream.requests.length;
  const r = await get('dev.test', '/robots.txt');
  t.equal(r.status, 200);
  t.equal(r.body, ROBOTS);
  t.match(String(r.headers['content-type']), /^text\/plain/);
  t.equal(r.headers['x-robots-tag'], NOINDEX);
  t.notOk(r.headers['www-authenticate']);
  const withAuth = await get('dev.test', '/robots.txt', { authorization });
  t.equal(withAuth.body, ROBOTS, 'the same with credentials');
  const head = await request(portico.http, '/robots.txt', { method: 'HEAD', headers: { host: 'dev.test' } });
  t.equal(head.status, 200, 'HEAD too');
  t.equal(upstream.requests.length, before, 'the upstream is never asked');
});

// SPEC §3 noindex: "GET /robots.txt is answered by Portico" on every noindex host, not only on
// hosts that happen to have a route matching /robots.txt.
t.test('GET /robots.txt on a noindex host whose routes do not cover /robots.txt', async (t) => {
  const r = await get('api-only.test', '/robots.txt');
  t.equal(r.status, 200);
  t.equal(r.body, ROBOTS);
  t.equal(r.headers['x-robots-tag'], NOINDEX);
});

t.test('a host without noindex proxies /robots.txt and sends no X-Robots-Tag', async (t) => {
  const r = await get('public.test', '/robots.txt');
  t.equal(r.status, 200);
  t.equal(r.body, 'upstream robots\n');
  t.notOk(r.headers['x-robots-tag']);
  const page = await get('public.test', '/x');
  t.notOk(page.headers['x-robots-tag'], 'nor on other responses');
  securityHeaders(t, page, 'proxied 200');
});

t.test('default security headers on Portico\'s 401 and 429 replies', async (t) => {
  const unauthorized = await get('dev.test', '/secret');
  t.equal(unauthorized.status, 401);
  securityHeaders(t, unauthorized, '401');

  // limited.test allows one request a minute; this test is the only one that uses it.
  const first = await get('limited.test', '/');
  t.equal(first.status, 200);
  securityHeaders(t, first, 'respond 200');
  const limited = await get('limited.test', '/');
  t.equal(limited.status, 429);
  t.match(String(limited.headers['retry-after']), /^\d+$/);
  t.equal(limited.headers['x-robots-tag'], NOINDEX, 'X-Robots-Tag on a 429 too');
  securityHeaders(t, limited, '429');
});

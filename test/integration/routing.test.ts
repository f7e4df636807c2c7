import t from 'tap';
import { request } from '../helpers/http-request.js';
import { startPortico } from '../helpers/start-portico.js';
import { echoHandler, startUpstream } from '../helpers/start-upstream.js';

// SPEC §3 Host matching and Path matching, from the outside: every upstream answers with its
// own name, so the test sees which route (and which host) a request landed on.

const names = ['exact', 'alias-site', 'wild', 'root', 'api', 'apiv2', 'admin', 'trail', 'deflt'] as const;
const ups = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await startUpstream(echoHandler(n))] as const))) as Record<
  (typeof names)[number],
  Awaited<ReturnType<typeof startUpstream>>
>;
for (const u of Object.values(ups)) t.teardown(() => u.close());

const portico = await startPortico(`
hosts:
  example.test:
    tls: off
    aliases: [www.example.test]
    routes:
      - { path: /api, upstream: "${ups.api.target}" }
      - { path: /api/v2/, upstream: "${ups.apiv2.target}" }
      - { path: /admin, upstream: "${ups.admin.target}" }
      - { path: /docs/, upstream: "${ups.trail.target}" }
      - { path: /, upstream: "${ups.exact.target}" }
  other.test:
    tls: off
    routes:
      - upstream: "${ups.deflt.target}"
  "*.preview.test":
    tls: off
    routes: [ { upstream: "${ups.wild.target}" } ]
  only-api.test:
    tls: off
    routes: [ { path: /api, respond: { status: 200, body: "api only\\n" } } ]
`);
t.teardown(() => portico.close());

/** Name of the upstream that answered, or the status when Portico answered itself. */
async function landedOn(host: string, path: string): Promise<string> {
  const r = await request(portico.http, path, { headers: { host } });
  if (r.status !== 200 || !r.headers['content-type']?.includes('json')) return `status ${r.status}: ${r.body}`;
  return (JSON.parse(r.body) as { name: string }).name;
}

/** A request's Host and path, where it must land (an upstream's name, or a pattern for Portico's own reply), and why. */
type Landing = [host: string, path: string, landsOn: string | RegExp, why?: string];

/** One subtest that checks where each request of `cases` lands. */
function landings(name: string, cases: Landing[]): void {
  t.test(name, async (t) => {
    for (const [host, path, landsOn, why] of cases) {
      const got = await landedOn(host, path);
      const message: [] | [string] = why === undefined ? [] : [why];
      if (typeof landsOn === 'string') t.equal(got, landsOn, ...message);
      else t.match(got, landsOn, ...message);
    }
  });
}

landings('host matching is case-insensitive and ignores the port and a trailing dot', [
  ['example.test', '/', 'exact'],
  ['EXAMPLE.Test', '/', 'exact'],
  ['example.test:8080', '/', 'exact'],
  ['example.test.', '/', 'exact'],
  ['Example.Test.:443', '/', 'exact'],
]);

landings('an alias reaches its host', [
  ['www.example.test', '/api', 'api'],
  ['WWW.example.test', '/', 'exact'],
]);

landings('a single-label wildcard matches one label only', [
  ['pr-12.preview.test', '/', 'wild'],
  ['PR-12.Preview.Test:80', '/x', 'wild'],
  ['a.b.preview.test', '/', /^status 404/, 'two labels do not match'],
  ['preview.test', '/', /^status 404/, 'the bare parent does not match'],
]);

t.test('an unknown host gets 404 with a short plain body', async (t) => {
  const r = await request(portico.http, '/', { headers: { host: 'nowhere.test' } });
  t.equal(r.status, 404);
  t.match(r.headers['content-type'], /^text\/plain/);
  t.ok(r.body.length > 0 && r.body.length < 100, `short body: ${JSON.stringify(r.body)}`);
});

landings('the default path is / and matches everything', [
  ['other.test', '/', 'deflt'],
  ['other.test', '/a/b/c?d=e', 'deflt'],
]);

landings('a route matches P exactly or P followed by /, never a longer segment', [
  ['example.test', '/api', 'api'],
  ['example.test', '/api/', 'api'],
  ['example.test', '/api/users', 'api'],
  ['example.test', '/api?x=1', 'api'],
  ['example.test', '/apiary', 'exact', '/apiary is not under /api'],
  ['example.test', '/administrator', 'exact'],
]);

landings('a trailing slash on the route path is ignored', [
  ['example.test', '/docs', 'trail'],
  ['example.test', '/docs/intro', 'trail'],
  ['example.test', '/api/v2', 'apiv2'],
]);

landings('the longest matching path wins, whatever the order in the file', [
  ['example.test', '/api/v2/items', 'apiv2'],
  ['example.test', '/api/v1/items', 'api'],
]);

landings('no matching route on a known host → 404', [
  ['only-api.test', '/other', /^status 404/],
  ['only-api.test', '/api', /^status 200: api only/],
]);

t.test('matching uses the decoded path with dot segments removed; the upstream gets the path as sent', async (t) => {
  ups.admin.requests.length = 0;
  t.equal(await landedOn('example.test', '/api/../admin/x'), 'admin', 'dot segments cannot sidestep a route');
  t.equal(await landedOn('example.test', '/%61dmin/x'), 'admin', 'percent-encoding cannot sidestep a route');
  t.equal(await landedOn('example.test', '/api/./v2/z'), 'apiv2');
  t.same(
    ups.admin.requests.map((r) => r.url),
    ['/api/../admin/x', '/%61dmin/x'],
    'the upstream received the target as the client sent it',
  );
});

t.test('a wildcard host does not shadow an exact host', async (t) => {
  const p = await startPortico(`
hosts:
  "*.shadow.test": { tls: off, routes: [ { respond: { status: 200, body: "wildcard" } } ] }
  www.shadow.test: { tls: off, routes: [ { respond: { status: 200, body: "exact" } } ] }
  "*": { tls: off, routes: [ { respond: { status: 200, body: "catch-all" } } ] }
`);
  t.teardown(() => p.close());
  t.equal((await request(p.http, '/', { headers: { host: 'www.shadow.test' } })).body, 'exact');
  t.equal((await request(p.http, '/', { headers: { host: 'api.shadow.test' } })).body, 'wildcard');
  t.equal((await request(p.http, '/', { headers: { host: 'elsewhere.test' } })).body, 'catch-all', '"*" takes unknown hosts');
});

import bcrypt from 'bcryptjs';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startUpstream } from '../helpers/start-upstream.js';
import { CLI, E2E_PREAMBLE, removeDir, startPorticoProcess } from './helpers/portico-process.js';

// SPEC §4 Error pages through the built CLI: every status Portico answers itself, with the
// headers that status needs; upstream responses untouched; a bad path rejected at check time
// with FILE:LINE:COL; a reload picks up a changed page.

interface Got {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

function get(port: number, path: string, host: string, headers: OutgoingHttpHeaders = {}, method = 'GET'): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers: { host, ...headers }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function post(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: { host: '127.0.0.1' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

const page = (name: string) => `<!doctype html><title>${name}</title><h1>${name}</h1>\n`;
const PAGES: Record<string, string> = {
  'errors/401.html': page('sign in'),
  'errors/403.html': page('not for you'),
  'errors/404.html': page('host 404'),
  'errors/429.html': page('slow down'),
  'errors/502.html': page('app is down'),
  'errors/503.html': page('maintenance'),
  'errors/504.html': page('app is slow'),
  'errors/top-404.html': page('top 404'),
  'errors/top-502.html': page('top 502'),
};

t.test('error pages', async (t) => {
  const upstream = await startUpstream((req, res) => {
    if (req.url?.startsWith('/slow')) return; // never answers: Portico's response timeout fires
    res.writeHead(req.url === '/missing' ? 404 : req.url === '/other' ? 502 : 200, { 'content-type': 'text/plain' });
    res.end('from the upstream');
  });
  t.teardown(() => upstream.close());
  const hash = bcrypt.hashSync('right', 4);

  const config = (hostPages: string) => `${E2E_PREAMBLE}
errorPages: { 404: ./errors/top-404.html, 502: ./errors/top-502.html }
upstreams:
  slow: { targets: ["${upstream.target}"], timeouts: { response: 300ms } }
hosts:
  e.test:
    tls: off
    errorPages: ${hostPages}
    routes:
      - { path: /, upstream: "${upstream.target}" }
      - { path: /down/, upstream: "127.0.0.1:1" }
      - { path: /slow/, upstream: slow }
      - { path: /maint/, respond: { status: 503, headers: { Retry-After: "120" } } }
      - { path: /maint-text/, respond: { status: 503, body: "back soon\\n" } }
      - { path: /private/, allow: [192.0.2.1], upstream: "${upstream.target}" }
      - { path: /limited/, rateLimit: { rate: 1/m, burst: 1 }, upstream: "${upstream.target}" }
  auth.test:
    tls: off
    basicAuth: { realm: Staff, users: { alice: "${hash}" } }
    errorPages: { 401: ./errors/401.html }
    routes: [ { upstream: "${upstream.target}" } ]
  top.test:
    tls: off
    routes: [ { path: /only/, upstream: "${upstream.target}" }, { path: /down/, upstream: "127.0.0.1:1" } ]
`;
  const allHostPages = '{ 403: ./errors/403.html, 404: ./errors/404.html, 429: ./errors/429.html, 502: ./errors/502.html, 503: ./errors/503.html, 504: ./errors/504.html }';
  const gw = await startPorticoProcess({ config: config(allHostPages), files: PAGES });
  t.teardown(async () => {
    await gw.stop();
    await removeDir(gw.dir);
  });
  const port = gw.http;
  const isPage = (t: Test, got: Got, status: number, file: string) => {
    t.equal(got.status, status, `${status}`);
    t.equal(got.body, PAGES[file], `${status} serves ${file}`);
    t.equal(got.headers['content-type'], 'text/html; charset=utf-8');
    t.equal(got.headers['content-length'], String(Buffer.byteLength(PAGES[file]!)));
    t.equal(got.headers['x-content-type-options'], 'nosniff', 'security headers stay');
  };

  await t.test('each status Portico answers itself, with the headers it needs', async (t) => {
    const unauthorized = await get(port, '/', 'auth.test');
    isPage(t, unauthorized, 401, 'errors/401.html');
    t.equal(unauthorized.headers['www-authenticate'], 'Basic realm="Staff"', '401 keeps its challenge');
    isPage(t, await get(port, '/private/x', 'e.test'), 403, 'errors/403.html');
    isPage(t, await get(port, '/down/x', 'e.test'), 502, 'errors/502.html');
    isPage(t, await get(port, '/slow/x', 'e.test'), 504, 'errors/504.html');
    const maint = await get(port, '/maint/', 'e.test');
    isPage(t, maint, 503, 'errors/503.html');
    t.equal(maint.headers['retry-after'], '120', "a respond route's headers stay");
    t.equal((await get(port, '/limited/', 'e.test')).status, 200);
    const limited = await get(port, '/limited/', 'e.test');
    isPage(t, limited, 429, 'errors/429.html');
    t.match(limited.headers['retry-after'], /^[1-9][0-9]*$/, '429 keeps Retry-After');
    const head = await get(port, '/down/x', 'e.test', {}, 'HEAD');
    t.equal(head.status, 502);
    t.equal(head.body, '', 'HEAD gets no body');
    t.equal(head.headers['content-length'], String(Buffer.byteLength(PAGES['errors/502.html']!)));
  });

  await t.test('top-level pages apply where the host has none; the host wins', async (t) => {
    isPage(t, await get(port, '/nothing-here', 'top.test'), 404, 'errors/top-404.html');
    isPage(t, await get(port, '/down/', 'top.test'), 502, 'errors/top-502.html');
    isPage(t, await get(port, '/', 'unknown.test'), 404, 'errors/top-404.html');
    const wrong = await get(port, '/', 'auth.test', { authorization: `Basic ${Buffer.from('alice:wrong').toString('base64')}` });
    isPage(t, wrong, 401, 'errors/401.html');
  });

  await t.test('upstream responses are never replaced; a respond body is kept', async (t) => {
    const missing = await get(port, '/missing', 'e.test');
    t.equal(missing.status, 404);
    t.equal(missing.body, 'from the upstream');
    const bad = await get(port, '/other', 'e.test');
    t.equal(bad.status, 502, "the upstream's own 502");
    t.equal(bad.body, 'from the upstream');
    const text = await get(port, '/maint-text/', 'e.test');
    t.equal(text.status, 503);
    t.equal(text.body, 'back soon\n', 'a respond route with a body keeps it');
  });

  await t.test('a reload reads the pages again', async (t) => {
    await gw.writeFile('errors/502.html', page('new outage page'));
    t.equal(await post(gw.admin, '/reload'), 200);
    t.equal((await get(port, '/down/x', 'e.test')).body, page('new outage page'), 'POST /reload swaps the page');

    await gw.writeFile('errors/502.html', page('after SIGHUP'));
    const reloads = gw.find({ event: 'reload', result: 'ok' }).length;
    gw.signal('SIGHUP');
    await gw.waitForLog(() => gw.find({ event: 'reload', result: 'ok' }).length > reloads, 15_000);
    t.equal((await get(port, '/down/x', 'e.test')).body, page('after SIGHUP'), 'SIGHUP swaps the page');

    // A page that cannot be read makes the reload fail; the old page keeps serving.
    await gw.writeConfig(config('{ 502: ./errors/gone.html }'));
    const error = await gw.waitForLog({ event: 'reload', result: 'error' }, 15_000);
    t.match(String((error.errors as string[])[0]), /routes\.yaml:\d+:\d+: cannot read error page ".*gone\.html" \(ENOENT\)/);
    t.equal((await get(port, '/down/x', 'e.test')).body, page('after SIGHUP'));
  });
});

t.test('portico check rejects an unreadable page and an unknown status with FILE:LINE:COL', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portico-pages-'));
  t.teardown(() => removeDir(dir));
  await writeFile(join(dir, 'ok.html'), '<h1>ok</h1>');
  const file = join(dir, 'routes.yaml');
  await writeFile(
    file,
    `errorPages:
  502: ./missing.html
hosts:
  a.test:
    errorPages:
      404: ./ok.html
      500: ./ok.html
    routes: [ { respond: { status: 200 } } ]
`,
  );
  const run = spawnSync(process.execPath, [CLI, 'check', '-c', file], { encoding: 'utf8', timeout: 30_000 });
  t.equal(run.status, 1, 'exit 1');
  const out = run.stdout + run.stderr;
  t.match(out, `${file}:2:8: cannot read error page "${join(dir, 'missing.html')}" (ENOENT)`, 'points at the value');
  t.match(out, `${file}:7:7: no error page for "500"`, 'only the statuses Portico answers itself');

  await writeFile(join(dir, 'missing.html'), '<h1>down</h1>');
  await writeFile(file, `errorPages: { 502: ./missing.html }\nhosts:\n  a.test:\n    errorPages: { 404: ./ok.html }\n    routes: [ { respond: { status: 200 } } ]\n`);
  const ok = spawnSync(process.execPath, [CLI, 'check', '-c', file], { encoding: 'utf8', timeout: 30_000 });
  t.equal(ok.status, 0, ok.stdout + ok.stderr);
});

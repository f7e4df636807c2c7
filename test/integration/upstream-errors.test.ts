import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { rawExchange } from '../helpers/raw-http.js';
import { startPortico } from '../helpers/start-portico.js';
import { deadTarget, echoHandler, startUpstream, type Upstream } from '../helpers/start-upstream.js';

// SPEC §3 Proxying and Balancing: 502 when unreachable, 504 without a first byte, retry of
// idempotent requests on another target after a connect failure, fast 502 when every target is
// down, and passive marking after connection failures.

async function alive(name: string): Promise<Upstream> {
  const u = await startUpstream(echoHandler(name));
  t.teardown(() => u.close());
  return u;
}

const [deadA, deadB, deadC, deadD, deadE, deadF, deadG] = await Promise.all([deadTarget(), deadTarget(), deadTarget(), deadTarget(), deadTarget(), deadTarget(), deadTarget()]);
const retryUp = await alive('retry');
const postUp = await alive('post');
const passiveUp = await alive('passive');
const chunkedUp = await alive('chunked');
const silent = await startUpstream((req) => {
  req.resume(); // reads the request, never answers
});
t.teardown(() => silent.close());

const portico = await startPortico(`
upstreams:
  refused: { targets: ["${deadA}"] }
  slow: { targets: ["${silent.target}"], timeouts: { response: 200ms } }
  retry: { targets: ["${deadB}", "${retryUp.target}"] }
  post: { targets: ["${deadC}", "${postUp.target}"] }
  alldown: { targets: ["${deadD}", "${deadE}"] }
  passive: { targets: ["${deadF}", "${passiveUp.target}"] }
  chunked: { targets: ["${deadG}", "${chunkedUp.target}"] }
hosts:
  err.test:
    tls: off
    routes:
      - { path: /refused, upstream: refused }
      - { path: /slow, upstream: slow }
      - { path: /retry, upstream: retry }
      - { path: /post, upstream: post }
      - { path: /alldown, upstream: alldown }
      - { path: /passive, upstream: passive }
      - { path: /chunked, upstream: chunked }
`);
t.teardown(() => portico.close());

const get = (path: string, opts: Parameters<typeof request>[2] = {}) => request(portico.http, path, { ...opts, headers: { host: 'err.test', ...opts.headers } });

async function upstreams(): Promise<Record<string, { targets: { url: string; healthy: boolean; inFlight: number }[] }>> {
  const r = await request(portico.admin, '/upstreams', { headers: { host: '127.0.0.1' } });
  return JSON.parse(r.body) as Awaited<ReturnType<typeof upstreams>>;
}

t.test('upstream refuses the connection → 502 with security headers and a log event', async (t) => {
  const r = await get('/refused', { headers: { 'x-request-id': 'refused-1' } });
  t.equal(r.status, 502);
  t.equal(r.body, 'Bad Gateway\n');
  t.equal(r.headers['x-content-type-options'], 'nosniff');
  t.equal(r.headers['x-request-id'], 'refused-1');
  const ev = await eventually(() => portico.logs.find({ event: 'upstream_error', requestId: 'refused-1' }));
  t.match(ev, { code: 'ECONNREFUSED', status: 502 });
});

t.test('no first byte within timeouts.response → 504', async (t) => {
  const started = Date.now();
  const r = await get('/slow');
  const took = Date.now() - started;
  t.equal(r.status, 504);
  t.equal(r.body, 'Gateway Timeout\n');
  t.ok(took >= 190 && took < 1500, `after ${took} ms`);
});

t.test('a GET that failed to connect is retried on another target', async (t) => {
  const before = retryUp.requests.length;
  for (let i = 0; i < 4; i++) {
    const r = await get(`/retry/${i}`, { method: i % 2 ? 'DELETE' : 'GET' });
    t.equal(r.status, 200, `request ${i} succeeded despite the dead target`);
    t.equal((JSON.parse(r.body) as { name: string }).name, 'retry');
  }
  t.equal(retryUp.requests.length - before, 4, 'each request reached the live target exactly once');
});

t.test('a POST with a body is not retried', async (t) => {
  // Round robin starts at the first target, which is the dead one.
  const r = await get('/post', { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } });
  t.equal(r.status, 502, 'the failure is reported, not replayed elsewhere');
  t.equal(postUp.requests.filter((q) => q.method === 'POST').length, 0, 'the live target never saw the POST');
  const next = await get('/post', { method: 'POST', body: 'hello' });
  t.equal(next.status, 200, 'the next POST goes to the live target');
  t.equal((JSON.parse(next.body) as { body: string }).body, 'hello');
});

t.test('an idempotent request with a chunked body is not retried either', async (t) => {
  // Transfer-Encoding is hop-by-hop and not forwarded as such, but it still tells of a body
  // that was already read into the failed attempt.
  const r = await rawExchange(portico.http, 'PUT /chunked HTTP/1.1\r\nHost: err.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
  t.equal(r.status, 502, 'the failure is reported, not replayed without its body');
  t.equal(chunkedUp.requests.length, 0, 'the live target never saw it');
});

t.test('every target down → 502 fast', async (t) => {
  for (let i = 0; i < 4; i++) {
    const started = Date.now();
    const r = await get('/alldown');
    const took = Date.now() - started;
    t.equal(r.status, 502);
    t.ok(took < 1000, `answered in ${took} ms`);
  }
  const view = await upstreams();
  t.same(view.alldown?.targets.map((x) => x.healthy), [false, false], 'both targets were marked down by the failures');
  const started = Date.now();
  t.equal((await get('/alldown')).status, 502);
  t.ok(Date.now() - started < 1000, 'still fast once marked down');
});

t.test('connection failures mark a target down passively; traffic avoids it', async (t) => {
  // unhealthyAfter defaults to 2: two connect failures (each retried on the live target).
  for (let i = 0; i < 4; i++) t.equal((await get('/passive')).status, 200);
  const view = await upstreams();
  const [dead, live] = view.passive!.targets;
  t.match(dead, { url: `http://${deadF}`, healthy: false });
  t.match(live, { healthy: true });
  const ev = portico.logs.find({ event: 'health', target: `http://${deadF}` });
  t.match(ev, { upstream: 'passive', healthy: false });
  const failuresBefore = portico.logs.filter({ event: 'upstream_error' }).length;
  for (let i = 0; i < 5; i++) t.equal((await get('/passive')).status, 200);
  t.equal(portico.logs.filter({ event: 'upstream_error' }).length, failuresBefore, 'no attempt went to the downed target');
  const metrics = (await request(portico.admin, '/metrics', { headers: { host: '127.0.0.1' } })).body;
  t.match(metrics, new RegExp(`portico_upstream_target_up\\{upstream="passive",target="http://${deadF.replace(/\./g, '\\.')}"\\} 0`));
});

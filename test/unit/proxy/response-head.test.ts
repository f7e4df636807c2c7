import t from 'tap';
import { compileHeaderPlan, SECURITY_HEADER_DEFAULTS } from '../../../src/pipeline/header-plan.js';
import { buildResponseHead } from '../../../src/proxy/response-head.js';
import { forwardableRequestHeaders, stripHopByHop } from '../../../src/proxy/hop-by-hop.js';

const plan = compileHeaderPlan(SECURITY_HEADER_DEFAULTS, { 'X-Robots-Tag': 'noindex', Server: null });

/** The head as name (lower case) → values, in order. */
function byName(list: string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (let i = 0; i < list.length; i += 2) m.set(list[i]!.toLowerCase(), [...(m.get(list[i]!.toLowerCase()) ?? []), list[i + 1]!]);
  return m;
}

t.test('drops hop-by-hop fields, keeps the rest with their case and order', async (t) => {
  const { headers, hasLength } = buildResponseHead(
    ['Content-Type', 'text/plain', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked',
      'Upgrade', 'h2c', 'Trailer', 'X-Sum', 'Proxy-Connection', 'keep-alive', 'TE', 'trailers', 'X-App', 'a'],
    plan, 'rid-1');
  t.same(headers.slice(0, 4), ['Content-Type', 'text/plain', 'X-App', 'a'], 'end-to-end fields first, as sent');
  const m = byName(headers);
  for (const h of ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'trailer', 'proxy-connection', 'te']) t.notOk(m.has(h), `${h} dropped`);
  t.notOk(hasLength, 'no Content-Length');
});

t.test('fields named in Connection are dropped wherever they appear', async (t) => {
  const { headers } = buildResponseHead(
    ['X-Before', '1', 'Connection', 'X-Before, x-after', 'X-After', '2', 'X-Kept', '3', 'connection', 'close, X-Third', 'X-Third', '4'],
    plan, 'rid');
  const m = byName(headers);
  t.notOk(m.has('x-before'));
  t.notOk(m.has('x-after'));
  t.notOk(m.has('x-third'), 'a second Connection header counts too');
  t.same(m.get('x-kept'), ['3']);
  t.same(m.get('x-request-id'), ['rid'], 'Portico\'s own headers are never dropped by a Connection list');
});

t.test('repeated fields stay separate lines (Set-Cookie as sent)', async (t) => {
  const { headers, hasLength } = buildResponseHead(['Set-Cookie', 'a=1', 'Content-Length', '2', 'Set-Cookie', 'b=2'], plan, 'r');
  t.same(byName(headers).get('set-cookie'), ['a=1', 'b=2']);
  t.ok(hasLength);
});

t.test('the plan: defaults only where absent (any case), overrides and removals always, X-Request-Id ours', async (t) => {
  const { headers } = buildResponseHead(
    ['x-FRAME-options', 'DENY', 'X-Robots-Tag', 'all', 'Server', 'upstream/1', 'X-Request-Id', 'spoofed'], plan, 'ours');
  const m = byName(headers);
  t.same(m.get('x-frame-options'), ['DENY'], "the upstream's value wins over a default");
  t.same(m.get('x-content-type-options'), ['nosniff'], 'missing defaults are added');
  t.same(m.get('referrer-policy'), ['strict-origin-when-cross-origin']);
  t.same(m.get('x-robots-tag'), ['noindex'], 'an override replaces the upstream value');
  t.notOk(m.has('server'), 'a removal removes');
  t.same(m.get('x-request-id'), ['ours']);
});

t.test('request headers: the same object when clean, a copy without hop-by-hop fields otherwise', async (t) => {
  const clean = { host: 'a.test', accept: '*/*' };
  t.equal(forwardableRequestHeaders(clean), clean, 'no copy when there is nothing to drop');
  const dirty = { host: 'a.test', connection: 'keep-alive, X-Hop', 'x-hop': '1', 'keep-alive': '5', te: 'trailers', expect: '100-continue', 'x-e2e': 'y' };
  const out = forwardableRequestHeaders(dirty);
  t.same(out, { host: 'a.test', 'x-e2e': 'y' });
  t.equal(dirty.connection, 'keep-alive, X-Hop', 'the original is left alone');
  const h2 = { host: 'a.test', connection: 'x-gone', 'x-gone': '1', upgrade: 'z', keep: 'k' } as Record<string, unknown>;
  stripHopByHop(h2);
  t.same(h2, { host: 'a.test', keep: 'k' }, 'in-place removal for HTTP/2 header objects');
});

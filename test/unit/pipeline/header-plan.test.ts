import t from 'tap';
import { applyHeaderPlan, compileHeaderPlan, SECURITY_HEADER_DEFAULTS, strictTransportSecurity } from '../../../src/pipeline/header-plan.js';

type Headers = Record<string, string | string[] | number | undefined>;
const apply = (plan: ReturnType<typeof compileHeaderPlan>, headers: Headers): Headers => {
  applyHeaderPlan(plan, headers);
  return headers;
};

t.test('security defaults are added when the upstream did not set them', async (t) => {
  const plan = compileHeaderPlan(SECURITY_HEADER_DEFAULTS, {});
  t.same(apply(plan, { 'content-type': 'text/html' }), {
    'content-type': 'text/html',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'SAMEORIGIN',
    'referrer-policy': 'strict-origin-when-cross-origin',
  });
});

t.test('defaults never replace what the upstream set', async (t) => {
  const plan = compileHeaderPlan(SECURITY_HEADER_DEFAULTS, {});
  const out = apply(plan, { 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' });
  t.equal(out['x-frame-options'], 'DENY');
  t.equal(out['referrer-policy'], 'no-referrer');
  t.equal(out['x-content-type-options'], 'nosniff');
});

t.test('overrides win over the upstream and over defaults; names are case-insensitive', async (t) => {
  const plan = compileHeaderPlan(SECURITY_HEADER_DEFAULTS, { 'X-Frame-Options': 'DENY', 'Cache-Control': 'no-store' });
  const out = apply(plan, { 'x-frame-options': 'SAMEORIGIN', 'cache-control': 'max-age=60' });
  t.equal(out['x-frame-options'], 'DENY');
  t.equal(out['cache-control'], 'no-store');
  t.notOk(plan.defaults.some(([n]) => n === 'x-frame-options'), 'an overridden default is not also a default');
  t.same(plan.sets, [['x-frame-options', 'DENY'], ['cache-control', 'no-store']], 'stored lower case');
});

t.test('null removes: from the upstream response and from the defaults', async (t) => {
  const plan = compileHeaderPlan(SECURITY_HEADER_DEFAULTS, { Server: null, 'X-Powered-By': null, 'Referrer-Policy': null });
  const out = apply(plan, { server: 'nginx', 'x-powered-by': 'Express', 'referrer-policy': 'unsafe-url', etag: '"1"' });
  t.same(out, { etag: '"1"', 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN' });
  t.same(plan.removes, ['server', 'x-powered-by', 'referrer-policy']);
});

t.test('array and numeric header values count as set', async (t) => {
  const plan = compileHeaderPlan({ 'x-a': 'default', 'x-b': 'default' }, {});
  const out = apply(plan, { 'x-a': ['one', 'two'], 'x-b': 0 });
  t.same(out['x-a'], ['one', 'two']);
  t.equal(out['x-b'], 0);
});

t.test('a plan is frozen and applying it twice changes nothing more', async (t) => {
  const plan = compileHeaderPlan(SECURITY_HEADER_DEFAULTS, { 'X-Env': 'staging', Server: null });
  t.ok(Object.isFrozen(plan));
  const once = apply(plan, { server: 'x' });
  const twice = apply(plan, { ...once });
  t.same(twice, once);
});

t.test('HSTS for hosts with ACME or file certificates only (SPEC §3 TLS)', async (t) => {
  t.equal(strictTransportSecurity('acme'), 'max-age=31536000');
  t.equal(strictTransportSecurity('file'), 'max-age=31536000');
  t.equal(strictTransportSecurity('self-signed'), undefined);
  t.equal(strictTransportSecurity('off'), undefined);
});

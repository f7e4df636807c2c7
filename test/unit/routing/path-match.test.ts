import t from 'tap';
import { normalizeRequestPath, prefixMatches, removeDotSegments, replacePrefix } from '../../../src/routing/path-match.js';

t.test('normalizeRequestPath: the query is not part of the path', async (t) => {
  t.equal(normalizeRequestPath('/api/users?x=1&y=/..'), '/api/users');
  t.equal(normalizeRequestPath('/?'), '/');
  t.equal(normalizeRequestPath('/plain'), '/plain');
});

t.test('normalizeRequestPath: percent-decoding', async (t) => {
  t.equal(normalizeRequestPath('/%61dmin'), '/admin');
  t.equal(normalizeRequestPath('/caf%C3%A9'), '/café');
  t.equal(normalizeRequestPath('/a%20b'), '/a b');
});

t.test('normalizeRequestPath: dot segments cannot sidestep a route', async (t) => {
  t.equal(normalizeRequestPath('/api/../admin'), '/admin');
  t.equal(normalizeRequestPath('/api/%2e%2e/admin'), '/admin', 'encoded dots');
  t.equal(normalizeRequestPath('/api/%2E%2E/admin'), '/admin', 'upper-case encoding');
  t.equal(normalizeRequestPath('/api/.%2e/admin'), '/admin', 'half encoded');
  t.equal(normalizeRequestPath('/a/./b'), '/a/b');
  t.equal(normalizeRequestPath('/../../etc/passwd'), '/etc/passwd', 'cannot climb above the root');
  t.equal(normalizeRequestPath('/..'), '/');
  t.equal(normalizeRequestPath('/a/b/..'), '/a/');
  t.equal(normalizeRequestPath('/a/..?x'), '/');
});

t.test('normalizeRequestPath: repeated slashes are merged', async (t) => {
  t.equal(normalizeRequestPath('//admin'), '/admin');
  t.equal(normalizeRequestPath('/api//users///1'), '/api/users/1');
  t.equal(normalizeRequestPath('/a/b/'), '/a/b/', 'a single trailing slash is kept');
});

t.test('normalizeRequestPath: malformed input is undefined (answered with 400)', async (t) => {
  t.equal(normalizeRequestPath('/%zz'), undefined);
  t.equal(normalizeRequestPath('/%'), undefined);
  t.equal(normalizeRequestPath('/%e9'), undefined, 'invalid UTF-8');
  t.equal(normalizeRequestPath('/a%00b'), undefined, 'an encoded NUL');
  t.equal(normalizeRequestPath('http://example.com/x'), undefined, 'absolute-form is not routed');
  t.equal(normalizeRequestPath('*'), undefined);
  t.equal(normalizeRequestPath(''), undefined);
});

t.test('removeDotSegments (RFC 3986 §5.2.4)', async (t) => {
  t.equal(removeDotSegments('/a/b/c/./../../g'), '/a/g');
  t.equal(removeDotSegments('/mid/content=5/../6'), '/mid/6');
  t.equal(removeDotSegments('/'), '/');
});

t.test('prefixMatches: P matches P and P/…, never P followed by other characters', async (t) => {
  t.equal(prefixMatches('/api', '/api'), true);
  t.equal(prefixMatches('/api', '/api/'), true);
  t.equal(prefixMatches('/api', '/api/x'), true);
  t.equal(prefixMatches('/api', '/api/x/y'), true);
  t.equal(prefixMatches('/api', '/apix'), false);
  t.equal(prefixMatches('/api', '/ap'), false);
  t.equal(prefixMatches('/api', '/'), false);
  t.equal(prefixMatches('/api', '/API'), false, 'paths are case-sensitive');
  t.equal(prefixMatches('/api/v1', '/api/v1/users'), true);
  t.equal(prefixMatches('/api/v1', '/api/v10'), false);
});

t.test('prefixMatches: / matches everything', async (t) => {
  for (const p of ['/', '/x', '/api/users', '/a/b/c/']) t.equal(prefixMatches('/', p), true, p);
});

t.test('replacePrefix as stripPrefix: the matched segments go, the query stays', async (t) => {
  t.equal(replacePrefix('/api/users', 1, ''), '/users');
  t.equal(replacePrefix('/api/users?x=1&y=2', 1, ''), '/users?x=1&y=2');
  t.equal(replacePrefix('/api', 1, ''), '/', 'an empty result is /');
  t.equal(replacePrefix('/api?x=1', 1, ''), '/?x=1');
  t.equal(replacePrefix('/api/', 1, ''), '/');
  t.equal(replacePrefix('/api/v1/users/7', 2, ''), '/users/7');
  t.equal(replacePrefix('/api/caf%C3%A9?q=%20', 1, ''), '/caf%C3%A9?q=%20', 'the client encoding is kept');
  t.equal(replacePrefix('/api/x/../y', 1, ''), '/y', 'dot segments are removed first');
  t.equal(replacePrefix('//api//users', 1, ''), '/users');
});

t.test('replacePrefix as rewrite: /health/x?q -> /live/x?q', async (t) => {
  t.equal(replacePrefix('/health/x?q', 1, '/live'), '/live/x?q');
  t.equal(replacePrefix('/health', 1, '/live'), '/live');
  t.equal(replacePrefix('/health?full=1', 1, '/live'), '/live?full=1');
  t.equal(replacePrefix('/health/', 1, '/live'), '/live/');
  t.equal(replacePrefix('/old/path/x', 2, '/new'), '/new/x');
  t.equal(replacePrefix('/v1/x', 1, '/api/v2'), '/api/v2/x', 'the replacement may be deeper');
  t.equal(replacePrefix('/health/x', 1, ''), '/x', 'rewrite to / (trailing slash removed by the compiler)');
  t.equal(replacePrefix('/health', 1, ''), '/', 'an empty result is /');
});

t.test('replacePrefix: a separator hidden in percent-encoding cannot climb out of the target (SPEC §3)', async (t) => {
  const url = '/health%2fa%2fb/..%2f..%2fsecret';
  const matched = normalizeRequestPath(url)!;
  t.equal(matched, '/health/secret', 'the route matched the decoded path');
  const out = replacePrefix(url, 1, '/live', matched);
  t.equal(out, '/live/secret', 'the upstream gets the normalised path the route matched');
  t.equal(decodeURIComponent(out), '/live/secret', 'and it decodes to a path inside the target');
  t.equal(replacePrefix('/api%2fusers?x=1', 1, '', normalizeRequestPath('/api%2fusers')!), '/users?x=1', 'stripPrefix: the hidden segment is stripped, the query kept');
  t.equal(replacePrefix('/api/x/%2e%2e/y', 1, '', normalizeRequestPath('/api/x/%2e%2e/y')!), '/y', 'encoded dot segments');
  t.equal(replacePrefix('/api/caf%C3%A9?q=%20', 1, '', '/api/café'), '/caf%C3%A9?q=%20', 'ordinary encodings are still passed as sent');
});

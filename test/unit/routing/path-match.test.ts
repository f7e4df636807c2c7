import t from 'tap';
import { normalizeRequestPath, prefixMatches, removeDotSegments, replacePrefix } from '../../../src/routing/path-match.js';

/** A request target, what normalizeRequestPath makes of it, and why where the case is not obvious. */
type Normalized = [target: string, path: string | undefined, why?: string];

const NORMALIZED: Record<string, Normalized[]> = {
  'the query is not part of the path': [['/api/users?x=1&y=/..', '/api/users'], ['/?', '/'], ['/plain', '/plain']],
  'percent-decoding': [['/%61dmin', '/admin'], ['/caf%C3%A9', '/café'], ['/a%20b', '/a b']],
  'dot segments cannot sidestep a route': [
    ['/api/../admin', '/admin'],
    ['/api/%2e%2e/admin', '/admin', 'encoded dots'],
    ['/api/%2E%2E/admin', '/admin', 'upper-case encoding'],
    ['/api/.%2e/admin', '/admin', 'half encoded'],
    ['/a/./b', '/a/b'],
    ['/../../etc/passwd', '/etc/passwd', 'cannot climb above the root'],
    ['/..', '/'],
    ['/a/b/..', '/a/'],
    ['/a/..?x', '/'],
  ],
  'repeated slashes are merged': [['//admin', '/admin'], ['/api//users///1', '/api/users/1'], ['/a/b/', '/a/b/', 'a single trailing slash is kept']],
  'malformed input is undefined (answered with 400)': [
    ['/%zz', undefined],
    ['/%', undefined],
    ['/%e9', undefined, 'invalid UTF-8'],
    ['/a%00b', undefined, 'an encoded NUL'],
    ['http://example.com/x', undefined, 'absolute-form is not routed'],
    ['*', undefined],
    ['', undefined],
  ],
};

for (const [name, cases] of Object.entries(NORMALIZED)) {
  t.test(`normalizeRequestPath: ${name}`, async (t) => {
    for (const [target, path, why] of cases) t.equal(normalizeRequestPath(target), path, ...(why === undefined ? [] : [why]));
  });
}

t.test('removeDotSegments (RFC 3986 §5.2.4)', async (t) => {
  t.equal(removeDotSegments('/a/b/c/./../../g'), '/a/g');
  t.equal(removeDotSegments('/mid/content=5/../6'), '/mid/6');
  t.equal(removeDotSegments('/'), '/');
});

t.test('prefixMatches: P matches P and P/…, never P followed by other characters', async (t) => {
  const cases: [prefix: string, path: string, matches: boolean, why?: string][] = [
    ['/api', '/api', true],
    ['/api', '/api/', true],
    ['/api', '/api/x', true],
    ['/api', '/api/x/y', true],
    ['/api', '/apix', false],
    ['/api', '/ap', false],
    ['/api', '/', false],
    ['/api', '/API', false, 'paths are case-sensitive'],
    ['/api/v1', '/api/v1/users', true],
    ['/api/v1', '/api/v10', false],
  ];
  for (const [prefix, path, matches, why] of cases) t.equal(prefixMatches(prefix, path), matches, ...(why === undefined ? [] : [why]));
});

t.test('prefixMatches: / matches everything', async (t) => {
  for (const p of ['/', '/x', '/api/users', '/a/b/c/']) t.equal(prefixMatches('/', p), true, p);
});

/** A request target, how many segments the route matched, their replacement, the result, and why. */
type Replaced = [target: string, segments: number, replacement: string, result: string, why?: string];

const REPLACED: Record<string, Replaced[]> = {
  'as stripPrefix: the matched segments go, the query stays': [
    ['/api/users', 1, '', '/users'],
    ['/api/users?x=1&y=2', 1, '', '/users?x=1&y=2'],
    ['/api', 1, '', '/', 'an empty result is /'],
    ['/api?x=1', 1, '', '/?x=1'],
    ['/api/', 1, '', '/'],
    ['/api/v1/users/7', 2, '', '/users/7'],
    ['/api/caf%C3%A9?q=%20', 1, '', '/caf%C3%A9?q=%20', 'the client encoding is kept'],
    ['/api/x/../y', 1, '', '/y', 'dot segments are removed first'],
    ['//api//users', 1, '', '/users'],
  ],
  'as rewrite: /health/x?q -> /live/x?q': [
    ['/health/x?q', 1, '/live', '/live/x?q'],
    ['/health', 1, '/live', '/live'],
    ['/health?full=1', 1, '/live', '/live?full=1'],
    ['/health/', 1, '/live', '/live/'],
    ['/old/path/x', 2, '/new', '/new/x'],
    ['/v1/x', 1, '/api/v2', '/api/v2/x', 'the replacement may be deeper'],
    ['/health/x', 1, '', '/x', 'rewrite to / (trailing slash removed by the compiler)'],
    ['/health', 1, '', '/', 'an empty result is /'],
  ],
};

for (const [name, cases] of Object.entries(REPLACED)) {
  t.test(`replacePrefix ${name}`, async (t) => {
    for (const [target, segments, replacement, result, why] of cases) t.equal(replacePrefix(target, segments, replacement), result, ...(why === undefined ? [] : [why]));
  });
}

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

import t from 'tap';
import { HostIndex } from '../../../src/routing/host-index.js';

function index(names: string[]): HostIndex<string> {
  const idx = new HostIndex<string>();
  for (const n of names) idx.add(n, n);
  return idx;
}

t.test('exact names, then a one-label wildcard, then "*"', async (t) => {
  const idx = index(['example.com', 'a.preview.example.com', '*.preview.example.com', '*']);
  t.equal(idx.lookup('example.com'), 'example.com');
  t.equal(idx.lookup('a.preview.example.com'), 'a.preview.example.com', 'an exact host wins over a wildcard');
  t.equal(idx.lookup('b.preview.example.com'), '*.preview.example.com');
  t.equal(idx.lookup('pr-42.preview.example.com'), '*.preview.example.com');
  t.equal(idx.lookup('unknown.org'), '*', 'unknown hosts go to the catch-all');
  t.equal(idx.lookup(''), '*', 'no Host header: catch-all');
});

t.test('a wildcard matches exactly one label', async (t) => {
  const idx = index(['*.preview.example.com']);
  t.equal(idx.lookup('a.b.preview.example.com'), undefined, 'two labels do not match');
  t.equal(idx.lookup('preview.example.com'), undefined, 'zero labels do not match');
  t.equal(idx.lookup('.preview.example.com'), undefined, 'an empty label does not match');
  t.equal(idx.lookup('x.preview.example.org'), undefined);
  t.equal(idx.lookup('xpreview.example.com'), undefined, 'the label boundary counts');
});

t.test('with a catch-all, deeper names fall through to "*", not to the wildcard', async (t) => {
  const idx = index(['*.preview.example.com', '*']);
  t.equal(idx.lookup('a.b.preview.example.com'), '*');
});

t.test('a more specific wildcard and a parent wildcard are independent', async (t) => {
  const idx = index(['*.example.com', '*.preview.example.com']);
  t.equal(idx.lookup('a.example.com'), '*.example.com');
  t.equal(idx.lookup('a.preview.example.com'), '*.preview.example.com');
  t.equal(idx.lookup('preview.example.com'), '*.example.com', 'one label under example.com');
});

t.test('aliases are exact entries pointing at their host', async (t) => {
  const idx = new HostIndex<string>();
  idx.add('example.com', 'main');
  idx.add('www.example.com', 'main');
  idx.add('*.example.com', 'wild');
  t.equal(idx.lookup('www.example.com'), 'main', 'an alias wins over a wildcard');
  t.equal(idx.lookup('api.example.com'), 'wild');
});

t.test('without a catch-all an unknown host is undefined (the handler answers 404)', async (t) => {
  const idx = index(['example.com']);
  t.equal(idx.lookup('example.org'), undefined);
  t.equal(idx.lookup('sub.example.com'), undefined);
});

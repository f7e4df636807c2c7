import t, { type Test } from 'tap';
import { buildHostIndex, HostIndex, type EachName } from '../../../src/routing/host-index.js';

function index(names: string[]): HostIndex<string> {
  const idx = HostIndex.flat<string>();
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
  const idx = HostIndex.flat<string>();
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

/** A config's names and values, as the route compiler walks them. */
const names = (entries: Record<string, string>): EachName<string> => (visit) => {
  for (const [name, value] of Object.entries(entries)) visit(name, value);
};
const PROBES = ['example.com', 'www.example.com', 'a.preview.example.com', 'b.preview.example.com', 'x.y.preview.example.com', 'other.org', 'h3.example.net', 'h1.example.net'];
/** Every probe answers as a flat index of the same names would. */
function answersAsFlat(t: Test, idx: HostIndex<string>, entries: Record<string, string>, what: string): void {
  const flat = buildHostIndex(names(entries), undefined);
  t.same(PROBES.map((p) => idx.lookup(p)), PROBES.map((p) => flat.lookup(p)), `${what}: every lookup as a flat index`);
}

t.test('a reload with the same names is a layer of the changed entries over the base', async (t) => {
  const v1: Record<string, string> = { 'example.com': 'main', 'www.example.com': 'main', '*.preview.example.com': 'wild', '*': 'all' };
  for (let i = 0; i < 8; i++) v1[`h${i}.example.net`] = `h${i}`;
  const first = buildHostIndex(names(v1), undefined);
  t.equal(first.flatBase, first, 'the first index is flat');
  t.equal(first.size, 12);

  const v2 = { ...v1, 'h3.example.net': 'h3 edited' };
  const second = buildHostIndex(names(v2), first);
  t.equal(second.flatBase, first, 'a layer over the first');
  t.equal(second.size, 1, 'holding the one changed entry');
  answersAsFlat(t, second, v2, 'after one edit');
  t.equal(first.lookup('h3.example.net'), 'h3', 'the previous index is unchanged: requests under the old table see the old host');

  const v3 = { ...v2, '*': 'all edited', 'www.example.com': 'www' };
  const third = buildHostIndex(names(v3), second);
  t.equal(third.flatBase, first, 'layers do not stack: the new one is over the same flat base');
  t.equal(third.size, 3, 'the earlier edit is carried with the new ones');
  answersAsFlat(t, third, v3, 'after three edits over two reloads');

  const back = buildHostIndex(names(v1), third);
  t.equal(back.size, 0, 'a config equal to the base is an empty layer');
  answersAsFlat(t, back, v1, 'back to the first config');
});

t.test('an added or removed name, or too many changes, builds a flat index again', async (t) => {
  const v1: Record<string, string> = {};
  for (let i = 0; i < 8; i++) v1[`h${i}.example.net`] = `h${i}`;
  const first = buildHostIndex(names(v1), undefined);

  const added = { ...v1, 'new.example.net': 'new' };
  const withAdded = buildHostIndex(names(added), first);
  t.equal(withAdded.flatBase, withAdded, 'a new name: flat');
  answersAsFlat(t, withAdded, added, 'with a name added');

  const removed = { ...v1 };
  delete removed['h1.example.net'];
  const withRemoved = buildHostIndex(names(removed), first);
  t.equal(withRemoved.flatBase, withRemoved, 'a removed name: flat');
  t.equal(withRemoved.lookup('h1.example.net'), undefined, 'the removed name is gone');

  const renamedWildcard: Record<string, string> = { ...v1, '*.example.net': 'wild' };
  delete renamedWildcard['h7.example.net'];
  t.equal(buildHostIndex(names(renamedWildcard), first).flatBase.size, 8, 'the same count of different names: flat');

  const many = Object.fromEntries(Object.entries(v1).map(([k, v], i) => [k, i < 3 ? `${v} edited` : v]));
  const withMany = buildHostIndex(names(many), first);
  t.equal(withMany.flatBase, withMany, '3 of 8 changed (over a quarter): flat');
  answersAsFlat(t, withMany, many, 'after many edits');
  const two = Object.fromEntries(Object.entries(v1).map(([k, v], i) => [k, i < 2 ? `${v} edited` : v]));
  t.equal(buildHostIndex(names(two), first).size, 2, '2 of 8 (a quarter): still a layer');
});

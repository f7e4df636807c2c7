import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { parseDocument } from 'yaml';
import { scaleConfig } from '../../../bench/scale-config.js';
import { parsePlainYaml } from '../../../src/config/parse-plain-yaml.js';

// The shortcut must never disagree with the `yaml` package: on any text it either declines or
// gives the package's value, and it declines every text the package finds an error in
// (duplicate keys included, which is how they keep their FILE:LINE:COL).
const root = fileURLToPath(new URL('../../../../', import.meta.url));

/** The package's reading: its value, or `error` when it reports any (uniqueKeys on). */
function reference(source: string): { error: true } | { error: false; value: unknown } {
  const doc = parseDocument(source, { merge: true, uniqueKeys: true, prettyErrors: false, logLevel: 'error' });
  if (doc.errors.length > 0) return { error: true };
  try {
    return { error: false, value: doc.toJS({ maxAliasCount: 1000 }) };
  } catch {
    return { error: true };
  }
}

/** Key order too: a config's hosts and routes are listed in file order. */
const inOrder = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));

/** Checks one text; returns whether the shortcut accepted it. */
function agrees(t: Test, source: string, name: string): boolean {
  const fast = parsePlainYaml(source);
  const ref = reference(source);
  if (fast === undefined) return false;
  if (ref.error) {
    t.fail(`${name}: accepted a text the package rejects`, { source });
    return true;
  }
  if (!Object.is(inOrder(fast.value), inOrder(ref.value)) || !t.strictSame(fast.value, ref.value, name, { source })) {
    t.fail(`${name}: differs from the package`, { source, fast: fast.value, ref: ref.value });
  }
  return true;
}

const ACCEPTED: Record<string, string> = {
  'empty file': '',
  'comments only': '# nothing\n   # here\n',
  'nested maps': 'a:\n  b:\n    c: 1\n  d: x\ne: y\n',
  'sequence at the key column': 'a:\n- 1\n- two\nb: 3\n',
  'indented sequence of maps': 'routes:\n  - path: /api\n    upstream: api\n  -   path: /\n      respond: { status: 200, body: "hi" }\n',
  'null values': 'a:\nb: ~\nc: null\nd: # comment\ne: Null\n',
  'core schema scalars': 'a: true\nb: False\nc: 010\nd: 0o17\ne: 0x1F\nf: -5\ng: +5\nh: 1.5\ni: 1e3\nj: .inf\nk: -.Inf\nl: .NaN\nm: 1.\nn: yes\no: 1_000\np: 12345678901234567890\n',
  'addresses and units stay strings': 'listen: 127.0.0.1:8080\nrate: 100/s\nsize: 10MB\nt: 10s\nv: 1.2.3\nw: 0.0.0.0:443\n',
  'words with colons and hashes': 'a: http://x.example/a#frag\nb: a:b\nc: text # comment\nd: a#b\n',
  'quoted scalars': `a: "x \\"y\\" \\\\ \\/ \\n"\nb: 'it''s'\n"c d": '#'\n'e': "" # comment\n`,
  'flow collections': 'a: [1, "b", c, [d], {e: f}]\nb: { rate: 100/s, burst: 200 }\nc: []\nd: {}\ne: ["127.0.0.1:9", 127.0.0.1:10]\n',
  'keys the schema resolves': '404: a\ntrue: b\n1.0: c\n~: d\n',
  'nested sequences': 'a:\n  -\n    - 1\n    - 2\n  - x: 1\n    y:\n      - z\n',
  'sequence item scalars with dashes': 'a:\n  - -1\n  - -x\n  - :x\n',
  'a key named like an Object method': 'constructor: 1\ntoString: 2\nhasOwnProperty: 3\n',
  'trailing spaces': 'a: b   \nc:   \n  d: e  \n',
  'no final newline': 'a: b',
};

const DECLINED: Record<string, string> = {
  'anchor and alias': 'a: &x 1\nb: *x\n',
  'merge key': 'b: &b {x: 1}\nh:\n  <<: *b\n',
  'tag': 'a: !!str 1\n',
  'block scalar': 'a: |\n  text\n',
  'multi-line plain scalar': 'a: one\n  two\n',
  'multi-line flow': 'a: [1,\n  2]\n',
  'duplicate key': 'a: 1\na: 2\n',
  'duplicate key, quoted': 'a: 1\n"a": 2\n',
  'duplicate key in a flow map': 'a: {b: 1, b: 2}\n',
  'document marker': '---\na: 1\n',
  'tab': 'a:\tb\n',
  'CRLF': 'a: b\r\n',
  'two keys on a line': 'a: b: c\n',
  'syntax error': 'a: [\n',
  'unclosed quote': 'a: "b\n',
  'explicit key': '? a\n: 1\n',
  'wrong indentation': 'a:\n    b: 1\n  c: 2\n',
  'sequence in a map': 'a: 1\n- b\n',
  '__proto__ key': '__proto__: 1\n',
  'quoted __proto__ key': '"__proto__": 1\n',
  'top-level sequence': '- a\n',
  'unicode escape': 'a: "\\u00e9"\n',
  'comment right after a quote': 'a: "b"#c\n',
  'trailing comma': 'a: [1, 2, ]\n',
};

t.test('accepts plain YAML and reads it as the yaml package does', async (t) => {
  for (const [name, source] of Object.entries(ACCEPTED)) t.ok(agrees(t, source, name), `${name}: accepted`);
});

t.test('declines what it does not read, and every text with an error', async (t) => {
  for (const [name, source] of Object.entries(DECLINED)) t.equal(parsePlainYaml(source), undefined, `${name}: declined`);
});

const corpus: Record<string, string> = {};
for (const dir of ['test/fixtures/config/valid', 'test/fixtures/config/invalid', 'examples']) {
  for (const f of readdirSync(join(root, dir))) if (f.endsWith('.yaml')) corpus[`${dir}/${f}`] = readFileSync(join(root, dir, f), 'utf8');
}
corpus['routes.yaml'] = readFileSync(join(root, 'routes.yaml'), 'utf8');

t.test('the shipped examples, the test fixtures and a generated 2,000-host file', async (t) => {
  let accepted = 0;
  for (const [name, source] of Object.entries(corpus)) if (agrees(t, source, name)) accepted++;
  t.ok(accepted >= Object.keys(corpus).length * 0.7, `most files take the shortcut (${accepted} of ${Object.keys(corpus).length})`);
  const scale = scaleConfig({ hosts: 2000, target: '127.0.0.1:9', preamble: 'listen: { http: "127.0.0.1:0" }\nadmin: 127.0.0.1:0\n' });
  t.ok(agrees(t, scale, 'generated'), 'a generated many-host file takes the shortcut');
  t.ok(agrees(t, corpus['routes.yaml']!, 'routes.yaml'), 'the default routes.yaml takes it');
});

t.test('random edits of the corpus: the shortcut declines or agrees', async (t) => {
  // Deterministic (a fixed seed), so a failure reproduces.
  let seed = 12345;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pieces = [':', ': ', ' ', '  ', '-', '- ', '#', ' #', '"', "'", '{', '}', '[', ']', ',', '\n', '\n  ', '&a ', '*a', '!', '|', '>', '?', '~', '0', '1.5', 'a', 'true', '<<', '\\', '%', '@', '.', 'e3'];
  const sources = Object.values(corpus).filter((s) => s.length < 4000);
  let accepted = 0;
  const rounds = 3000;
  for (let n = 0; n < rounds; n++) {
    let s = sources[random(sources.length)]!;
    for (let edits = 1 + random(3); edits > 0; edits--) {
      const at = random(s.length + 1);
      const kind = random(3);
      if (kind === 0) s = s.slice(0, at) + pieces[random(pieces.length)]! + s.slice(at);
      else if (kind === 1) s = s.slice(0, at) + s.slice(at + 1 + random(3));
      else {
        const lines = s.split('\n');
        const i = random(lines.length);
        lines.splice(i, 0, lines[i]!); // a repeated line: often a duplicate key
        s = lines.join('\n');
      }
    }
    if (agrees(t, s, `mutation ${n}`)) accepted++;
  }
  t.ok(accepted > rounds / 10, `many mutations still take the shortcut (${accepted} of ${rounds})`);
});

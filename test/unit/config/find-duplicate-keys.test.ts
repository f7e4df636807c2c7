import t from 'tap';
import { LineCounter, parseDocument } from 'yaml';
import { findDuplicateKeys } from '../../../src/config/find-duplicate-keys.js';
import { parseConfig } from '../../../src/config/load-config.js';
import { ConfigError, formatIssue } from '../../../src/errors.js';

/** The `yaml` package's own (quadratic) check: the reference our linear one must agree with. */
function packageDuplicates(source: string): number[] {
  const doc = parseDocument(source, { merge: true, uniqueKeys: true, prettyErrors: false });
  return doc.errors.filter((e) => e.code === 'DUPLICATE_KEY').map((e) => e.pos[0]);
}

const ours = (source: string) => findDuplicateKeys(parseDocument(source, { merge: true, uniqueKeys: false }));

t.test('reports the same keys at the same offsets as the yaml package', async (t) => {
  const cases: Record<string, string> = {
    'plain, double- and single-quoted spellings of one key': `a: 1\n"a": 2\n'a': 3\n`,
    'a number and a string are different keys': `1: a\n"1": b\n1: c\n`,
    'key after an anchor and a tag': `&k a: 1\n!!str a: 2\n`,
    'flow map': `x: {a: 1, b: 2, a: 3}\n`,
    'nested maps, inner and outer': `a:\n  b:\n    c: 1\n    c: 2\n  b: 3\n`,
    'maps inside a sequence': `- a: 1\n  a: 2\n- {b: 1, b: 1}\n`,
    'inside an anchor, reported once at the anchor': `x: &a\n  k: 1\n  k: 2\ny: *a\nz:\n  <<: *a\n`,
    'two merge keys are not duplicates': `b: &b {x: 1}\no: &o {y: 2}\nh:\n  <<: *b\n  <<: *o\n  z: 1\n`,
    'an explicit key overriding a merged one is not a duplicate': `b: &b {x: 1}\nh:\n  <<: *b\n  x: 2\n`,
    'a quoted "<<" is an ordinary key, not a merge': `"<<": 1\n<<: {a: 1}\n`,
    'explicit keys': `? a\n: 1\n? a\n: 2\n`,
    'booleans by value': `true: 1\nTrue: 2\n`,
    'complex keys are never equal': `? [a]\n: 1\n? [a]\n: 2\n`,
    'with a syntax error elsewhere': `a: 1\na: 2\nb: [\n`,
  };
  for (const [name, source] of Object.entries(cases)) t.same(ours(source), packageDuplicates(source), name);
});

t.test('duplicates in a 2,000-entry map are found at their FILE:LINE:COL, in file order', async (t) => {
  const lines = ['hosts:'];
  for (let i = 0; i < 2000; i++) lines.push(`  h${i}.example.com:`, `    routes: [{ upstream: "127.0.0.1:3000" }]`);
  lines.push('  h10.example.com:', '    routes: []'); // line 4,004 once h0 has two more
  lines.push('  h1999.example.com:', '    routes: []'); // line 4,006 once h0 has two more
  lines.splice(2, 0, '    noindex: true', '    noindex: false'); // inside h0: lines 3 and 4
  const source = `${lines.join('\n')}\n`;
  t.same(ours(source), packageDuplicates(source), 'agrees with the package');
  let issues: string[] = [];
  try {
    parseConfig('big.yaml', source);
    t.fail('a duplicate key must be rejected');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues = err.issues.map(formatIssue);
  }
  t.same(issues, [
    'big.yaml:4:5: YAML: Map keys must be unique',
    'big.yaml:4004:3: YAML: Map keys must be unique',
    'big.yaml:4006:3: YAML: Map keys must be unique',
  ]);
});

t.test('line counter positions match the package for a duplicate after a multi-line value', async (t) => {
  const source = 'a: |\n  one\n  two\nb: 1\na: 2\n';
  const lc = new LineCounter();
  const doc = parseDocument(source, { uniqueKeys: false, lineCounter: lc });
  t.same(findDuplicateKeys(doc).map((o) => lc.linePos(o)), [{ line: 5, col: 1 }]);
});

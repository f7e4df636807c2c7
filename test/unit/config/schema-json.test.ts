import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import t from 'tap';
import { parse } from 'yaml';
import { emitSchema } from '../../../src/config/emit-schema.js';
import { emitValidator } from '../../../src/config/emit-validator.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const committedPath = join(root, 'schema/routes.schema.json');
const run = promisify(execFile);

const committed = JSON.parse(readFileSync(committedPath, 'utf8')) as Record<string, unknown>;
const validate = new Ajv({ allErrors: true, strict: false }).compile(committed);
const yamlDoc = (file: string): unknown => parse(readFileSync(file, 'utf8'), { merge: true });
const errorsOf = (doc: unknown) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`));

t.test('the committed schema/routes.schema.json is what the code generates (not stale)', async (t) => {
  t.equal(readFileSync(committedPath, 'utf8'), emitSchema(), 'run `npm run build && npm run schema` after changing src/config/schema.ts');
});

t.test('the committed validator, generated from the schema at build time, is not stale', async (t) => {
  // A stale one is not used (validate-schema compiles the schema at run time instead), but it
  // costs every `portico check` and every config worker start the compile it exists to save.
  const committedValidator = readFileSync(join(root, 'src/config/routes-validator.generated.ts'), 'utf8');
  t.equal(committedValidator, emitValidator(), 'run `npm run build && npm run schema` after changing src/config/schema.ts');
});

t.test('the emit-schema script writes the same file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-schema-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'routes.schema.json');
  await run(process.execPath, [join(root, 'build-test/src/config/emit-schema.js'), out]);
  t.equal(readFileSync(out, 'utf8'), emitSchema());
});

t.test('the repo routes.yaml is valid under the JSON schema', async (t) => {
  t.same(errorsOf(yamlDoc(join(root, 'routes.yaml'))), []);
});

t.test('every examples/*.yaml is valid under the JSON schema', async (t) => {
  const dir = join(root, 'examples');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml')) : [];
  for (const f of files) t.same(errorsOf(yamlDoc(join(dir, f))), [], `examples/${f}`);
  t.pass(`${files.length} example files checked`);
});

t.test('every valid config fixture is valid under the JSON schema', async (t) => {
  const dir = join(root, 'test/fixtures/config/valid');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) t.same(errorsOf(yamlDoc(join(dir, f))), [], f);
});

t.test('the JSON schema rejects what editors should flag', async (t) => {
  const base = { hosts: { 'a.example': { routes: [{ upstream: '127.0.0.1:3000' }] } } };
  t.same(errorsOf(base), [], 'the base document is valid');
  t.not(errorsOf({ ...base, lisen: { http: 80 } }).length, 0, 'unknown top-level key');
  t.not(errorsOf({ hosts: { 'a.example': { routes: [{ upstrem: 'x' }] } } }).length, 0, 'unknown route key');
  t.not(errorsOf({ ...base, upstreams: { u: { targets: ['127.0.0.1:1'], timeouts: { connect: '5sec' } } } }).length, 0, 'bad duration');
  t.not(errorsOf({ hosts: { 'a.example': { maxBodySize: '10mb', routes: [{ upstream: 'x:1' }] } } }).length, 0, 'bad size');
  t.not(errorsOf({ hosts: { 'a.example': { rateLimit: { rate: '10/d' }, routes: [{ upstream: 'x:1' }] } } }).length, 0, 'bad rate');
  t.not(errorsOf({}).length, 0, 'hosts is required');
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { scaleConfig } from '../../../bench/scale-config.js';
import { ConfigLoaderThread } from '../../../src/config/config-loader-thread.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError, formatIssue } from '../../../src/errors.js';

// A reload of a large file is parsed in a worker thread and copied back in slices: what arrives
// must be exactly what loadConfig returns on the calling thread, errors included.
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const fixtures = join(root, 'test/fixtures/config');
const asGiven = (abs: string) => relative(process.cwd(), abs);

async function outcome(load: () => Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await load() };
  } catch (err) {
    if (err instanceof ConfigError) return { issues: err.issues.map(formatIssue) };
    return { error: (err as Error).message };
  }
}

// One fixture of each outcome: a worker start costs seconds on a busy machine.
const CASES = ['valid/spec-example.yaml', 'valid/environments.yaml', 'invalid/yaml-syntax.yaml', 'invalid/duplicate-yaml-key-nested.yaml', 'invalid/schema-and-semantic.yaml', 'invalid/unreadable-cert.yaml'];

t.test('fixtures of every outcome load off-thread exactly as on the calling thread', async (t) => {
  const loader = new ConfigLoaderThread(0); // every file goes to a worker
  t.teardown(() => loader.close());
  for (const name of CASES) {
    const file = asGiven(join(fixtures, name));
    t.same(await outcome(() => loader.load(file)), await outcome(() => loadConfig(file)), name);
  }
  const missing = join(tmpdir(), 'portico-no-such-file.yaml');
  t.same(await outcome(() => loader.load(missing)), await outcome(() => loadConfig(missing)), 'an unreadable file');
});

t.test('a file of many hosts arrives whole, in order, over several slices', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-loader-'));
  const file = join(dir, 'routes.yaml');
  writeFileSync(file, scaleConfig({ hosts: 1200, target: '127.0.0.1:9' }));
  const loader = new ConfigLoaderThread();
  t.teardown(() => loader.close());
  const off = await loader.load(file); // 1,200 hosts are well above the off-thread size
  const on = await loadConfig(file);
  t.equal(off.config.hosts.length, 1200);
  t.same(off, on);
  // The next load uses the same worker, and only the edited host crosses over: every other host
  // is the object delivered last time (which lets the route compiler keep its compiled form).
  writeFileSync(file, scaleConfig({ hosts: 1200, target: '127.0.0.1:9', override: { host: 1199, body: 'changed' } }));
  const again = await loader.load(file);
  t.same(again.config.hosts[1199]?.routes[1]?.action, { kind: 'respond', status: 200, body: 'changed', headers: {} });
  t.same(again, await loadConfig(file), 'still exactly what loadConfig reads');
  t.not(again.config.hosts[1199], off.config.hosts[1199], 'the edited host is new');
  t.ok(
    again.config.hosts.every((h, i) => i === 1199 || h === off.config.hosts[i]),
    'every other host is the object of the last load',
  );
  // An invalid edit changes nothing of what the next valid load reuses.
  writeFileSync(file, scaleConfig({ hosts: 1200, target: '127.0.0.1:9' }).replace('hosts:\n', 'hosts:\n  bad: 1\n'));
  await t.rejects(loader.load(file), ConfigError, 'an invalid file is rejected');
  writeFileSync(file, scaleConfig({ hosts: 1200, target: '127.0.0.1:9' }));
  const back = await loader.load(file);
  t.same(back, await loadConfig(file), 'back to the first file');
  t.equal(back.config.hosts[0], off.config.hosts[0], 'unchanged hosts are still shared');
  t.same(back.config.hosts[1199]?.routes[1]?.action, { kind: 'proxy', upstream: 'pool-9' }, 'the edit undone');

  // A reload hands over the file's bytes, which move to the worker: the serving thread keeps
  // no copy of a large file's text.
  writeFileSync(file, scaleConfig({ hosts: 1200, target: '127.0.0.1:9', override: { host: 7, body: 'bytes' } }));
  const bytes = readFileSync(file);
  const fromBytes = await loader.parse(file, bytes);
  t.same(fromBytes.config, (await loadConfig(file)).config, 'bytes parse as the text does');
  t.equal(fromBytes.digest, (await loadConfig(file)).digest, 'bytes and text have one digest');
  t.equal(bytes.byteLength, 0, 'the bytes moved to the worker');
  t.equal(fromBytes.config.hosts[0], off.config.hosts[0], 'unchanged hosts still shared');
});

import t from 'tap';
import type { Config } from '../../../src/config/config-types.js';
import { configDigest } from '../../../src/config/config-digest.js';
import { configText, type ConfigSource, type LoadedConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';
import { Reloader, type Applied, type ReloadResult } from '../../../src/reload/reloader.js';
import { createLogSink } from '../../helpers/log-sink.js';

/**
 * A Reloader over an in-memory "file": `content` is what the next read returns, text starting
 * with "bad" fails validation, and `gate` (when set) holds apply until released.
 */
function harness(initial: string) {
  const sink = createLogSink();
  const state = {
    content: initial,
    applied: [] as string[],
    results: [] as ReloadResult[],
    gate: undefined as Promise<void> | undefined,
    running: 0,
    maxRunning: 0,
  };
  const parse = (content: ConfigSource): LoadedConfig => {
    const source = configText(content);
    if (source.startsWith('bad')) throw new ConfigError([{ file: 'routes.yaml', line: 2, col: 3, message: `invalid ${source}`, path: [] }]);
    return { config: {} as Config, digest: source };
  };
  const apply = async (loaded: LoadedConfig): Promise<Applied> => {
    state.running++;
    state.maxRunning = Math.max(state.maxRunning, state.running);
    try {
      await state.gate;
      state.applied.push(loaded.digest);
      return { version: state.applied.length, hostsCompiled: 1 };
    } finally {
      state.running--;
    }
  };
  const reloader = new Reloader(async () => state.content, parse, apply, sink.logger, (r) => state.results.push(r));
  reloader.markActive(configDigest(initial));
  return { reloader, state, sink };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

t.test('one reload at a time; a burst while it runs coalesces into one more', async (t) => {
  const { reloader, state } = harness('v1');
  const gate = deferred();
  state.gate = gate.promise;
  state.content = 'v2';
  const first = reloader.reload('file');
  await new Promise((resolve) => setImmediate(resolve)); // let the first reach apply
  state.content = 'v3';
  const burst = Array.from({ length: 5 }, () => reloader.reload('file'));
  t.equal(new Set(burst).size, 1, 'every waiting caller shares the one pending reload');
  gate.resolve();
  t.match(await first, { ok: true, version: 1, unchanged: false });
  for (const r of await Promise.all(burst)) t.match(r, { ok: true, version: 2, unchanged: false });
  t.same(state.applied, ['v2', 'v3'], 'two applies for six requests, the last with the newest content');
  t.equal(state.maxRunning, 1, 'never two at once');
  const after = reloader.reload('file');
  t.not(after, burst[0], 'a reload after the burst is a new one');
  t.match(await after, { ok: true, repeated: true });
});

t.test('an invalid file keeps the running config and says where', async (t) => {
  const { reloader, state, sink } = harness('v1');
  state.content = 'bad one';
  const result = await reloader.reload('file');
  t.match(result, { ok: false, message: 'routes.yaml:2:3: invalid bad one' });
  t.same(state.applied, [], 'nothing applied');
  t.match(sink.find({ event: 'reload', result: 'error' }), { trigger: 'file', errors: ['routes.yaml:2:3: invalid bad one'] });

  state.content = 'v1';
  t.match(await reloader.reload('file'), { ok: true, unchanged: true }, 'put back: valid again');
  t.same(state.applied, [], 'the running content is not applied again');
  t.ok(sink.find({ event: 'reload', result: 'ok', unchanged: true }), 'logged as valid again');
});

t.test('apply failing is a rejected reload too', async (t) => {
  const sink = createLogSink();
  const reloader = new Reloader(
    async () => 'v2',
    (source) => ({ config: {} as Config, digest: configText(source) }),
    async () => {
      throw new Error('listener cannot move');
    },
    sink.logger,
  );
  reloader.markActive(configDigest('v1'));
  t.match(await reloader.reload('signal', true), { ok: false, issues: [], message: 'listener cannot move' });
  t.match(sink.find({ result: 'error' }), { errors: ['listener cannot move'] });
});

t.test('unchanged content is skipped unless forced', async (t) => {
  const { reloader, state, sink } = harness('v1');
  t.match(await reloader.reload('file'), { ok: true, unchanged: true, repeated: true });
  t.same(state.applied, [], 'file event with the running content: nothing applied');
  t.equal(sink.filter({ event: 'reload' }).length, 0, 'nor logged');
  t.match(await reloader.reload('signal', true), { ok: true, unchanged: false, version: 1 }, 'SIGHUP reapplies');
  t.same(state.applied, ['v1']);
});

t.test('each content of the file is reported once; explicit requests always are', async (t) => {
  const { reloader, state, sink } = harness('v1');
  state.content = 'bad edit';
  await reloader.reload('file');
  t.match(await reloader.reload('file'), { ok: false, repeated: true }, 'the poll sees the same save again');
  t.equal(sink.filter({ event: 'reload', result: 'error' }).length, 1, 'logged once');
  t.equal(state.results.length, 1, 'counted once');
  await reloader.reload('signal', true);
  t.equal(sink.filter({ event: 'reload', result: 'error' }).length, 2, 'a SIGHUP is answered again');

  state.content = 'v2';
  await reloader.reload('file');
  await reloader.reload('file');
  t.same(state.applied, ['v2'], 'a new valid content applied once');
  t.equal(sink.filter({ event: 'reload', result: 'ok' }).length, 1);
});

t.test('an unreadable file is reported once, like an invalid one', async (t) => {
  const sink = createLogSink();
  const results: ReloadResult[] = [];
  const reloader = new Reloader(
    async () => {
      throw new ConfigError([{ file: 'routes.yaml', line: 1, col: 1, message: 'cannot read: ENOENT', path: [] }]);
    },
    () => t.fail('never parsed') as never,
    async () => t.fail('never applied') as never,
    sink.logger,
    (r) => results.push(r),
  );
  reloader.markActive(configDigest('v1'));
  t.match(await reloader.reload('file'), { ok: false, message: 'routes.yaml:1:1: cannot read: ENOENT' });
  t.match(await reloader.reload('file'), { ok: false, repeated: true });
  t.equal(results.length, 1);
});

t.test('a file read as bytes is the same content as its text: no reload for an unchanged file', async (t) => {
  // The gateway marks the text it started with and reads bytes on reload (they go to the config
  // worker); both hash as the same UTF-8 bytes, so a file event without a change applies nothing.
  const sink = createLogSink();
  const text = 'hosts:\n  café.example: {}\n';
  let applied = 0;
  let content: ConfigSource = Buffer.from(text, 'utf8');
  const reloader = new Reloader(
    async () => content,
    (source) => ({ config: {} as Config, digest: configText(source) }),
    async () => ({ version: ++applied, hostsCompiled: 1 }),
    sink.logger,
  );
  reloader.markActive(configDigest(text));
  const same = await reloader.reload('watch');
  t.same(same, { ok: true, version: -1, unchanged: true, repeated: true }, 'the bytes of the running text are no change');
  t.equal(applied, 0);
  content = Buffer.from(text.replace('café', 'cafe'), 'utf8');
  const changed = await reloader.reload('watch');
  t.equal(changed.ok && changed.version, 1, 'other bytes are applied');
  t.equal(applied, 1);
});

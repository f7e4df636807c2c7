import { deserialize, serialize } from 'node:v8';
import t from 'tap';
import { applyConfigDelta, configDelta, type ConfigDelta } from '../../../src/cluster/config-delta.js';
import type { Config, HostConfig } from '../../../src/config/config-types.js';
import type { LoadedConfig } from '../../../src/config/load-config.js';

const host = (name: string) => ({ name, routes: [] }) as unknown as HostConfig;
const loaded = (digest: string, hosts: HostConfig[]): LoadedConfig => ({ config: { workers: 2, hosts } as unknown as Config, digest });
/** As the IPC channel carries it (`serialization: 'advanced'`): a structured clone. */
const overIpc = (d: ConfigDelta): ConfigDelta => deserialize(serialize(d)) as ConfigDelta;

t.test('only changed hosts cross; the worker keeps its objects for the others', async (t) => {
  const [a, b, c] = [host('a'), host('b'), host('c')];
  const v1 = loaded('d1', [a, b, c]);
  const b2 = host('b');
  const d = host('d');
  const v2 = loaded('d2', [d, a, b2, c]); // a and c unchanged (the loader's very objects), b edited, d added, order changed
  const delta = configDelta(v1, v2);
  t.same([...delta.same], [-1, 0, -1, 2]);
  t.same(delta.changed.map((h) => h.name), ['d', 'b']);
  t.equal(delta.base, 'd1');
  t.same(delta.config.hosts, [], 'the head carries no hosts');

  const held = overIpc(configDelta(undefined, v1)); // what the worker got at start
  const heldConfig = applyConfigDelta(loaded('d1', []), held);
  const next = applyConfigDelta(heldConfig, overIpc(delta));
  t.equal(next.digest, 'd2');
  t.same(next.config.hosts.map((h) => h.name), ['d', 'a', 'b', 'c']);
  t.equal(next.config.hosts[1], heldConfig.config.hosts[0], 'a: the object the worker held');
  t.equal(next.config.hosts[3], heldConfig.config.hosts[2], 'c: the object the worker held');
  t.not(next.config.hosts[2], heldConfig.config.hosts[1], 'b: the edited host is new');
  t.equal(next.config.workers, 2, 'the rest of the config comes along');
});

t.test('with no known base every host is sent, and any worker can apply it', async (t) => {
  const v = loaded('d1', [host('a'), host('b')]);
  const delta = configDelta(undefined, v);
  t.equal(delta.base, '');
  t.same([...delta.same], [-1, -1]);
  t.same(applyConfigDelta(loaded('other', [host('x')]), overIpc(delta)).config.hosts.map((h) => h.name), ['a', 'b']);
});

t.test('a delta applied to a config that is not its base is refused', async (t) => {
  const a = host('a');
  const delta = configDelta(loaded('d1', [a]), loaded('d2', [a, host('b')]));
  t.throws(() => applyConfigDelta(loaded('d0', [host('z')]), delta), /config delta is against d1, this worker holds d0/);
  t.same(applyConfigDelta(loaded('d1', [a]), delta).config.hosts.map((h) => h.name), ['a', 'b']);
});

t.test('a delta whose indices do not fit what it names is refused, not applied in part', async (t) => {
  const base = loaded('d1', [host('a')]);
  t.throws(() => applyConfigDelta(base, { config: base.config, digest: 'd2', base: 'd1', same: Int32Array.from([5]), changed: [] }), /refers to host 5/);
  t.throws(() => applyConfigDelta(base, { config: base.config, digest: 'd2', base: 'd1', same: Int32Array.from([0]), changed: [host('b')] }), /does not place/);
});

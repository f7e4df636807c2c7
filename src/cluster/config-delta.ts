import type { HostConfig } from '../config/config-types.js';
import type { LoadedConfig } from '../config/load-config.js';

/**
 * A config as a worker that holds an earlier one receives it: the hosts that did not change
 * are named by their index in that earlier config, and only the others cross the IPC channel.
 * The worker then holds the very HostConfig objects it had for them, so the route compiler
 * keeps their compiled form as a single process does: a reload that edits one host of 10,000
 * sends and compiles one host in every worker, not 10,000.
 */
export interface ConfigDelta {
  /** The config, its `hosts` empty. */
  readonly config: LoadedConfig['config'];
  readonly digest: string;
  /** Digest of the config the indices refer to; empty when every host is sent. */
  readonly base: string;
  /** Per host: its index in the base config, or -1 for the next of `changed`. */
  readonly same: Int32Array;
  readonly changed: readonly HostConfig[];
}

/**
 * The delta from `base` (what the worker holds, or undefined when unknown) to `next`. The
 * loader hands back the very HostConfig object for a host whose config is unchanged, so
 * identity is the test.
 */
export function configDelta(base: LoadedConfig | undefined, next: LoadedConfig): ConfigDelta {
  const index = new Map<HostConfig, number>();
  base?.config.hosts.forEach((h, i) => index.set(h, i));
  const hosts = next.config.hosts;
  const same = new Int32Array(hosts.length);
  const changed: HostConfig[] = [];
  for (let i = 0; i < hosts.length; i++) {
    const j = index.get(hosts[i]!) ?? -1;
    same[i] = j;
    if (j < 0) changed.push(hosts[i]!);
  }
  return { config: { ...next.config, hosts: [] }, digest: next.digest, base: changed.length === hosts.length ? '' : base!.digest, same, changed };
}

/** The config a delta describes, taking unchanged hosts from `held`; throws when `held` is not its base. */
export function applyConfigDelta(held: LoadedConfig, delta: ConfigDelta): LoadedConfig {
  if (delta.base !== '' && delta.base !== held.digest) throw new Error(`config delta is against ${delta.base.slice(0, 12)}, this worker holds ${held.digest.slice(0, 12)}`);
  const hosts: HostConfig[] = new Array<HostConfig>(delta.same.length);
  let next = 0;
  for (let i = 0; i < delta.same.length; i++) {
    const j = delta.same[i]!;
    const host = j < 0 ? delta.changed[next++] : held.config.hosts[j];
    if (host === undefined) throw new Error(`config delta refers to host ${j < 0 ? `change ${next - 1}` : j}, which it does not have`);
    hosts[i] = host;
  }
  if (next !== delta.changed.length) throw new Error('config delta has hosts it does not place');
  return { config: { ...delta.config, hosts }, digest: delta.digest };
}

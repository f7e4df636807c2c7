import type { UpstreamConfig } from './config-types.js';
import type { Report } from './config-values.js';
import { parseTarget, targetProblem } from './parse-target.js';
import type { RawUpstream } from './schema.js';
import { parseDuration } from './units.js';

const DEFAULT_CONNECT_MS = 5_000;
const DEFAULT_RESPONSE_MS = 60_000;

/**
 * One upstream (or a route's inline targets, with `targetPath` pointing at the route): each
 * target parsed and checked once (a repeat would be two weights for one state), weights, health
 * check and timeouts with their defaults.
 */
export function normalizeUpstream(
  name: string,
  up: RawUpstream,
  path: string[],
  issue: Report,
  targetPath = (i: number) => [...path, 'targets', String(i)],
): UpstreamConfig {
  const seenTargets = new Set<string>();
  const targets = (up.targets ?? []).map((t, i) => {
    const text = typeof t === 'string' ? t : t.url;
    const at = typeof t === 'string' ? targetPath(i) : [...targetPath(i), 'url'];
    const url = parseTarget(text);
    if (url === undefined) {
      const problem = targetProblem(text);
      issue(at, `invalid target "${text}"${problem ? `: ${problem}` : ' (expected host:port, http://host:port or https://host:port)'}`);
    } else if (seenTargets.has(url)) {
      // One state per target (health, drain, admin address): a repeat would be two weights for one.
      issue(at, `duplicate target "${text}" in this upstream; give it a weight instead`);
    }
    if (url !== undefined) seenTargets.add(url);
    return { url: url ?? 'http://invalid.invalid', weight: typeof t === 'string' ? 1 : (t.weight ?? 1) };
  });
  if (targets.length > 0 && targets.every((t) => t.weight === 0)) {
    issue([...path, 'targets'], 'every target has weight 0 (standby); give at least one a weight above 0', 'key');
  }
  const duration = (v: string | undefined, key: string[], fallback: number) => {
    if (v === undefined) return fallback;
    const ms = parseDuration(v);
    if (!ms) issue([...path, ...key], `invalid duration ${JSON.stringify(v)}: must be greater than zero`);
    return ms || fallback;
  };
  const hc = up.healthCheck;
  return {
    name,
    targets,
    balance: up.balance ?? 'round_robin',
    healthCheck: hc
      ? {
          path: hc.path ?? '/',
          intervalMs: duration(hc.interval, ['healthCheck', 'interval'], 5_000),
          timeoutMs: duration(hc.timeout, ['healthCheck', 'timeout'], 2_000),
          unhealthyAfter: hc.unhealthyAfter ?? 2,
          healthyAfter: hc.healthyAfter ?? 1,
        }
      : undefined,
    connectTimeoutMs: duration(up.timeouts?.connect, ['timeouts', 'connect'], DEFAULT_CONNECT_MS),
    responseTimeoutMs: duration(up.timeouts?.response, ['timeouts', 'response'], DEFAULT_RESPONSE_MS),
  };
}

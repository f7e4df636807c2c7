import type { IncomingMessage } from 'node:http';
import { parseDuration } from '../config/units.js';
import type { Logger } from '../observability/logger.js';
import type { TargetState, TargetTrafficState } from '../upstreams/target-state.js';

/** What the upstream endpoints read and change. */
export interface UpstreamsBackend {
  targets(): readonly TargetState[];
  /** Stops (true) or resumes (false) new requests to a target; survives reloads. */
  setDraining(target: TargetState, draining: boolean): void;
  /**
   * Brings numbers up to date (a supervisor asks its workers); absent in one process. `targets`:
   * in-flight counts and pools only; `all`: metrics and request counts too.
   */
  refresh?(scope: 'targets' | 'all'): Promise<void>;
}

/** A JSON answer: status and body. */
export interface JsonReply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One target as GET /upstreams shows it. */
export interface TargetView {
  readonly target: string;
  readonly url: string;
  readonly weight: number;
  readonly state: TargetTrafficState;
  readonly healthy: boolean;
  readonly inFlight: number;
  /** Start (epoch ms) and outcome of the last active health check; null without healthCheck. */
  readonly lastCheck: { readonly at: number; readonly ok: boolean } | null;
  /** The target's keep-alive pool: requests on a socket, idle sockets, requests waiting for one. */
  readonly connections: ReturnType<TargetState['poolState']>;
}

/** How often `?wait=` looks at the in-flight count (the proxy counts without notifying). */
const WAIT_POLL_MS = 50;
/** The longest `?wait=` accepted, so no admin request holds a timer for days. */
const MAX_WAIT_MS = 3_600_000;

const TARGET_PATH = /^\/upstreams\/([^/]+)\/targets\/([^/]+)(?:\/(drain|enable))?$/;
const UPSTREAM_PATH = /^\/upstreams\/([^/]+)$/;

/**
 * The /upstreams endpoints: the targets of every upstream (GET /upstreams), of one upstream
 * (GET /upstreams/NAME), of one target (GET /upstreams/NAME/targets/HOST:PORT), and drain and
 * enable (POST …/drain[?wait=30s], POST …/enable) for rolling deploys. Undefined when the path
 * is not theirs.
 */
export async function handleUpstreamsRequest(
  backend: UpstreamsBackend,
  req: IncomingMessage,
  path: string,
  query: URLSearchParams,
  log: Logger,
): Promise<JsonReply | undefined> {
  const method = req.method ?? 'GET';
  if (path === '/upstreams') return method === 'GET' ? { status: 200, body: upstreamsView(backend.targets()) } : notAllowed('GET');
  const one = UPSTREAM_PATH.exec(path);
  if (one) {
    if (method !== 'GET') return notAllowed('GET');
    const view = upstreamsView(backend.targets())[decode(one[1]!)];
    return view ? { status: 200, body: view } : notFound(`unknown upstream "${decode(one[1]!)}"`);
  }
  const m = TARGET_PATH.exec(path);
  if (!m) return undefined;
  const upstream = decode(m[1]!);
  const address = decode(m[2]!).toLowerCase();
  const action = m[3] as 'drain' | 'enable' | undefined;
  if (method !== (action ? 'POST' : 'GET')) return notAllowed(action ? 'POST' : 'GET');
  const targets = backend.targets();
  if (!targets.some((t) => t.upstream === upstream)) return notFound(`unknown upstream "${upstream}"`);
  const target = targets.find((t) => t.upstream === upstream && (t.address === address || t.url === address));
  if (!target) return notFound(`upstream "${upstream}" has no target "${address}"`);
  if (!action) return { status: 200, body: targetView(target) };

  let waitMs = 0;
  const wait = query.get('wait');
  if (action === 'drain' && wait !== null) {
    const ms = parseDuration(wait);
    if (ms === undefined || ms > MAX_WAIT_MS) return { status: 400, body: { error: `invalid wait "${wait}": expected a duration up to 1h such as 30s` } };
    waitMs = ms;
  }
  const draining = action === 'drain';
  if (target.draining !== draining) {
    backend.setDraining(target, draining);
    log.info({ event: 'drain', upstream, target: target.address, state: draining ? 'draining' : target.state, inFlight: target.inFlight }, `${target.address} ${draining ? 'draining' : 'enabled'}`);
  }
  // Without ?wait a drain answers "draining" even when nothing is in flight (SPEC §4): only a
  // wait reports "drained", so a script reads the same answer whatever the timing.
  if (draining && wait === null) return { status: 200, body: { upstream, target: target.address, state: 'draining', inFlight: target.inFlight } };
  if (waitMs > 0 && target.inFlight > 0) await untilIdle(backend, target, waitMs, req);
  return { status: 200, body: { upstream, target: target.address, state: target.state, inFlight: target.inFlight } };
}

/** Resolves when the target has nothing in flight, it was enabled again, the time passed, or the client left. */
async function untilIdle(backend: UpstreamsBackend, target: TargetState, ms: number, req: IncomingMessage): Promise<void> {
  const deadline = Date.now() + ms;
  let gone = false;
  const leave = () => (gone = true);
  req.socket.once('close', leave);
  while (!gone && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    await backend.refresh?.('targets');
    if (target.inFlight === 0 || !target.draining) break;
  }
  req.socket.off('close', leave);
}

/** Every upstream with its targets, for GET /upstreams (and the dashboard). */
export function upstreamsView(targets: readonly TargetState[]): Record<string, { targets: TargetView[] }> {
  const view: Record<string, { targets: TargetView[] }> = {};
  for (const t of targets) (view[t.upstream] ??= { targets: [] }).targets.push(targetView(t));
  return view;
}

function targetView(t: TargetState): TargetView {
  return { target: t.address, url: t.url, weight: t.weight, state: t.state, healthy: t.healthy, inFlight: t.inFlight, lastCheck: t.lastCheck ?? null, connections: t.poolState() };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // malformed escapes: compared as written, and so found nowhere
  }
}

function notFound(message: string): JsonReply {
  return { status: 404, body: { error: message } };
}

function notAllowed(allow: string): JsonReply {
  return { status: 405, body: { error: `use ${allow}` }, headers: { allow } };
}

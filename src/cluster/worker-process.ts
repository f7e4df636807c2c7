import cluster from 'node:cluster';
import { Gateway } from '../gateway.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Applied } from '../reload/reloader.js';
import { createLogger } from '../observability/logger.js';
import { addTargetLoad, type ApplyReply, type FromWorker, type HealthReport, type TargetLoad, type ToWorker, type WorkerStats } from './cluster-messages.js';
import { applyConfigDelta, type ConfigDelta } from './config-delta.js';
import { PendingReplies } from './pending-replies.js';
import { createSupervisedBucketStore, createSupervisedCompare, createSupervisedThrottle } from './supervised-state.js';

type Init = Extract<ToWorker, { type: 'init' }>;

/**
 * A worker process of a multi-process instance (SPEC §4 Workers): serves the public listeners,
 * shared with the other workers through node:cluster, with the config, health, drains, buckets
 * and throttle of its supervisor. It drains and exits when told to, on SIGTERM/SIGINT (sent to
 * the whole process group by a terminal or a service manager), or when the supervisor is gone.
 *
 * One function so that the start reads in its order: hello and init, logger, gateway, catching up on health, drains and blocks, ready, then signals.
 */
export async function runWorker(file: string): Promise<number> {
  const worker = cluster.worker?.id ?? 0;
  const pending = new PendingReplies();
  const send = (message: FromWorker): void => {
    if (process.connected) process.send?.(message);
  };
  const buckets = createSupervisedBucketStore(send, pending);
  const throttle = createSupervisedThrottle(send, pending);
  let gateway: Gateway | undefined;
  /** Messages that arrived while the gateway was starting: handled once it serves. */
  const early: ToWorker[] = [];
  let stopping: Promise<number> | undefined;

  const init = await new Promise<Init>((resolve) => {
    process.on('message', (message: ToWorker) => {
      if (message.type === 'init') return resolve(message);
      if (message.type === 'reply') return pending.settle(message.id, message.value);
      if (message.type === 'taken') return message.items.forEach(([id, result]) => pending.settle(id, result));
      if (gateway) void handle(message);
      else early.push(message);
    });
    send({ type: 'hello' });
  });

  const log = createLogger(init.loaded.config.log.level, undefined, worker);
  // A bug that escapes a request ends this worker only: logged as one line, and the supervisor
  // replaces the worker while the others serve (SPEC §4 Workers).
  process.on('uncaughtException', (err) => {
    log.fatal({ event: 'worker_crash', err }, 'uncaught exception; this worker exits and is replaced');
    process.exit(1);
  });
  const stop = (reason: string): Promise<number> => {
    stopping ??= (async () => {
      log.info({ event: 'shutdown', reason }, 'draining');
      await gateway?.close();
      pending.failAll(new Error('shutting down'));
      return 0;
    })();
    return stopping;
  };

  const apply = createDeltaApplier(init.loaded, (loaded) => gateway!.apply(loaded));
  const handle = (message: ToWorker): Promise<void> => handleMessage(message, { gateway: gateway!, throttle, send, stop, apply });
  const applyHealth = (r: HealthReport) => gateway?.targets.setHealth(r.upstream, r.url, r.healthy, r.lastCheck);

  try {
    gateway = await Gateway.start({
      configFile: file,
      log,
      watch: false,
      worker: { loaded: init.loaded, buckets, throttle, compare: createSupervisedCompare(send, pending), challengeResponse: (token) => ask<string | undefined>({ type: 'challenge', token }) },
    });
  } catch (err) {
    // A listener that cannot bind, say: the error is printed like a single process's, and the
    // IPC channel must not keep this process alive, so the supervisor sees the exit.
    process.disconnect?.();
    throw err;
  }
  for (const report of init.health) applyHealth(report);
  for (const [upstream, url] of init.drained) gateway.targets.setDrainingByName(upstream, url, true);
  for (const [ip, until] of init.blocked) throttle.block(ip, until);
  for (const message of early.splice(0)) await handle(message);
  const { http, https } = gateway.ports();
  send({ type: 'ready', ports: { http, https } });

  function ask<T>(message: { type: 'challenge'; token: string }): Promise<T> {
    const { id, reply } = pending.open<T>();
    send({ ...message, id });
    return reply;
  }

  // The supervisor is gone (killed without its own shutdown): nothing is left to coordinate.
  process.on('disconnect', () => void stop('supervisor exited').then(exit));
  return new Promise<number>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop(signal).then(resolve));
  });
}

/** What a message from the supervisor acts on. */
interface MessageContext {
  readonly gateway: Gateway;
  readonly throttle: ReturnType<typeof createSupervisedThrottle>;
  send(message: FromWorker): void;
  stop(reason: string): Promise<number>;
  /** Applies a config delta after the ones before it. */
  apply(delta: ConfigDelta): Promise<Applied>;
}

/** Applies one message of the supervisor once the gateway serves: a reload, health, a drain, a block, a stored certificate, a stats request, a stop. */
async function handleMessage(message: ToWorker, { gateway: gw, throttle, send, stop, apply }: MessageContext): Promise<void> {
  switch (message.type) {
    case 'apply': {
      let value: ApplyReply;
      try {
        value = { ok: true, ...(await apply(message.delta)) };
      } catch (err) {
        value = { ok: false, message: (err as Error).message };
      }
      return send({ type: 'reply', id: message.id, value });
    }
    case 'health':
      return gw.targets.setHealth(message.report.upstream, message.report.url, message.report.healthy, message.report.lastCheck);
    case 'drain':
      return gw.targets.setDrainingByName(message.upstream, message.url, message.draining);
    case 'auth-blocked':
      return throttle.block(message.ip, message.until);
    case 'certificate':
      return gw.tls.manager.recheckStore();
    case 'stats':
      return send({ type: 'reply', id: message.id, value: await stats(gw, message.scope === 'all') });
    case 'shutdown':
      return void stop('supervisor').then(exit);
    default:
      return undefined;
  }
}

function exit(code: number): void {
  process.exitCode = code;
  // Whatever a library still holds must not keep a drained worker alive; logs flush on 'exit'.
  setTimeout(() => process.exit(), 100).unref();
  process.disconnect?.();
}

/** The worker's traffic as the supervisor aggregates it for /metrics, /upstreams and the dashboard. */
async function stats(gw: Gateway, all: boolean): Promise<WorkerStats> {
  const targets = new Map<string, TargetLoad>();
  for (const t of gw.targets.all()) addTargetLoad(targets, `${t.upstream}|${t.url}`, t.inFlight, t.poolState());
  return {
    metrics: all ? await gw.metrics.registry.getMetricsAsJSON() : [],
    requestCounts: all ? [...gw.metrics.requestCounts()] : [],
    targets: [...targets],
  };
}

/**
 * Applies config deltas one after another, in the order sent: each is against the config the
 * one before it produced (`held`: the config this worker serves). A refused one leaves `held`.
 */
function createDeltaApplier(initial: LoadedConfig, applyConfig: (loaded: LoadedConfig) => Promise<Applied>): (delta: ConfigDelta) => Promise<Applied> {
  let held = initial;
  let applying: Promise<unknown> = Promise.resolve();
  return (delta) => {
    const run = applying.then(async () => {
      const next = applyConfigDelta(held, delta);
      const applied = await applyConfig(next);
      held = next;
      return applied;
    });
    applying = run.catch(() => undefined);
    return run;
  };
}

import cluster, { type Worker } from 'node:cluster';
import { createAdminServer } from '../admin/admin-server.js';
import { Metrics } from '../admin/metrics.js';
import { ReloadHistory } from '../admin/reload-history.js';
import type { Config } from '../config/config-types.js';
import { ConfigLoaderThread } from '../config/config-loader-thread.js';
import type { LoadedConfig } from '../config/load-config.js';
import { warnRestartOnly } from '../reload/restart-only-settings.js';
import { createLogger, type Logger } from '../observability/logger.js';
import type { Applied, Reloader, ReloadResult } from '../reload/reloader.js';
import { createConfigReloader } from '../reload/config-reloader.js';
import { ListenerSet } from '../server/listener-set.js';
import { connectRedis } from '../store/connect-redis.js';
import type { RedisConnection } from '../store/redis-connection.js';
import { createTlsServices, type TlsServices } from '../tls-services.js';
import { TargetRegistry } from '../upstreams/target-registry.js';
import type { TargetState } from '../upstreams/target-state.js';
import { watchFiles } from '../watch/watch-files.js';
import type { ApplyReply, FromWorker, ToWorker } from './cluster-messages.js';
import { InstanceCredentials } from './instance-credentials.js';
import { InstanceLimits } from './instance-limits.js';
import { InstanceStats } from './instance-stats.js';
import { configDelta } from './config-delta.js';
import { PendingReplies } from './pending-replies.js';
import { WorkerSlots } from './worker-slots.js';

/** A worker still draining this long after it was told to stop is killed (SPEC §3: 10 s drain). */
const STOP_LIMIT_MS = 11_000;

/** One forked worker as the supervisor tracks it. */
export interface WorkerHandle {
  readonly worker: Worker;
  readonly pending: PendingReplies;
  /** The config it was started with or last told to apply; undefined after it refused one (not known). */
  loaded: LoadedConfig | undefined;
  ready: boolean;
}

/**
 * The supervising process of a multi-process instance (`workers` > 1, SPEC §4 Workers). Workers
 * serve the public listeners; everything there must be one of per instance lives here:
 * - the config: loaded, validated and watched here, then applied by every worker (a reload
 *   answers once all have applied it);
 * - health checks: one probe per target and interval, each change sent to every worker;
 * - drains (admin API), sent to every worker and to workers started later;
 * - rate-limit buckets (without Redis, and as the fallback while Redis is down) and the
 *   auth-failure throttle, reached by workers over IPC so limits are exact;
 * - ACME orders and renewals; workers load the stored certificate when told;
 * - the admin listener, whose /metrics, /upstreams and dashboard sum every worker's numbers.
 */
export class Supervisor {
  readonly log: Logger;
  private readonly metrics = new Metrics();
  private readonly history = new ReloadHistory();
  private readonly limits = new InstanceLimits((message) => this.broadcast(message));
  private readonly credentials: InstanceCredentials;
  private readonly targets: TargetRegistry;
  private readonly tls: TlsServices;
  private readonly reloader: Reloader;
  private readonly admin: ListenerSet;
  private readonly stats: InstanceStats;
  private readonly slots: WorkerSlots;
  private loaded: LoadedConfig;
  private ports = { http: 0, https: 0 };
  private watcher: { close(): void } | undefined;
  /** Counts applied configs, as a single process's table version does. */
  private version = 1;
  private closing: Promise<void> | undefined;

  private constructor(
    file: string,
    loaded: LoadedConfig,
    private readonly configLoader: ConfigLoaderThread,
    private readonly redis: RedisConnection | undefined,
  ) {
    this.loaded = loaded;
    const config = loaded.config;
    this.log = createLogger(config.log.level, undefined, 0);
    const log = this.log;
    this.credentials = new InstanceCredentials(this.metrics, log);
    this.targets = new TargetRegistry((target, healthy, reason) => {
      this.metrics.targetUp.labels(target.upstream, target.url).set(healthy ? 1 : 0);
      log[healthy ? 'info' : 'warn']({ event: 'health', upstream: target.upstream, target: target.url, healthy, reason }, `target ${healthy ? 'up' : 'down'}`);
      this.broadcast({ type: 'health', report: { upstream: target.upstream, url: target.url, healthy, lastCheck: target.lastCheck } });
    });
    this.metrics.targetStates = () => this.targets.all();
    this.tls = createTlsServices(config, log, redis, { onStored: (host) => this.broadcast({ type: 'certificate', host }) });
    this.stats = new InstanceStats(this.metrics, () => this.ready());
    this.slots = new WorkerSlots(config.workers, log, {
      fork: () => this.fork(),
      stopped: () => this.closing !== undefined,
    });
    this.admin = new ListenerSet({ create: () => this.createAdmin() }, ['admin']);
    this.reloader = createConfigReloader({ file, loader: configLoader, apply: (next) => this.apply(next), log, metrics: this.metrics, history: this.history, active: loaded });
  }

  /** Loads the config, starts the admin listener and every worker; resolves once all serve. */
  static async start(file: string, loaded: LoadedConfig, configLoader: ConfigLoaderThread): Promise<Supervisor> {
    const bootLog = createLogger(loaded.config.log.level, undefined, 0);
    const sup = new Supervisor(file, loaded, configLoader, await connectRedis(loaded.config, bootLog));
    try {
      // TLS first: certificates a worker loads (self-signed ones included) exist before it starts.
      await sup.tls.manager.apply(loaded.config);
      sup.adoptTargets(loaded.config);
      await sup.admin.open(loaded.config, undefined);
      await sup.slots.startAll();
      sup.tls.manager.setHttpListener({ address: loaded.config.listen.http.host ?? '0.0.0.0', port: sup.ports.http });
      sup.watcher = watchFiles([file], () => void sup.reload('watch'), sup.log);
    } catch (err) {
      await sup.close();
      throw err;
    }
    sup.log.info({ event: 'listening', ...sup.ports, admin: sup.admin.ports().admin, workers: loaded.config.workers, version: 1 }, 'portico is serving');
    return sup;
  }

  reload(trigger = 'api', force = false): Promise<ReloadResult> {
    return this.reloader.reload(trigger, force);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.watcher?.close();
    this.configLoader.close();
    await Promise.all([this.slots.stopAll(STOP_LIMIT_MS), this.admin.drainAll()]);
    this.targets.close();
    this.limits.close();
    await this.credentials.close();
    await this.tls.manager.close().catch(() => undefined);
    await this.redis?.close();
    this.log.info({ event: 'shutdown' }, 'stopped');
    this.log.flush?.();
  }

  /** Workers that serve now. */
  private ready(): WorkerHandle[] {
    return this.slots.handles().filter((h) => h.ready);
  }

  private broadcast(message: ToWorker): void {
    for (const h of this.slots.handles()) if (h.worker.isConnected()) h.worker.send(message);
  }

  /** Health checks for every configured upstream's targets, here only. */
  private adoptTargets(config: Config): void {
    const keep = new Set<TargetState>();
    for (const up of config.upstreams.values()) for (const t of this.targets.acquire(up)) keep.add(t);
    const before = this.targets.all();
    this.targets.retain(keep);
    for (const t of before) if (!keep.has(t)) this.metrics.targetUp.remove(t.upstream, t.url);
    for (const t of keep) this.metrics.targetUp.labels(t.upstream, t.url).set(t.healthy ? 1 : 0);
  }

  /**
   * A reload validated here, applied by every serving worker; answers once all have. Admin moves
   * first (it can fail: nothing changed then); TLS before the workers, so a new host's stored
   * certificate exists when they load it.
   */
  private async apply(loaded: LoadedConfig): Promise<Applied> {
    const prev = this.loaded.config;
    const next = loaded.config;
    warnRestartOnly(prev, next, this.log);
    await this.admin.open(next, prev);
    await this.tls.manager.apply(next);
    const replies = await Promise.all(this.ready().map((h) => this.tell(h, loaded)));
    const failed = replies.find((r): r is Extract<ApplyReply, { ok: false }> => !r.ok);
    if (failed) {
      await this.tls.manager.apply(prev).catch(() => undefined);
      throw new Error(failed.message);
    }
    this.loaded = loaded;
    // A worker that started while this reload ran began with the previous config: catch it up.
    for (const h of this.ready()) if (h.loaded !== loaded) void this.tell(h, loaded);
    this.adoptTargets(next);
    const hostsCompiled = Math.max(0, ...replies.map((r) => (r.ok ? r.hostsCompiled : 0)));
    return { version: ++this.version, hostsCompiled };
  }

  private tell(h: WorkerHandle, loaded: LoadedConfig): Promise<ApplyReply> {
    const { id, reply } = h.pending.open<ApplyReply>();
    const delta = configDelta(h.loaded, loaded);
    h.loaded = loaded;
    h.worker.send({ type: 'apply', id, delta } satisfies ToWorker);
    return reply.then(
      (r) => {
        // What it holds now is not known: the next config goes to it whole.
        if (!r.ok) h.loaded = undefined;
        return r;
      },
      // A worker that dies meanwhile is replaced with the new config: not a failure of the file.
      (): ApplyReply => ({ ok: true, version: 0, hostsCompiled: 0 }),
    );
  }

  /** Forks one worker and wires its messages; the slot manager watches its exit. */
  private fork(): WorkerHandle {
    cluster.setupPrimary({ serialization: 'advanced' });
    const worker = cluster.fork();
    const h: WorkerHandle = { worker, pending: new PendingReplies(), loaded: this.loaded, ready: false };
    worker.on('message', (message: FromWorker) => this.onMessage(h, message));
    worker.on('exit', () => h.pending.failAll(new Error('worker exited')));
    return h;
  }

  private onMessage(h: WorkerHandle, m: FromWorker): void {
    const send = (message: ToWorker) => h.worker.isConnected() && h.worker.send(message);
    if (this.limits.handle(m, send) || this.credentials.handle(m, send)) return;
    switch (m.type) {
      case 'challenge':
        return void this.tls.manager.challengeResponse(m.token).then((value) => send({ type: 'reply', id: m.id, value }));
      case 'reply':
        return h.pending.settle(m.id, m.value);
      case 'hello':
        return void send({
          type: 'init',
          loaded: (h.loaded ??= this.loaded),
          health: this.targets.all().map((t) => ({ upstream: t.upstream, url: t.url, healthy: t.healthy, lastCheck: t.lastCheck })),
          drained: this.targets.drainedTargets(),
          blocked: this.limits.blocked(),
        });
      case 'ready':
        h.ready = true;
        this.ports = { ...m.ports };
        this.slots.ready(h);
        // A reload ran while it started: it serves the config of now before anything else.
        if (h.loaded !== this.loaded) void this.tell(h, this.loaded);
        return undefined;
      default:
        return undefined;
    }
  }

  private createAdmin() {
    return createAdminServer(
      {
        metrics: this.metrics,
        registry: () => this.stats.registry(),
        requestCounts: () => this.stats.requestCounts(),
        refresh: (scope) => this.stats.collect(this.targets.all(), scope),
        config: () => this.loaded.config,
        targets: () => this.targets.all(),
        setDraining: (target, draining) => {
          this.targets.setDraining(target, draining);
          this.broadcast({ type: 'drain', upstream: target.upstream, url: target.url, draining });
        },
        reload: () => this.reload('admin', true),
        beforeMetrics: () => this.tls.updateMetrics(this.metrics),
        certificates: () => this.tls.manager.status(),
        reloads: () => this.history.list(),
      },
      this.log.child({ module: 'admin' }),
    );
  }
}

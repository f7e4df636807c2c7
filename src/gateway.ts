import type { AddressInfo } from 'node:net';
import { createAdminServer } from './admin/admin-server.js';
import { Metrics } from './admin/metrics.js';
import { ReloadHistory } from './admin/reload-history.js';
import type { Config } from './config/config-types.js';
import type { ConfigLoaderThread } from './config/config-loader-thread.js';
import type { LoadedConfig } from './config/load-config.js';
import { createLogger, type Logger } from './observability/logger.js';
import { ProxyEngine } from './proxy/proxy-engine.js';
import { watchFiles } from './watch/watch-files.js';
import type { Applied, Reloader, ReloadResult } from './reload/reloader.js';
import { createConfigReloader } from './reload/config-reloader.js';
import { compileRouteTable, compileRouteTableInSlices, type CompileDeps, type CompiledTable } from './routing/compile-route-table.js';
import type { RouteTable } from './routing/route-table.js';
import { ListenerSet, type ListenerRole } from './server/listener-set.js';
import { createHttpListener, createHttpsListener, type EdgeHandlers, type Listener, type SecureListener } from './server/listeners.js';
import { refusalContext } from './server/refusal-context.js';
import { createEdgeContext, type EdgeContext } from './server/edge-context.js';
import { createRequestHandler } from './server/request-handler.js';
import { createUpgradeHandler } from './server/upgrade-handler.js';
import { createSecurityServices, type SecurityServices } from './security-services.js';
import { connectRedis } from './store/connect-redis.js';
import { createTlsServices, type TlsServices } from './tls-services.js';
import type { RedisConnection } from './store/redis-connection.js';
import { TargetRegistry } from './upstreams/target-registry.js';
import type { WorkerServices } from './cluster/worker-services.js';
import { warnRestartOnly } from './reload/restart-only-settings.js';

/** How to start a gateway; tests pass a logger that collects lines. */
export interface GatewayOptions {
  readonly configFile: string;
  readonly log?: Logger;
  /** Watch the config file for changes (default true). */
  readonly watch?: boolean;
  /** Set in a worker process of a multi-process instance: what it shares with its supervisor. */
  readonly worker?: WorkerServices;
  /** A config `portico start` already loaded (to read `workers`), with the thread that loaded it. */
  readonly preloaded?: { readonly loaded: LoadedConfig; readonly configLoader: ConfigLoaderThread };
}


/**
 * The composition root: it wires listeners, the route-table slot, the reloader, TLS and the
 * admin API, and owns their lifetimes. It is the only module that knows the whole system. In a
 * worker process it runs the public listeners only; reloads, health checks, ACME orders and the
 * admin API are its supervisor's (src/cluster/).
 */
export class Gateway {
  /** The active route table; each request reads it once (one snapshot per request). */
  table: RouteTable;
  readonly log: Logger;
  readonly metrics = new Metrics();
  readonly targets: TargetRegistry;
  readonly tls: TlsServices;
  private readonly reloads = new ReloadHistory();
  private readonly engine: ProxyEngine;
  private readonly security: SecurityServices;
  private readonly reloader: Reloader | undefined;
  /** Large files are parsed and validated in a worker thread: the event loop serving requests only compiles and swaps. */
  /** Loaded on demand: a worker process never parses a config, and starts faster without the parser. */
  private readonly configLoader: ConfigLoaderThread | undefined;
  private readonly redis: RedisConnection | undefined;
  private readonly listeners: ListenerSet;
  private edgeContext: EdgeContext | undefined;
  private watcher: { close(): void } | undefined;
  private version = 0;
  /** A worker process: health, its metric and log lines are its supervisor's. */
  private readonly inWorker: boolean;
  private closing: Promise<void> | undefined;

  private constructor(file: string, loaded: LoadedConfig, configLoader: ConfigLoaderThread | undefined, log: Logger, redis: RedisConnection | undefined, worker: WorkerServices | undefined) {
    const config = loaded.config;
    this.log = log;
    this.configLoader = configLoader;
    const inWorker = (this.inWorker = worker !== undefined);
    this.targets = new TargetRegistry(
      (target, healthy, reason) => {
        // A worker follows the health its supervisor probes, which logs and counts each change once.
        if (inWorker) return;
        this.metrics.targetUp.labels(target.upstream, target.url).set(healthy ? 1 : 0);
        log[healthy ? 'info' : 'warn']({ event: 'health', upstream: target.upstream, target: target.url, healthy, reason }, `target ${healthy ? 'up' : 'down'}`);
      },
      { probes: !inWorker },
    );
    if (!inWorker) this.metrics.targetStates = () => this.targets.all();
    this.engine = new ProxyEngine(log.child({ module: 'proxy' }));
    this.redis = redis;
    this.security = createSecurityServices(this.redis, log, this.metrics, worker);
    this.tls = createTlsServices(config, log, this.redis, worker ? { challengeResponse: (token) => worker.challengeResponse(token) } : {});
    this.listeners = new ListenerSet(
      { create: (role) => this.createListener(role), released: (server, role) => role === 'https' && this.tls.manager.detach(server as SecureListener) },
      inWorker ? ['http', 'https'] : undefined,
    );
    this.version += 1;
    this.table = this.adopt(compileRouteTable(config, this.compileDeps(), this.version));
    if (configLoader) {
      this.reloader = createConfigReloader({ file, loader: configLoader, apply: (next) => this.apply(next), log, metrics: this.metrics, history: this.reloads, active: loaded });
    }
  }

  /** Loads the config (throws ConfigError when invalid), starts every listener, and resolves when serving. */
  static async start(opts: GatewayOptions): Promise<Gateway> {
    let loaded: LoadedConfig;
    let configLoader: ConfigLoaderThread | undefined;
    if (opts.worker) {
      loaded = opts.worker.loaded;
    } else if (opts.preloaded) {
      ({ loaded, configLoader } = opts.preloaded);
    } else {
      // Off-thread from the start too: the parse of a large file would leave its garbage, a few
      // hundred MB for 10,000 hosts, in the heap that serves requests.
      const { ConfigLoaderThread } = await import('./config/config-loader-thread.js');
      configLoader = new ConfigLoaderThread();
      try {
        loaded = await configLoader.load(opts.configFile);
      } catch (err) {
        configLoader.close();
        throw err;
      }
    }
    const log = opts.log ?? createLogger(loaded.config.log.level);
    const gw = new Gateway(opts.configFile, loaded, configLoader, log, await connectRedis(loaded.config, log), opts.worker);
    try {
      await gw.listen(loaded.config, opts.worker !== undefined);
      if (opts.watch !== false && !opts.worker) gw.watcher = watchFiles([opts.configFile], () => void gw.reload('watch'), log);
    } catch (err) {
      await gw.close();
      throw err;
    }
    return gw;
  }

  /** Actual bound ports (useful when the config asks for port 0). */
  ports(): { http: number; https: number; admin: number | undefined } {
    return this.listeners.ports();
  }

  /** Re-reads the config file; keeps the running config on any error. */
  reload(trigger = 'api', force = false): Promise<ReloadResult> {
    if (!this.reloader) return Promise.reject(new Error('a worker reloads when its supervisor says so'));
    return this.reloader.reload(trigger, force);
  }

  /** Graceful shutdown: stop accepting, let in-flight requests finish (≤10 s), close the rest. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /**
   * Applies a config validated elsewhere (a worker's supervisor): listeners first, as the one
   * step that can fail for reasons outside the file, then the table and TLS.
   */
  async apply(loaded: LoadedConfig): Promise<Applied> {
    const next = loaded.config;
    const prev = this.table.config;
    if (this.reloader) warnRestartOnly(prev, next, this.log);
    // A failure to bind leaves every old listener and the old table serving.
    const moved = await this.listeners.open(next, prev);
    if (moved.includes('http')) this.tls.manager.setHttpListener(this.listeners.get('http')?.address() as AddressInfo);
    if (moved.length > 0) this.log.info({ event: 'listening', ...this.ports(), moved }, `now listening on new ${moved.join(', ')} address`);
    this.version += 1;
    const compiled = await compileRouteTableInSlices(next, this.compileDeps(), this.version, this.table);
    this.table = this.adopt(compiled);
    await this.tls.manager.apply(next);
    return { version: this.table.version, hostsCompiled: compiled.hostsCompiled };
  }

  private async shutdown(): Promise<void> {
    this.watcher?.close();
    this.configLoader?.close();
    await this.listeners.drainAll();
    this.targets.close();
    await Promise.allSettled([this.tls.manager.close(), this.security.close()]);
    await this.redis?.close();
    this.log.info({ event: 'shutdown' }, 'stopped');
    this.log.flush?.();
  }

  private compileDeps(): CompileDeps {
    return { engine: this.engine, targets: this.targets, ...this.security.steps };
  }

  /** Retires the target states the new table no longer uses and updates their metrics. */
  private adopt({ table, targets }: CompiledTable): RouteTable {
    const before = new Set(this.targets.all());
    this.targets.retain(targets);
    if (!this.inWorker) {
      for (const t of before) if (!targets.has(t)) this.metrics.targetUp.remove(t.upstream, t.url);
      for (const t of targets) this.metrics.targetUp.labels(t.upstream, t.url).set(t.healthy ? 1 : 0);
    }
    return table;
  }

  /**
   * Binds the listeners. A single process starts ACME orders once its HTTP listener can answer
   * challenges; a worker leaves orders and the `listening` announcement to its supervisor.
   */
  private async listen(config: Config, inWorker: boolean): Promise<void> {
    await this.tls.manager.apply(config);
    await this.listeners.open(config, undefined);
    if (inWorker) return void this.log.info({ event: 'worker_listening', pid: process.pid, ...this.ports() }, 'worker is serving');
    this.tls.manager.setHttpListener(this.listeners.get('http')?.address() as AddressInfo);
    this.log.info({ event: 'listening', ...this.ports(), version: this.table.version }, 'portico is serving');
  }

  private createListener(role: ListenerRole): Listener {
    const edge = (this.edgeContext ??= this.edge());
    if (role === 'http') return createHttpListener(this.edgeHandlers(edge, 'http'));
    if (role === 'https') {
      const https = createHttpsListener(this.tls.manager.serverOptions(), this.edgeHandlers(edge, 'https'));
      this.tls.manager.attach(https);
      return https;
    }
    return createAdminServer(
      {
        metrics: this.metrics,
        registry: () => this.metrics.registry,
        requestCounts: () => this.metrics.requestCounts(),
        config: () => this.table.config,
        targets: () => this.targets.all(),
        setDraining: (target, draining) => this.targets.setDraining(target, draining),
        reload: () => this.reload('admin', true),
        beforeMetrics: () => this.tls.updateMetrics(this.metrics),
        certificates: () => this.tls.manager.status(),
        reloads: () => this.reloads.list(),
      },
      this.log.child({ module: 'admin' }),
    );
  }

  /** The handlers of a public listener; a request the listener refuses itself is logged like the rest. */
  private edgeHandlers(edge: EdgeContext, proto: 'http' | 'https'): EdgeHandlers {
    const request = createRequestHandler(edge, proto);
    return {
      request,
      upgrade: createUpgradeHandler(edge, proto, request),
      refused: (req, status, requestId, bytes) => edge.finish(refusalContext(this.table, req, proto, requestId), status, bytes),
    };
  }

  /** The view of the gateway the public listeners use; `table` is read once per request. */
  private edge(): EdgeContext {
    const gw = this;
    const state = {
      get table() {
        return gw.table;
      },
      get draining() {
        return gw.closing !== undefined;
      },
      get httpsPort() {
        return gw.ports().https;
      },
      challengeResponse: (token: string) => gw.tls.challengeResponse(token),
    };
    return createEdgeContext(state, this.metrics, this.log);
  }
}

import type { Server as TlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createAdminServer } from './admin/admin-server.js';
import { Metrics } from './admin/metrics.js';
import { ReloadHistory } from './admin/reload-history.js';
import type { Config, ListenAddress } from './config/config-types.js';
import { ConfigLoaderThread } from './config/config-loader-thread.js';
import { readConfigSource, type LoadedConfig } from './config/load-config.js';
import { createAccessLogWriter } from './observability/access-log.js';
import { createLogger, type Logger } from './observability/logger.js';
import { ProxyEngine } from './proxy/proxy-engine.js';
import { watchFiles } from './watch/watch-files.js';
import { Reloader, type ReloadResult } from './reload/reloader.js';
import { compileRouteTable, compileRouteTableInSlices, type CompileDeps, type CompiledTable } from './routing/compile-route-table.js';
import type { RouteTable } from './routing/route-table.js';
import { createHttpListener, createHttpsListener, type EdgeHandlers, type Listener } from './server/listeners.js';
import { refusalContext } from './server/refusal-context.js';
import { createRequestHandler, createUpgradeHandler, type EdgeContext } from './server/request-handler.js';
import { createSecurityServices, type SecurityServices } from './security-services.js';
import { createTlsServices, type TlsServices } from './tls-services.js';
import type { RedisConnection } from './store/redis-connection.js';
import { TargetRegistry } from './upstreams/target-registry.js';

/** How to start a gateway; tests pass a logger that collects lines. */
export interface GatewayOptions {
  readonly configFile: string;
  readonly log?: Logger;
  /** Watch the config file for changes (default true). */
  readonly watch?: boolean;
}

/** Time in-flight requests get to finish on shutdown (SPEC §3 Shutdown). */
const DRAIN_MS = 10_000;

/**
 * The composition root: it wires listeners, the route-table slot, the reloader, TLS and the
 * admin API, and owns their lifetimes. It is the only module that knows the whole system.
 */
export class Gateway {
  /** The active route table; each request reads it once (one snapshot per request). */
  table: RouteTable;
  readonly log: Logger;
  readonly metrics = new Metrics();
  private readonly reloads = new ReloadHistory();
  private readonly targets: TargetRegistry;
  private readonly engine: ProxyEngine;
  private readonly security: SecurityServices;
  private readonly tls: TlsServices;
  private readonly reloader: Reloader;
  /** Large files are parsed and validated in a worker thread: the event loop serving requests only compiles and swaps. */
  private readonly configLoader: ConfigLoaderThread;
  private readonly redis: RedisConnection | undefined;
  /** Every listener not yet closed, including ones draining after a move to a new address. */
  private readonly servers: Listener[] = [];
  /** The listener serving each role now. */
  private readonly listeners: Record<ListenerRole, Listener | undefined> = { http: undefined, https: undefined, admin: undefined };
  private edgeContext: EdgeContext | undefined;
  private watcher: { close(): void } | undefined;
  private version = 0;
  private closing: Promise<void> | undefined;

  private constructor(file: string, loaded: LoadedConfig, configLoader: ConfigLoaderThread, log: Logger, redis: RedisConnection | undefined) {
    const config = loaded.config;
    this.log = log;
    this.configLoader = configLoader;
    this.targets = new TargetRegistry((target, healthy, reason) => {
      this.metrics.targetUp.labels(target.upstream, target.url).set(healthy ? 1 : 0);
      log[healthy ? 'info' : 'warn']({ event: 'health', upstream: target.upstream, target: target.url, healthy, reason }, `target ${healthy ? 'up' : 'down'}`);
    });
    this.metrics.targetStates = () => this.targets.all();
    this.engine = new ProxyEngine(log.child({ module: 'proxy' }));
    this.redis = redis;
    this.security = createSecurityServices(this.redis, log, this.metrics);
    this.tls = createTlsServices(config, log, this.redis);
    this.version += 1;
    this.table = this.adopt(compileRouteTable(config, this.compileDeps(), this.version));
    const reloadLog = log.child({ module: 'reload' });
    this.reloader = new Reloader(
      () => readConfigSource(file),
      (source) => this.configLoader.parse(file, source),
      (next) => this.apply(next),
      reloadLog,
      // Called once per content of the file (repeats of one save are not): one count per change.
      (r) => {
        this.metrics.reloads.labels(r.ok ? 'ok' : 'error').inc();
        this.metrics.lastReloadOk.set(r.ok ? 1 : 0);
        this.reloads.record(r);
      },
    );
    this.reloader.markActive(loaded.source);
  }

  /** Loads the config (throws ConfigError when invalid), starts every listener, and resolves when serving. */
  static async start(opts: GatewayOptions): Promise<Gateway> {
    // Off-thread from the start too: the parse of a large file would leave its garbage, a few
    // hundred MB for 10,000 hosts, in the heap that serves requests.
    const configLoader = new ConfigLoaderThread();
    let loaded: LoadedConfig;
    try {
      loaded = await configLoader.load(opts.configFile);
    } catch (err) {
      configLoader.close();
      throw err;
    }
    const log = opts.log ?? createLogger(loaded.config.log.level);
    const gw = new Gateway(opts.configFile, loaded, configLoader, log, await connectRedis(loaded.config, log));
    try {
      await gw.listen(loaded.config);
      if (opts.watch !== false) gw.watcher = watchFiles([opts.configFile], () => void gw.reload('watch'), log);
    } catch (err) {
      await gw.close();
      throw err;
    }
    return gw;
  }

  /** Actual bound ports (useful when the config asks for port 0). */
  ports(): { http: number; https: number; admin: number | undefined } {
    const port = (s: Listener | undefined) => (s?.address() as AddressInfo | null)?.port;
    return { http: port(this.listeners.http) ?? 0, https: port(this.listeners.https) ?? 0, admin: port(this.listeners.admin) };
  }

  /** Re-reads the config file; keeps the running config on any error. */
  reload(trigger = 'api', force = false): Promise<ReloadResult> {
    return this.reloader.reload(trigger, force);
  }

  /** Graceful shutdown: stop accepting, let in-flight requests finish (≤10 s), close the rest. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.watcher?.close();
    this.configLoader.close();
    await drain([...this.servers]);
    this.targets.close();
    await Promise.allSettled([this.tls.close(), this.security.close()]);
    await this.redis?.close();
    this.log.info({ event: 'shutdown' }, 'stopped');
    this.log.flush?.();
  }

  private compileDeps(): CompileDeps {
    return { engine: this.engine, targets: this.targets, ...this.security.steps };
  }

  /** Builds the table for a reload a slice at a time, so requests keep flowing meanwhile. */
  private async compile(config: Config): Promise<RouteTable> {
    this.version += 1;
    return this.adopt(await compileRouteTableInSlices(config, this.compileDeps(), this.version));
  }

  /** Retires the target states the new table no longer uses and updates their metrics. */
  private adopt({ table, targets }: CompiledTable): RouteTable {
    const before = new Set(this.targets.all());
    this.targets.retain(targets);
    for (const t of before) if (!targets.has(t)) this.metrics.targetUp.remove(t.upstream, t.url);
    for (const t of targets) this.metrics.targetUp.labels(t.upstream, t.url).set(t.healthy ? 1 : 0);
    return table;
  }

  private async apply(loaded: LoadedConfig): Promise<number> {
    const next = loaded.config;
    const prev = this.table.config;
    warnRestartOnly(prev, next, this.log);
    // First, as the one step that can fail for reasons outside the file (a port in use): a
    // failure leaves every old listener and the old table serving.
    await this.openListeners(next, prev);
    this.table = await this.compile(next);
    await this.tls.apply(next);
    return this.table.version;
  }

  private async listen(config: Config): Promise<void> {
    await this.tls.apply(config);
    await this.openListeners(config, undefined);
    this.log.info({ event: 'listening', ...this.ports(), version: this.table.version }, 'portico is serving');
  }

  /**
   * Binds a listener for each role whose address is new (every role at start, as nginx does
   * on reload), then puts them in service and retires the ones they replace. If any bind
   * fails, the new ones are closed again and the error is thrown with the old ones untouched.
   */
  private async openListeners(next: Config, prev: Config | undefined): Promise<void> {
    const addresses = (c: Config): Record<ListenerRole, ListenAddress | undefined> => ({ http: c.listen.http, https: c.listen.https, admin: c.admin });
    const wanted = addresses(next);
    const before = prev ? addresses(prev) : undefined;
    const roles = ROLES.filter((role) => !before || !sameAddress(before[role], wanted[role]));
    if (roles.length === 0) return;
    const opened = new Map<ListenerRole, Listener | undefined>();
    try {
      for (const role of roles) {
        const addr = wanted[role];
        if (!addr) {
          opened.set(role, undefined); // admin removed from the config
          continue;
        }
        const server = this.createListener(role);
        opened.set(role, server);
        try {
          await bind(server, addr);
        } catch (err) {
          throw new Error(`cannot listen on ${addr.host}:${addr.port} (${role}): ${(err as Error).message}`);
        }
      }
    } catch (err) {
      for (const server of opened.values()) if (server) this.closeUnused(server);
      throw err;
    }
    for (const [role, server] of opened) {
      const old = this.listeners[role];
      this.listeners[role] = server;
      if (server) this.servers.push(server);
      if (old) this.retire(old, role);
    }
    if (opened.has('http')) this.tls.setHttpListener(this.listeners.http?.address() as AddressInfo);
    if (prev) this.log.info({ event: 'listening', ...this.ports(), moved: roles }, `now listening on new ${roles.join(', ')} address`);
  }

  private createListener(role: ListenerRole): Listener {
    const edge = (this.edgeContext ??= this.edge());
    if (role === 'http') {
      return createHttpListener(this.edgeHandlers(edge, 'http'));
    }
    if (role === 'https') {
      const https = createHttpsListener(this.tls.serverOptions(), this.edgeHandlers(edge, 'https'));
      this.tls.attach(https as unknown as TlsServer);
      return https;
    }
    return createAdminServer(
      {
        metrics: this.metrics,
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

  /** A listener bound for a reload that failed: never served, closed at once. */
  private closeUnused(server: Listener): void {
    server.close();
    this.tls.detach(server as unknown as TlsServer);
  }

  /**
   * A listener replaced by one on a new address: it stops accepting at once, and its open
   * connections finish what they are doing (idle keep-alive ones are closed), as on shutdown.
   */
  private retire(server: Listener, role: ListenerRole): void {
    if (role === 'https') this.tls.detach(server as unknown as TlsServer);
    void drain([server]).then(() => {
      const i = this.servers.indexOf(server);
      if (i >= 0) this.servers.splice(i, 1);
    });
  }

  /** The view of the gateway the public listeners use; `table` is read once per request. */
  private edge(): EdgeContext {
    const gw = this;
    const accessLog = createAccessLogWriter(this.log);
    return {
      get table() {
        return gw.table;
      },
      get draining() {
        return gw.closing !== undefined;
      },
      // Read when a redirect is built (rare): the HTTPS listener may have moved on reload.
      get httpsPort() {
        return gw.ports().https;
      },
      challengeResponse: (token) => gw.tls.challengeResponse(token),
      finish: (ctx, status, bytes) => {
        const ms = performance.now() - ctx.startedAt;
        gw.metrics.observeRequest(ctx.hostLabel, status, ms / 1000);
        if (gw.table.config.log.access) accessLog(ctx, status, bytes, ms);
      },
      onStepError: (ctx, err) => gw.log.error({ event: 'step_error', requestId: ctx.requestId, err }, 'request step failed'),
      onInternalError: (err) => gw.log.error({ event: 'internal_error', err }, 'request failed on an unexpected error'),
    };
  }
}

/**
 * Stops `servers` accepting and resolves once their connections are gone: requests in flight
 * finish, idle keep-alive connections are closed, and whatever is still open after DRAIN_MS
 * is cut. Used on shutdown and for a listener replaced on reload.
 */
async function drain(servers: readonly Listener[]): Promise<void> {
  const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  for (const s of servers) s.closeIdleConnections();
  // Node closes idle connections only once, at close(): a keep-alive connection whose request
  // finishes later stays open and held close() until the drain limit. Sweep until drained.
  const sweep = setInterval(() => servers.forEach((s) => s.closeIdleConnections()), 100);
  const limit = setTimeout(() => servers.forEach((s) => s.closeAllConnections()), DRAIN_MS);
  await closed;
  clearTimeout(limit);
  clearInterval(sweep);
}

/**
 * The Redis connection when the config has `redis:`. ioredis takes about 13 MiB of memory once
 * loaded, so it is only loaded for a config that uses it.
 */
async function connectRedis(config: Config, log: Logger): Promise<RedisConnection | undefined> {
  if (!config.redis) return undefined;
  const { createRedisConnection } = await import('./store/redis-connection.js');
  return createRedisConnection(config.redis, log.child({ module: 'redis' }));
}

function bind(server: Listener, addr: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

type ListenerRole = 'http' | 'https' | 'admin';
const ROLES: readonly ListenerRole[] = ['http', 'https', 'admin'];

function sameAddress(a: ListenAddress | undefined, b: ListenAddress | undefined): boolean {
  return a?.host === b?.host && a?.port === b?.port;
}

function warnRestartOnly(prev: Config, next: Config, log: Logger): void {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const changed = (['redis'] as const).filter((k) => !same(prev[k], next[k]));
  if (changed.length > 0) log.warn({ event: 'reload', keys: changed }, `changes to ${changed.join(', ')} take effect after a restart`);
}


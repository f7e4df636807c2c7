import type { AddressInfo } from 'node:net';
import type { Config, ListenAddress } from '../config/config-types.js';
import type { Listener } from './listeners.js';

/** The three listeners a gateway process may run. */
export type ListenerRole = 'http' | 'https' | 'admin';
export const LISTENER_ROLES: readonly ListenerRole[] = ['http', 'https', 'admin'];

/** Time in-flight requests get to finish on shutdown (SPEC §3 Shutdown). */
export const DRAIN_MS = 10_000;

/** How the set makes and lets go of a listener of a role; the gateway knows the handlers. */
export interface ListenerFactory {
  create(role: ListenerRole): Listener;
  /** Called when a listener stops serving (replaced, or bound for a reload that failed). */
  released?(listener: Listener, role: ListenerRole): void;
}

/**
 * The listeners of one process and their lifetimes: bound at start, moved on reload when an
 * address changes (new one bound first, old one drained), drained on shutdown. `roles` are the
 * ones this process serves: all three for a single process; http and https in a worker of a
 * multi-process instance, whose supervisor serves admin.
 */
export class ListenerSet {
  /** Every listener not yet closed, including ones draining after a move to a new address. */
  private readonly servers: Listener[] = [];
  private readonly current: Record<ListenerRole, Listener | undefined> = { http: undefined, https: undefined, admin: undefined };

  constructor(
    private readonly factory: ListenerFactory,
    private readonly roles: readonly ListenerRole[] = LISTENER_ROLES,
  ) {}

  get(role: ListenerRole): Listener | undefined {
    return this.current[role];
  }

  /** Actual bound ports (useful when the config asks for port 0). */
  ports(): { http: number; https: number; admin: number | undefined } {
    const port = (s: Listener | undefined) => (s?.address() as AddressInfo | null)?.port;
    return { http: port(this.current.http) ?? 0, https: port(this.current.https) ?? 0, admin: port(this.current.admin) };
  }

  /**
   * Binds a listener for each role whose address is new (every role at start, as nginx does
   * on reload), then puts them in service and retires the ones they replace. If any bind
   * fails, the new ones are closed again and the error is thrown with the old ones untouched.
   * Returns the roles that moved.
   */
  async open(next: Config, prev: Config | undefined): Promise<ListenerRole[]> {
    const wanted = addresses(next);
    const before = prev ? addresses(prev) : undefined;
    const roles = this.roles.filter((role) => !before || !sameAddress(before[role], wanted[role]));
    if (roles.length === 0) return roles;
    const opened = new Map<ListenerRole, Listener | undefined>();
    try {
      for (const role of roles) {
        const addr = wanted[role];
        if (!addr) {
          opened.set(role, undefined); // admin removed from the config
          continue;
        }
        const server = this.factory.create(role);
        opened.set(role, server);
        try {
          await bind(server, addr);
        } catch (err) {
          throw new Error(`cannot listen on ${addr.host}:${addr.port} (${role}): ${(err as Error).message}`);
        }
      }
    } catch (err) {
      for (const [role, server] of opened) {
        if (!server) continue;
        server.close();
        this.factory.released?.(server, role);
      }
      throw err;
    }
    for (const [role, server] of opened) {
      const old = this.current[role];
      this.current[role] = server;
      if (server) this.servers.push(server);
      if (old) this.retire(old, role);
    }
    return roles;
  }

  /** Stops every listener accepting and resolves once their connections are gone (shutdown). */
  drainAll(): Promise<void> {
    return drain([...this.servers]);
  }

  /**
   * A listener replaced by one on a new address: it stops accepting at once, and its open
   * connections finish what they are doing (idle keep-alive ones are closed), as on shutdown.
   */
  private retire(server: Listener, role: ListenerRole): void {
    this.factory.released?.(server, role);
    void drain([server]).then(() => {
      const i = this.servers.indexOf(server);
      if (i >= 0) this.servers.splice(i, 1);
    });
  }
}

/**
 * Stops `servers` accepting and resolves once their connections are gone: requests in flight
 * finish, idle keep-alive connections are closed, and whatever is still open after DRAIN_MS
 * is cut.
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

function bind(server: Listener, addr: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function addresses(c: Config): Record<ListenerRole, ListenAddress | undefined> {
  return { http: c.listen.http, https: c.listen.https, admin: c.admin };
}

function sameAddress(a: ListenAddress | undefined, b: ListenAddress | undefined): boolean {
  return a?.host === b?.host && a?.port === b?.port;
}

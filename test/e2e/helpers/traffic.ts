import { Agent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** The outcome of one background request. */
export interface TrafficResult {
  readonly status: number | undefined;
  readonly error: string | undefined;
  readonly body: string;
  readonly at: number;
}

export interface TrafficOptions {
  readonly port: number;
  readonly host?: string;
  readonly path?: string | (() => string);
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Requests running at once (default 2). */
  readonly concurrency?: number;
  /** Pause between two requests of one loop (default 0). */
  readonly intervalMs?: number;
  /** Reuse connections (default true): reloads and drains must not break kept-alive clients. */
  readonly keepAlive?: boolean;
  /** Statuses that count as success (default: 2xx and 3xx). */
  readonly ok?: (status: number) => boolean;
  /**
   * Speak HTTPS with this SNI name (the port is then the https listener). The certificate is not
   * verified: scenarios swap temporary, self-signed and CA certificates under this traffic.
   */
  readonly tls?: { readonly servername: string };
  /** A request unanswered after this fails with "client timeout" (default 30 s). */
  readonly timeoutMs?: number;
}

/** Background traffic running while a test changes state; `stop()` returns every result. */
export interface Traffic {
  readonly results: TrafficResult[];
  failures(): TrafficResult[];
  stop(): Promise<{ total: number; failures: TrafficResult[]; results: TrafficResult[] }>;
}

/**
 * Starts `concurrency` request loops against a local port. Each loop sends one request, waits
 * for its whole response, and sends the next, until stop(). Bounded by the test's own lifetime
 * (tests call stop in their body and in t.teardown).
 */
export function startTraffic(opts: TrafficOptions): Traffic {
  const agentOptions = { keepAlive: opts.keepAlive ?? true, maxSockets: opts.concurrency ?? 2 };
  const agent = opts.tls ? new HttpsAgent({ ...agentOptions, servername: opts.tls.servername, rejectUnauthorized: false }) : new Agent(agentOptions);
  const send = opts.tls ? httpsRequest : httpRequest;
  const ok = opts.ok ?? ((s: number) => s >= 200 && s < 400);
  const results: TrafficResult[] = [];
  let running = true;
  const one = () =>
    new Promise<TrafficResult>((resolve) => {
      const path = typeof opts.path === 'function' ? opts.path() : (opts.path ?? '/');
      const req = send(
        { host: '127.0.0.1', port: opts.port, path, method: opts.method ?? 'GET', agent, headers: { host: opts.host ?? 'localhost', ...opts.headers } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode, error: undefined, body, at: Date.now() }));
          res.on('error', (err) => resolve({ status: res.statusCode, error: err.message, body, at: Date.now() }));
        },
      );
      req.on('error', (err) => resolve({ status: undefined, error: (err as NodeJS.ErrnoException).code ?? err.message, body: '', at: Date.now() }));
      req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error('client timeout')));
      req.end(opts.body);
    });
  const loop = async () => {
    while (running) {
      results.push(await one());
      if (opts.intervalMs) await new Promise((r) => setTimeout(r, opts.intervalMs));
    }
  };
  const loops = Array.from({ length: opts.concurrency ?? 2 }, loop);
  const failures = () => results.filter((r) => r.error !== undefined || r.status === undefined || !ok(r.status));
  return {
    results,
    failures,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return { total: results.length, failures: failures(), results };
    },
  };
}

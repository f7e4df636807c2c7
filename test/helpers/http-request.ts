import { Agent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A response read to the end. */
export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string | Buffer;
  readonly https?: boolean;
  /** TLS SNI name (https only); defaults to the Host header's name. */
  readonly servername?: string;
  readonly agent?: Agent | false;
  readonly timeoutMs?: number;
  /** Loopback address to connect to (default 127.0.0.1). */
  readonly address?: string;
}

/**
 * Sends one request to 127.0.0.1:port with an explicit Host header (so host routing can be
 * tested without DNS) and reads the whole response.
 */
export function request(port: number, path: string, opts: RequestOptions = {}): Promise<Reply> {
  const send = opts.https ? httpsRequest : httpRequest;
  const host = String(opts.headers?.host ?? 'localhost');
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: opts.address ?? '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: { host, ...opts.headers },
        agent: opts.agent ?? false,
        rejectUnauthorized: false,
        servername: opts.https ? (opts.servername ?? host.split(':')[0]) : undefined,
        timeout: opts.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real upstream HTTP server on 127.0.0.1, port 0. */
export interface Upstream {
  readonly server: Server;
  readonly port: number;
  /** `127.0.0.1:PORT`, as written in routes.yaml targets. */
  readonly target: string;
  readonly url: string;
  /** Requests received, in order. */
  readonly requests: { method: string; url: string; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Default handler: 200 with a JSON echo of what the upstream received, plus its own name. */
export function echoHandler(name: string): Handler {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  };
}

/**
 * A target that refuses connections: a real upstream started on port 0 and closed again, so
 * nothing listens there (for 502s and retries after a connect failure).
 */
export async function deadTarget(): Promise<string> {
  const u = await startUpstream();
  await u.close();
  return u.target;
}

export async function startUpstream(handler: Handler = echoHandler('upstream')): Promise<Upstream> {
  const requests: Upstream['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    target: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

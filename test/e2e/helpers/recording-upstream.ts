import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the upstream parsed it, with the connection it came on. */
export interface RecordedRequest {
  readonly connection: number;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

/** An upstream that records every request it parses, per connection, with its body bytes. */
export interface RecordingUpstream {
  readonly port: number;
  readonly target: string;
  readonly requests: RecordedRequest[];
  /** Requests parsed on each connection, by connection number. */
  perConnection(): Map<number, RecordedRequest[]>;
  close(): Promise<void>;
}

/**
 * A keep-alive HTTP/1.1 upstream that reads each request's whole body and answers 200 with a
 * short JSON summary. A smuggled request shows up as a second request parsed on the same
 * connection; a mangled body as different bytes.
 */
export async function startRecordingUpstream(
  respond: (req: RecordedRequest, res: ServerResponse) => void = (r, res) => {
    const body = JSON.stringify({ method: r.method, url: r.url, bytes: r.body.length });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  },
): Promise<RecordingUpstream> {
  const requests: RecordedRequest[] = [];
  const ids = new WeakMap<Socket, number>();
  let next = 0;
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: RecordedRequest = {
        connection: ids.get(req.socket) ?? -1,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
      };
      requests.push(rec);
      respond(rec, res);
    });
  });
  server.on('connection', (socket: Socket) => ids.set(socket, next++));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    target: `127.0.0.1:${port}`,
    requests,
    perConnection() {
      const map = new Map<number, RecordedRequest[]>();
      for (const r of requests) map.set(r.connection, [...(map.get(r.connection) ?? []), r]);
      return map;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

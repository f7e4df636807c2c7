import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { WebSocket, WebSocketServer, type ClientOptions } from 'ws';
import { startUpstream, type Handler, type Upstream } from './start-upstream.js';

/**
 * Attaches a WebSocket echo server to an upstream (every message comes back prefixed "echo:").
 * By default it first greets with the proto and path it saw; `greeting: false` skips that.
 */
export function attachWsEcho(upstream: Upstream, opts: { greeting?: boolean } = {}): WebSocketServer {
  const wss = new WebSocketServer({ server: upstream.server });
  wss.on('connection', (ws, req) => {
    ws.on('message', (data) => ws.send(`echo:${data.toString()}`));
    if (opts.greeting !== false) ws.send(`hello ${req.headers['x-forwarded-proto'] ?? '-'} ${req.url ?? ''}`);
  });
  return wss;
}

/** An upstream serving `handler` that also echoes WebSockets (attachWsEcho); both closed at teardown. */
export async function startWsEchoUpstream(t: { teardown(fn: () => unknown): void }, handler: Handler, opts: { greeting?: boolean } = {}): Promise<Upstream> {
  const upstream = await startUpstream(handler);
  t.teardown(() => upstream.close());
  const wss = attachWsEcho(upstream, opts);
  t.teardown(() => new Promise<void>((resolve) => wss.close(() => resolve())));
  return upstream;
}

/** Opens a WebSocket to Portico with an explicit Host (and SNI), resolving once open with its first message. */
export function openWs(port: number, path: string, opts: { host: string; https?: boolean }): Promise<{ ws: WebSocket; first: string }> {
  const scheme = opts.https ? 'wss' : 'ws';
  // `servername` is passed through to tls.connect by ws, though its types omit it.
  const options = { headers: { host: opts.host }, servername: opts.https ? opts.host : undefined, rejectUnauthorized: false } as ClientOptions;
  const ws = new WebSocket(`${scheme}://127.0.0.1:${port}${path}`, options);
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => resolve({ ws, first: data.toString() }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
}

/** Sends one message and resolves with the next message received. */
export function roundTrip(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => resolve(data.toString()));
    ws.once('error', reject);
    ws.send(text);
  });
}

/** Server side of an SSE stream whose events are pushed by the test. */
export interface SseFeed {
  /** Resolves with the response once a client is connected (headers already flushed). */
  next(): Promise<ServerResponse>;
  handler(req: IncomingMessage, res: ServerResponse): void;
}

/** An SSE upstream handler: flushes headers at once; the test writes events through `next()`. */
export function sseFeed(): SseFeed {
  const waiting: ((res: ServerResponse) => void)[] = [];
  const ready: ServerResponse[] = [];
  return {
    next: () => new Promise((resolve) => {
      const res = ready.shift();
      if (res) resolve(res);
      else waiting.push(resolve);
    }),
    handler(_req, res) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      const w = waiting.shift();
      if (w) w(res);
      else ready.push(res);
    },
  };
}

/** Client side of an SSE stream: events arrive in `events` as they are received. */
export interface SseClient {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly events: string[];
  /** Resolves when `count` events have arrived (rejects when the stream ends first). */
  waitFor(count: number): Promise<void>;
  readonly ended: Promise<void>;
  close(): void;
}

/** Opens an SSE stream through Portico and parses `data:` lines as they arrive. */
export function openSse(port: number, path: string, opts: { host: string; https?: boolean }): Promise<SseClient> {
  const send = opts.https ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      { host: '127.0.0.1', port, path, headers: { host: opts.host, accept: 'text/event-stream' }, agent: false, rejectUnauthorized: false, servername: opts.https ? opts.host : undefined },
      (res) => {
        const events: string[] = [];
        let buffer = '';
        let waiters: { count: number; resolve: () => void; reject: (e: Error) => void }[] = [];
        let endedFlag = false;
        const check = () => {
          waiters = waiters.filter((w) => {
            if (events.length >= w.count) w.resolve();
            else if (endedFlag) w.reject(new Error(`stream ended after ${events.length} events`));
            else return true;
            return false;
          });
        };
        const ended = new Promise<void>((resolveEnd) => {
          const onEnd = () => {
            endedFlag = true;
            check();
            resolveEnd();
          };
          res.on('end', onEnd);
          res.on('close', onEnd);
          res.on('error', onEnd);
        });
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let idx: number;
          while ((idx = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, idx);
            buffer = buffer.slice(idx + 2);
            for (const line of block.split('\n')) if (line.startsWith('data:')) events.push(line.slice(5).trim());
          }
          check();
        });
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          events,
          ended,
          waitFor: (count) => new Promise<void>((res2, rej2) => {
            waiters.push({ count, resolve: res2, reject: rej2 });
            check();
          }),
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The outcome of a WebSocket handshake through Portico: the socket, or the refusal's status and headers. */
export interface WsAttempt {
  ws?: WebSocket;
  status?: number;
  headers?: Record<string, unknown>;
}

/** Tries a WebSocket handshake with the given request headers; never rejects on a refusal. */
export function tryWs(port: number, headers: Record<string, string>, path = '/socket'): Promise<WsAttempt> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
  // terminate() on a refused handshake emits one more 'error'; it must not go unhandled.
  ws.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode, headers: res.headers });
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

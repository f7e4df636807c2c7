import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2Session, type SecureServerOptions } from 'node:http2';
import { CountingHttp2Response } from './counting-http2-response.js';
import type { Socket } from 'node:net';
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

/** Header and idle limits from SPEC §3 "Bad input never crashes the process". */
const HEADERS_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 300_000;

/** Applies the public-listener limits and a clientError handler that answers 400/408/431. */
/** The HTTP/1 limits both listeners share (an HTTP/2 server with allowHTTP1 has them too). */
interface Http1Tunables {
  headersTimeout: number;
  keepAliveTimeout: number;
  requestTimeout: number;
  on(event: 'clientError', listener: (err: NodeJS.ErrnoException, socket: Socket) => void): unknown;
}

function harden<T extends Http1Tunables>(server: T): T {
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout'
      : '400 Bad Request';
    const body = `${status.slice(4)}\n`;
    socket.end(
      `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n` +
        'X-Content-Type-Options: nosniff\r\nX-Frame-Options: SAMEORIGIN\r\nReferrer-Policy: strict-origin-when-cross-origin\r\n\r\n' + body,
    );
  });
  return server;
}

/** The plain-HTTP public listener (ACME HTTP-01, redirects, `tls: off` hosts). */
export function createHttpListener(): Server {
  return harden(createServer());
}

/** What the gateway needs of a listener: close it, and close its idle or all connections. */
export interface Listener {
  close(cb?: (err?: Error) => void): unknown;
  closeIdleConnections(): void;
  closeAllConnections(): void;
  address(): ReturnType<Server['address']>;
  listen(port: number, host: string | undefined, cb: () => void): unknown;
  once(event: 'error', cb: (err: Error) => void): unknown;
  off(event: 'error', cb: (err: Error) => void): unknown;
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;
type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * The HTTPS public listener: HTTP/2 via ALPN with HTTP/1.1 fallback on one port. HTTP/2
 * requests arrive as the compatibility API's request/response pair, which the edge handlers
 * use like HTTP/1 ones; WebSocket upgrades keep working over HTTP/1.1. Certificates come from
 * the SNI callback in `options`.
 */
export function createHttpsListener(options: SecureServerOptions, onRequest: RequestListener, onUpgrade: UpgradeListener): Listener {
  const server = createSecureServer({ ...options, allowHTTP1: true, ALPNProtocols: ['h2', 'http/1.1'], Http2ServerResponse: CountingHttp2Response });
  harden(server as unknown as Http1Tunables);
  // The compatibility request/response are used through the subset they share with HTTP/1's.
  (server as EventEmitter).on('request', onRequest);
  server.on('upgrade', onUpgrade);
  // Idle HTTP/2 sessions close after the keep-alive limit, like idle HTTP/1.1 connections;
  // a session with open streams (SSE, long polls) is never cut for being quiet.
  const sessions = new Map<Http2Session, { streams: number }>();
  server.on('session', (session: Http2Session) => {
    const state = { streams: 0 };
    sessions.set(session, state);
    session.setTimeout(KEEP_ALIVE_TIMEOUT_MS, () => {
      if (state.streams === 0) session.close();
    });
    session.on('stream', (stream) => {
      state.streams++;
      stream.once('close', () => state.streams--);
    });
    session.once('close', () => sessions.delete(session));
    session.on('error', () => session.destroy()); // a broken client session must not crash the process
  });
  const sockets = new Set<TLSSocket>();
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // allowHTTP1 tracks HTTP/1.1 connections; the method is present at run time but not typed.
  const closeIdleHttp1 = (server as unknown as Partial<Pick<Server, 'closeIdleConnections'>>).closeIdleConnections?.bind(server);
  return Object.assign(server, {
    closeIdleConnections() {
      closeIdleHttp1?.();
      // While shutting down, GOAWAY every session: open streams finish, no new ones start.
      for (const [session, state] of sessions) if (!server.listening || state.streams === 0) session.close();
    },
    closeAllConnections() {
      for (const session of sessions.keys()) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
  }) as unknown as Listener;
}

import { createServer, type Server } from 'node:http';
import { createSecureServer, type Http2Session, type SecureServerOptions } from 'node:http2';
import type { Socket } from 'node:net';
import type { EventEmitter } from 'node:events';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { SECURITY_HEADER_DEFAULTS } from '../pipeline/header-plan.js';
import { CONNECTION_LIMITS as LIMITS, HTTP1_PARSER_MAX_HEADERS, HTTP2_MAX_HEADER_LIST_SIZE, HTTP2_MAX_HEADER_PAIRS } from './connection-limits.js';
import { CountingHttp2Response } from './counting-http2-response.js';
import { guardRequests, type RefusalListener, type RequestListener, type UpgradeListener } from './request-guard.js';

/** The edge handlers a public listener serves with. */
export interface EdgeHandlers {
  readonly request: RequestListener;
  readonly upgrade: UpgradeListener;
  /** A request the listener refused itself (CONNECT, bad version, oversized headers): log it. */
  readonly refused: RefusalListener;
}

/** The HTTP/1 limits both listeners share (an HTTP/2 server with allowHTTP1 has them too). */
interface Http1Tunables {
  headersTimeout: number;
  keepAliveTimeout: number;
  requestTimeout: number;
  connectionsCheckingInterval?: number;
  maxHeadersCount: number | null;
  on(event: 'clientError', listener: (err: NodeJS.ErrnoException, socket: Socket) => void): unknown;
}

/**
 * Applies the public-listener limits and a clientError handler that answers 400/408/431.
 * Must run before listen(): Node arms the header-timeout sweep with the interval it finds then.
 */
function harden<T extends Http1Tunables>(server: T): T {
  server.headersTimeout = LIMITS.headersTimeoutMs;
  server.keepAliveTimeout = LIMITS.keepAliveTimeoutMs;
  server.requestTimeout = LIMITS.requestTimeoutMs;
  server.connectionsCheckingInterval = LIMITS.connectionsCheckingIntervalMs;
  server.maxHeadersCount = HTTP1_PARSER_MAX_HEADERS;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Only an HTTP/1 parse error or timeout can be answered. The HTTPS listener reports TLS
    // failures (handshake timeout, garbage instead of a ClientHello) here too: an answer
    // written into a socket whose handshake never finished is never sent, and the socket
    // was never released, not even after the client left (CLOSE-WAIT).
    if (!isHttpParseError(err) || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout'
      // llhttp refuses well-formed versions other than 0.9–1.1 and 2.0 itself (RFC 9110
      // §15.6.6); the same code with another reason is a malformed line (a bare LF, say): 400.
      : err.code === 'HPE_INVALID_VERSION' && (err as { reason?: string }).reason === 'Invalid HTTP version' ? '505 HTTP Version Not Supported'
      : '400 Bad Request';
    const body = `${status.slice(4)}\n`;
    socket.end(
      `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n` +
        SECURITY_HEADER_LINES + '\r\n' + body,
    );
  });
  return server;
}

/** SPEC §3 security headers as raw header lines, for the replies written before a request exists. */
const SECURITY_HEADER_LINES = Object.entries(SECURITY_HEADER_DEFAULTS).map(([name, value]) => `${name}: ${value}\r\n`).join('');

function isHttpParseError(err: NodeJS.ErrnoException): boolean {
  return err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || (err.code?.startsWith('HPE_') ?? false);
}

/**
 * Every socket a listener accepted, from the accept on. Node's own connection list starts at
 * the first HTTP byte and forgets upgraded sockets; shutdown must be able to cut a connection
 * that never finished its TLS handshake, or a WebSocket, too.
 */
function trackSockets(server: EventEmitter): Set<Socket> {
  const sockets = new Set<Socket>();
  function forget(this: Socket): void {
    sockets.delete(this);
  }
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', forget);
  });
  return sockets;
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

/** The HTTPS listener: a TLS server (its default context is kept current by the certificate manager). */
export type SecureListener = Listener & TlsServer;

/** The plain-HTTP public listener (ACME HTTP-01, redirects, `tls: off` hosts). */
export function createHttpListener(handlers: EdgeHandlers): Server {
  const server = harden(createServer({ maxHeaderSize: LIMITS.maxHeaderBytes }));
  const guarded = guardRequests(handlers.request, handlers.upgrade, handlers.refused);
  server.on('request', guarded.request);
  server.on('upgrade', guarded.upgrade);
  server.on('connect', guarded.connect);
  const sockets = trackSockets(server);
  const closeAllHttp = server.closeAllConnections.bind(server);
  return Object.assign(server, {
    closeAllConnections() {
      closeAllHttp();
      for (const socket of sockets) socket.destroy(); // upgraded (WebSocket) connections too
    },
  });
}

/** One HTTP/2 session's open streams and its idle timer. */
interface SessionState {
  streams: number;
  idle: NodeJS.Timeout | undefined;
}

/**
 * The HTTPS public listener: HTTP/2 via ALPN with HTTP/1.1 fallback on one port. HTTP/2
 * requests arrive as the compatibility API's request/response pair, which the edge handlers
 * use like HTTP/1 ones; WebSocket upgrades keep working over HTTP/1.1. Certificates come from
 * the SNI callback in `options`.
 */
export function createHttpsListener(options: SecureServerOptions, handlers: EdgeHandlers): SecureListener {
  const server = createSecureServer({
    ...options,
    allowHTTP1: true,
    ALPNProtocols: ['h2', 'http/1.1'],
    Http2ServerResponse: CountingHttp2Response,
    // Node's default is 120 s, and a client that sends nothing is not even counted as a request.
    handshakeTimeout: LIMITS.tlsHandshakeTimeoutMs,
    maxHeaderListPairs: HTTP2_MAX_HEADER_PAIRS,
    // Node advertises 2^32-1 concurrent streams by default: one connection could hold every
    // upstream socket. Past either setting nghttp2 resets the stream before it is a request.
    settings: { maxConcurrentStreams: LIMITS.http2MaxConcurrentStreams, maxHeaderListSize: HTTP2_MAX_HEADER_LIST_SIZE },
  });
  harden(server as unknown as Http1Tunables);
  const guarded = guardRequests(handlers.request, handlers.upgrade, handlers.refused);
  // The compatibility request/response are used through the subset they share with HTTP/1's.
  (server as EventEmitter).on('request', guarded.request);
  server.on('upgrade', guarded.upgrade);
  (server as EventEmitter).on('connect', guarded.connect);
  const sessions = new Map<Http2Session, SessionState>();
  server.on('session', (session: Http2Session) => watchSession(session, sessions));
  const sockets = trackSockets(server);
  const secured = new Set<TLSSocket>();
  server.on('secureConnection', (socket: TLSSocket) => {
    secured.add(socket);
    socket.once('close', () => secured.delete(socket));
  });
  // allowHTTP1 tracks HTTP/1.1 connections; the method is present at run time but not typed.
  const closeIdleHttp1 = (server as unknown as Partial<Pick<Server, 'closeIdleConnections'>>).closeIdleConnections?.bind(server);
  return Object.assign(server, {
    closeIdleConnections() {
      closeIdleHttp1?.();
      // While shutting down, GOAWAY every session: open streams finish, no new ones start.
      for (const [session, state] of sessions) if (!server.listening || state.streams === 0) session.close();
      // A connection still in its TLS handshake carries no request: nothing to wait for.
      if (!server.listening) destroyUnsecured(sockets, secured);
    },
    closeAllConnections() {
      for (const session of sessions.keys()) session.destroy();
      for (const socket of secured) socket.destroy();
      for (const socket of sockets) socket.destroy();
    },
  });
}

/** Destroys the accepted sockets whose TLS handshake has not completed (matched by peer address). */
function destroyUnsecured(sockets: ReadonlySet<Socket>, secured: ReadonlySet<TLSSocket>): void {
  const peers = new Set<string>();
  for (const tls of secured) peers.add(`${tls.remoteAddress}|${tls.remotePort}`);
  for (const raw of sockets) if (!peers.has(`${raw.remoteAddress}|${raw.remotePort}`)) raw.destroy();
}

/**
 * SPEC §3 Connections for one HTTP/2 session: its preface (the client's SETTINGS) within 10 s
 * or it is dropped; closed (GOAWAY) once it has had no open stream for 60 s. Quiet streams
 * (SSE, long polls) never count as idle, and PINGs do not keep an empty session alive.
 */
function watchSession(session: Http2Session, sessions: Map<Http2Session, SessionState>): void {
  const state: SessionState = { streams: 0, idle: undefined };
  sessions.set(session, state);
  const preface = setTimeout(() => session.destroy(), LIMITS.http2PrefaceTimeoutMs);
  session.once('remoteSettings', () => {
    clearTimeout(preface);
    state.idle = setTimeout(() => {
      if (state.streams === 0) session.close();
    }, LIMITS.http2IdleTimeoutMs);
  });
  session.on('stream', (stream) => {
    state.streams++;
    stream.once('close', () => {
      // One timer per session, re-armed (not re-created) each time the session becomes empty.
      if (--state.streams === 0) state.idle?.refresh();
    });
  });
  session.once('close', () => {
    clearTimeout(preface);
    clearTimeout(state.idle);
    sessions.delete(session);
  });
  session.on('error', () => session.destroy()); // a broken client session must not crash the process
}

import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer, type ServerOptions as TlsOptions } from 'node:https';
import type { Socket } from 'node:net';

/** Header and idle limits from SPEC §3 "Bad input never crashes the process". */
const HEADERS_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 300_000;

/** Applies the public-listener limits and a clientError handler that answers 400/408/431. */
function harden<T extends Server>(server: T): T {
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

/** The HTTPS public listener; certificates come from the SNI callback in `options`. */
export function createHttpsListener(options: TlsOptions): TlsServer {
  return harden(createTlsServer(options));
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Http2ServerRequest } from 'node:http2';
import type { Duplex } from 'node:stream';
import { DEFAULT_HEADER_PLAN as PLAN } from '../pipeline/header-plan.js';
import { BAD_VERSION, METHOD_NOT_ALLOWED, TOO_LARGE } from '../pipeline/local-replies.js';
import { renderReply, renderReplyOnSocket } from '../pipeline/render-reply.js';
import type { LocalReply } from '../pipeline/step.js';
import { CONNECTION_LIMITS } from './connection-limits.js';

/** Told of each request the listener refused before any host or route saw it, for the access log. */
export type RefusalListener = (req: IncomingMessage, status: number, requestId: string, bytes: number) => void;

/** A public listener's `request` handler. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;
/** A public listener's `upgrade` (and `connect`) handler. */
export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** The request and upgrade listeners of a public listener, and what to do with a CONNECT. */
export interface GuardedHandlers {
  readonly request: RequestListener;
  readonly upgrade: UpgradeListener;
  /** Node's `connect` event (HTTP/1 CONNECT): answered 405, never tunnelled. */
  readonly connect: UpgradeListener;
}

const REPLIES: Readonly<Record<number, LocalReply>> = { 405: METHOD_NOT_ALLOWED, 431: TOO_LARGE, 505: BAD_VERSION };

/**
 * Wraps a listener's handlers with the checks SPEC §3 "Bad input" makes before anything else:
 * an HTTP version other than 1.0/1.1 on the HTTP/1 parser → 505 (Node's parser accepts any
 * digit pair), CONNECT → 405, more than 100 header fields or more than 16 KiB of them → 431.
 * Node's own limits cannot say this alone: past `maxHeadersCount` it drops fields silently,
 * and its byte count lets some header blocks well over `maxHeaderSize` through.
 */
export function guardRequests(request: RequestListener, upgrade: UpgradeListener, refused: RefusalListener): GuardedHandlers {
  return {
    request(req, res) {
      const status = requestRefusal(req);
      if (status === 0) return request(req, res);
      const reply = REPLIES[status]!;
      const requestId = randomUUID();
      res.shouldKeepAlive = false; // the rest of the connection cannot be trusted either
      renderReply(res, reply, PLAN, requestId);
      refused(req, status, requestId, Buffer.byteLength(reply.body ?? ''));
    },
    upgrade(req, socket, head) {
      const status = requestRefusal(req);
      if (status === 0) return upgrade(req, socket, head);
      refuseOnSocket(req, socket, status, refused);
    },
    connect(req, socket) {
      refuseOnSocket(req, socket, 405, refused);
    },
  };
}

function refuseOnSocket(req: IncomingMessage, socket: Duplex, status: number, refused: RefusalListener): void {
  socket.on('error', () => socket.destroy()); // a client that resets must not crash the process
  const reply = REPLIES[status]!;
  const requestId = randomUUID();
  renderReplyOnSocket(socket, reply, PLAN, requestId);
  refused(req, status, requestId, Buffer.byteLength(reply.body ?? ''));
}

/** The status a request is refused with at the listener, or 0 when it may go on. */
export function requestRefusal(req: IncomingMessage): number {
  const h2 = req instanceof Http2ServerRequest;
  if (!h2 && (req.httpVersionMajor !== 1 || req.httpVersionMinor > 1)) return 505;
  if (req.method === 'CONNECT') return 405;
  const raw = req.rawHeaders;
  let fields = 0;
  let bytes = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (h2 && name.charCodeAt(0) === 58 /* ':' */) continue; // pseudo-headers are the request line
    fields++;
    bytes += name.length + raw[i + 1]!.length + 4; // as on the HTTP/1 wire: `name: value\r\n`
  }
  return fields > CONNECTION_LIMITS.maxHeaderFields || bytes > CONNECTION_LIMITS.maxHeaderBytes ? 431 : 0;
}

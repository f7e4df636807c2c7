import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { DEFAULT_HEADER_PLAN } from '../pipeline/header-plan.js';
import { BAD_REQUEST } from '../pipeline/local-replies.js';
import { renderReply } from '../pipeline/render-reply.js';

/**
 * Serves an upgrade request Portico declines as an ordinary HTTP/1.1 request on its socket.
 * Node has already detached its parser and ended the request stream, so a new request stream
 * carries the same head, a body of declared length is fed to it from `head` and the socket,
 * the response is bound to the socket here, and the connection closes after the response (a
 * chunked body cannot be re-parsed here and is refused).
 */
export function serveWithoutUpgrade(upgrade: IncomingMessage, socket: Socket, head: Buffer, onRequest: (req: IncomingMessage, res: ServerResponse) => void): void {
  const req = new IncomingMessage(socket);
  Object.assign(req, {
    method: upgrade.method,
    url: upgrade.url,
    httpVersion: upgrade.httpVersion,
    httpVersionMajor: upgrade.httpVersionMajor,
    httpVersionMinor: upgrade.httpVersionMinor,
    rawHeaders: upgrade.rawHeaders.filter((_, i, raw) => !DECLINED_UPGRADE_FIELDS.has(raw[i - (i % 2)]!.toLowerCase())),
  });
  req.headers = { ...upgrade.headers, connection: 'close' };
  delete req.headers.upgrade;
  delete req.headers['http2-settings'];
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.once('finish', () => socket.end());
  let remaining = req.headers['transfer-encoding'] !== undefined ? -1 : Number(req.headers['content-length'] ?? 0);
  if (!Number.isSafeInteger(remaining) || remaining < 0) {
    renderReply(res, BAD_REQUEST, DEFAULT_HEADER_PLAN, randomUUID()); // with the security headers every reply carries
    return;
  }
  const feed = (chunk: Buffer) => {
    const part = chunk.subarray(0, remaining);
    remaining -= part.length;
    if (part.length > 0) req.push(part);
    if (remaining === 0) {
      socket.off('data', feed);
      endBody(req);
    }
  };
  if (remaining === 0) endBody(req);
  else {
    feed(head);
    if (remaining > 0) socket.on('data', feed);
  }
  onRequest(req, res);
}

/** Ends a request stream built here; `complete`, or Node takes its end for an abort and cuts the socket. */
function endBody(req: IncomingMessage): void {
  req.complete = true;
  req.push(null);
}

const DECLINED_UPGRADE_FIELDS: ReadonlySet<string> = new Set(['upgrade', 'http2-settings', 'connection']);

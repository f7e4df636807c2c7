import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorPageTable } from './error-pages.js';
import { applyHeaderPlan, type HeaderPlan } from './header-plan.js';
import type { LocalReply } from './step.js';

/**
 * Writes a reply produced by Portico itself, with the route's response headers applied. With
 * `pages`, a status that has an error page gets that page as its body (SPEC §4 Error pages),
 * keeping the reply's own headers (WWW-Authenticate, Retry-After, …).
 */
export function renderReply(res: ServerResponse, reply: LocalReply, plan: HeaderPlan, requestId: string, pages?: ErrorPageTable): void {
  if (res.headersSent || res.destroyed) return;
  const page = pages?.get(reply.status);
  const body = page ?? reply.body ?? '';
  const headers = replyHeaders(reply, plan, requestId, body, page !== undefined);
  // HTTP/2 has no Connection header (RFC 9113 §8.2.2): the stream ends, the session stays.
  if (res.req?.httpVersionMajor === 2) delete headers.connection;
  res.writeHead(reply.status, headers);
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

/** Writes a reply as raw HTTP/1.1 on an upgrade socket (the upgrade is refused) and closes it. */
export function renderReplyOnSocket(socket: Duplex, reply: LocalReply, plan: HeaderPlan, requestId: string, pages?: ErrorPageTable): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const page = pages?.get(reply.status);
  const body = page ?? reply.body ?? '';
  const headers = replyHeaders(reply, plan, requestId, body, page !== undefined);
  headers.connection = 'close';
  let head = `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? ''}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  socket.end(`${head}\r\n${body}`);
}

/** The reply's own headers, then the route's plan, then the request id and length. */
function replyHeaders(reply: LocalReply, plan: HeaderPlan, requestId: string, body: string, isPage: boolean): Record<string, string | number> {
  const headers: Record<string, string | number> = { 'content-type': 'text/plain; charset=utf-8' };
  if (reply.headers) for (const [k, v] of Object.entries(reply.headers)) headers[k.toLowerCase()] = v;
  if (isPage) headers['content-type'] = 'text/html; charset=utf-8';
  applyHeaderPlan(plan, headers);
  headers['x-request-id'] = requestId;
  headers['content-length'] = Buffer.byteLength(body);
  return headers;
}

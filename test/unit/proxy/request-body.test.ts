import t from 'tap';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { NO_BODY, requestHasBody } from '../../../src/proxy/request-body.js';

function h1(headers: Record<string, string>): IncomingMessage {
  return { httpVersionMajor: 1, headers } as unknown as IncomingMessage;
}

function h2(endAfterHeaders: boolean, headers: Record<string, string> = {}): IncomingMessage {
  return { httpVersionMajor: 2, headers, stream: { endAfterHeaders } } as unknown as IncomingMessage;
}

t.test('HTTP/1.1: only Content-Length or Transfer-Encoding frame a request body', async (t) => {
  t.equal(requestHasBody(h1({})), false, 'neither: length zero (RFC 9112 §6.3)');
  t.equal(requestHasBody(h1({ 'content-length': '0' })), false);
  t.equal(requestHasBody(h1({ 'content-length': '5' })), true);
  t.equal(requestHasBody(h1({ 'transfer-encoding': 'chunked' })), true);
});

t.test('HTTP/2: a body is DATA frames after HEADERS, with or without Content-Length', async (t) => {
  t.equal(requestHasBody(h2(true)), false, 'stream ended on HEADERS');
  t.equal(requestHasBody(h2(false)), true, 'no Content-Length, DATA frames follow');
  t.equal(requestHasBody(h2(false, { 'content-length': '0' })), true, 'the stream, not the header, decides');
});

t.test('NO_BODY ends the upstream request at once and returns it, as pipe() does', async (t) => {
  const dest = new PassThrough();
  const finished = new Promise<void>((resolve) => dest.once('finish', () => resolve()));
  t.equal(NO_BODY.pipe(dest), dest);
  await finished;
  t.equal(dest.writableEnded, true);
});

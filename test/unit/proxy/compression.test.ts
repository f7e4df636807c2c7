import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import t from 'tap';
import { negotiate, prepareCompression } from '../../../src/proxy/compression.js';

const req = (ae?: string) => ({ headers: ae === undefined ? {} : { 'accept-encoding': ae } }) as unknown as IncomingMessage;

t.test('negotiate: q-values, *, q=0, br on a tie', async (t) => {
  const cases: [string | undefined, string | undefined][] = [
    [undefined, undefined],
    ['', undefined],
    ['gzip', 'gzip'],
    ['br', 'br'],
    ['gzip, br', 'br'],
    ['gzip;q=1.0, br;q=0.9', 'gzip'],
    ['br;q=0.1, gzip;q=0.05', 'br'],
    ['BR;Q=0.5, GZIP;Q=0.6', 'gzip'],
    ['br;q=0', undefined],
    ['*', 'br'],
    ['*;q=0, gzip', 'gzip'],
    ['br;q=0, *', 'gzip'],
    ['x-gzip', 'gzip'],
    ['deflate, zstd, identity', undefined],
    ['gzip ; q = 0.5 , br ; q = 0.4', 'gzip'],
  ];
  for (const [value, want] of cases) t.equal(negotiate(value), want, String(value));
});

t.test('prepareCompression rewrites an HTTP/1.1 head list', async (t) => {
  const head = ['Content-Type', 'text/html', 'Content-Length', '5000', 'ETag', '"x"', 'Vary', 'Cookie', 'Accept-Ranges', 'bytes'];
  t.equal(prepareCompression(req('gzip'), 200, head), 'gzip');
  t.same(head, ['Content-Type', 'text/html', 'ETag', 'W/"x"', 'Vary', 'Cookie, Accept-Encoding', 'Content-Encoding', 'gzip']);
});

t.test('prepareCompression on an HTTP/2 head object; Vary even when this client gets identity', async (t) => {
  const head: OutgoingHttpHeaders = { 'content-type': 'application/problem+json', etag: 'W/"y"' };
  t.equal(prepareCompression(req('identity'), 200, head), undefined);
  t.same(head, { 'content-type': 'application/problem+json', etag: 'W/"y"', vary: 'Accept-Encoding' });
  const h2: OutgoingHttpHeaders = { 'content-type': 'image/svg+xml', 'content-length': '2048', vary: '*' };
  t.equal(prepareCompression(req('br'), 200, h2), 'br');
  t.same(h2, { 'content-type': 'image/svg+xml', vary: '*', 'content-encoding': 'br' });
});

t.test('what is never compressed', async (t) => {
  const never: [number, string[]][] = [
    [204, ['Content-Type', 'text/plain']],
    [206, ['Content-Type', 'text/plain']],
    [304, ['Content-Type', 'text/plain']],
    [200, ['Content-Type', 'text/event-stream']],
    [200, ['Content-Type', 'image/png']],
    [200, ['Content-Type', 'application/octet-stream']],
    [200, []],
    [200, ['Content-Type', 'text/plain', 'Content-Length', '1023']],
    [200, ['Content-Type', 'text/plain', 'Content-Encoding', 'gzip']],
    [200, ['Content-Type', 'text/plain', 'Cache-Control', 'max-age=60, No-Transform']],
  ];
  for (const [status, head] of never) {
    const copy = [...head];
    t.equal(prepareCompression(req('br, gzip'), status, copy), undefined, `${status} ${head.join(' ')}`);
    t.same(copy, head, 'head untouched');
  }
  t.equal(prepareCompression(req('gzip'), 200, ['Content-Type', 'text/plain', 'Content-Length', '1024']), 'gzip', '1 KiB is enough');
  t.equal(prepareCompression(req('gzip'), 200, ['content-type', 'application/wasm']), 'gzip');
  t.equal(prepareCompression(req('gzip'), 200, ['content-type', 'Application/JavaScript; charset=utf-8']), 'gzip');
});

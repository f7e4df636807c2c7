import t from 'tap';
import type { IncomingMessage } from 'node:http';
import { requestRefusal } from '../../../src/server/request-guard.js';

/** A parsed HTTP/1 request as Node's parser hands it over (only what the guard reads). */
function h1(rawHeaders: string[], opts: { method?: string; major?: number; minor?: number } = {}): IncomingMessage {
  return { method: opts.method ?? 'GET', httpVersionMajor: opts.major ?? 1, httpVersionMinor: opts.minor ?? 1, rawHeaders } as unknown as IncomingMessage;
}

const fields = (n: number, size = 1) => Array.from({ length: n }, (_, i) => [`x-f${i}`, 'v'.repeat(size)]).flat();

t.test('versions other than 1.0/1.1 → 505', async (t) => {
  t.equal(requestRefusal(h1(['host', 'a'])), 0);
  t.equal(requestRefusal(h1(['host', 'a'], { minor: 0 })), 0, 'HTTP/1.0');
  t.equal(requestRefusal(h1(['host', 'a'], { major: 2, minor: 0 })), 505, 'HTTP/2.0 on the HTTP/1 parser');
  t.equal(requestRefusal(h1(['host', 'a'], { major: 0, minor: 9 })), 505, 'HTTP/0.9');
  t.equal(requestRefusal(h1(['host', 'a'], { minor: 2 })), 505, 'HTTP/1.2');
});

t.test('CONNECT → 405', async (t) => {
  t.equal(requestRefusal(h1(['host', 'a:443'], { method: 'CONNECT' })), 405);
});

t.test('header fields: 100 pass, 101 → 431; 16 KiB pass, one byte more → 431', async (t) => {
  t.equal(requestRefusal(h1(fields(100))), 0, '100 fields');
  t.equal(requestRefusal(h1(fields(101))), 431, '101 fields');
  // Each field counts name + value + 4 (": " and CRLF): one field of exactly 16384 bytes.
  const exact = ['x', 'v'.repeat(16_384 - 1 - 4)];
  t.equal(requestRefusal(h1(exact)), 0, 'exactly 16 KiB');
  t.equal(requestRefusal(h1(['x', 'v'.repeat(16_384 - 4)])), 431, '16 KiB + 1');
  t.equal(requestRefusal(h1(fields(17, 1000))), 431, '17 fields of 1000 bytes');
});

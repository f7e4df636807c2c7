import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

// The fast upstream every peer in the benchmark talks to: a fixed 13-byte body, keep-alive;
// and at /json a fixed 20 KB JSON document (an API list response) for the compression rows.
const body = Buffer.from('hello, world\n');
const json = Buffer.from(
  JSON.stringify({
    items: Array.from({ length: 190 }, (_, i) => ({ id: i, name: `user-${i}`, email: `user${i}@example.com`, active: i % 3 === 0, score: (i * 37) % 101, tags: ['alpha', i % 2 ? 'gamma' : 'delta'] })),
  }),
);
const server = createServer((req, res) => {
  if (req.url === '/json') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': json.length });
    res.end(json);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});

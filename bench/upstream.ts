import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

// The fast upstream every peer in the benchmark talks to: a fixed 13-byte body, keep-alive.
const body = Buffer.from('hello, world\n');
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});

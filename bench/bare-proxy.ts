import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type HttpProxy from 'http-proxy';

// The floor for anything built on http-proxy 1.18.1: one createProxyServer, one keep-alive
// agent, an error callback, nothing else. Portico's overhead is measured against this.
const require = createRequire(import.meta.url);
const { createProxyServer } = require('http-proxy') as typeof HttpProxy;
const target = `http://127.0.0.1:${process.argv[2]}`;
const agent = new Agent({ keepAlive: true, maxSockets: 512 });
const proxy = createProxyServer({});
const server = createServer((req, res) => {
  proxy.web(req, res, { target, agent }, () => {
    res.writeHead(502);
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});

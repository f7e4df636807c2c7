import { request as httpRequest, Agent } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import t from 'tap';
import { roundTrip, attachWsEcho, openWs } from '../helpers/streams.js';
import { startUpstream } from '../helpers/start-upstream.js';
import { proxyHost, startPorticoWithHosts } from './helpers/portico-process.js';

// Real upstream connection behaviour through the built CLI (SPEC §3 Proxying, Logs): a pooled
// keep-alive connection the upstream has just closed is not a 502; a client that leaves is a
// 499, not an upstream failure; a WebSocket's access line is written when its tunnel closes.

/**
 * An upstream that answers the first request of each connection with keep-alive headers and
 * closes the connection when a second one arrives on it: the race of a backend whose short
 * keep-alive timeout (gunicorn 2 s, Node 5 s) fires just as the proxy reuses the connection.
 */
async function startClosingUpstream(): Promise<{ target: string; requests: () => number; close(): Promise<void> }> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      if (!buffered.includes('\r\n\r\n')) return;
      buffered = '';
      if (answered) {
        socket.destroy(); // "timed out" just as the request came in: no response
        return;
      }
      answered = true;
      count++;
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const closing = await startClosingUpstream();
t.teardown(() => closing.close());
const sse = await startUpstream((req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write('data: hello\n\n');
  const timer = setInterval(() => res.write('data: tick\n\n'), 50);
  res.on('close', () => clearInterval(timer));
});
t.teardown(() => sse.close());
attachWsEcho(sse, { greeting: true });

const portico = await startPorticoWithHosts(t, [
  proxyHost('closing.test', closing.target),
  proxyHost('stream.test', sse.target),
  proxyHost('secure.test', sse.target, 'self-signed'),
]);

function get(host: string, path: string, agent: Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port: portico.http, path, agent, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

t.test('a pooled connection the upstream closed is replaced, not answered 502 (one target)', async (t) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) {
    statuses.push(await get('closing.test', `/k${i}`, agent));
  }
  t.same(statuses, Array(12).fill(200), 'every request succeeds');
  t.equal(closing.requests(), 12, 'each request was answered by the upstream once');
});

t.test('a client that leaves a stream is logged 499, not as an upstream failure', async (t) => {
  // HTTP/1.1: read the first event, then hang up.
  await new Promise<void>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: portico.http, path: '/sse-h1', headers: { host: 'stream.test' } }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    req.end();
  });
  // HTTP/2: the stream is cancelled (RST_STREAM), the session stays.
  const session = h2connect(`https://127.0.0.1:${portico.https}`, { rejectUnauthorized: false, servername: 'secure.test' });
  t.teardown(() => session.close());
  await new Promise<void>((resolve, reject) => {
    const s = session.request({ ':path': '/sse-h2', ':authority': 'secure.test' });
    s.once('data', () => {
      s.close();
      resolve();
    });
    s.on('error', reject);
  });
  for (const path of ['/sse-h1', '/sse-h2']) {
    const line = await portico.waitForLog((l) => l.event === 'access' && l.path === path);
    t.equal(line.status, 499, `${path}: the access line says 499 (${JSON.stringify(line)})`);
  }
  await new Promise((r) => setTimeout(r, 300));
  const falseAlarms = portico.find((l) => l.event === 'upstream_error' || (typeof l.level === 'string' && l.level === 'error'));
  t.same(falseAlarms, [], 'no upstream error is logged for a client leaving');
});

t.test('a WebSocket access line is written when the tunnel closes, with duration and bytes each way', async (t) => {
  const { ws, first } = await openWs(portico.http, '/ws-log', { host: 'stream.test' });
  t.match(first, /^hello/);
  const opened = Date.now();
  for (let i = 0; i < 3; i++) t.equal(await roundTrip(ws, `m${i}`), `echo:m${i}`);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(portico.find((l) => l.event === 'access' && l.path === '/ws-log').length, 0, 'nothing is logged while the tunnel is open');
  await new Promise<void>((resolve) => {
    ws.once('close', () => resolve());
    ws.close();
  });
  const line = await portico.waitForLog((l) => l.event === 'access' && l.path === '/ws-log');
  t.equal(line.status, 101);
  t.ok(Number(line.durationMs) >= Math.min(300, Date.now() - opened - 50), `duration covers the tunnel (${String(line.durationMs)} ms)`);
  t.ok(Number(line.bytes) > 150, `bytes to the client counted (${String(line.bytes)})`);
  t.ok(Number(line.bytesIn) > 150, `bytes from the client counted (${String(line.bytesIn)})`);
});

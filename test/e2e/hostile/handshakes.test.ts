import t from 'tap';
import { readdirSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { eventually } from '../../helpers/eventually.js';
import { E2E_PREAMBLE, startOwnedPortico, type PorticoProcess } from '../helpers/portico-process.js';

// SPEC §3 Connections: a TLS handshake completes within 10 s of the accept, an HTTP/2
// connection sends its preface within 10 s, and a connection the client closed is released at
// once, handshake or not. Raw sockets against the built CLI.

const portico: PorticoProcess = await startOwnedPortico(t, {
  config: `${E2E_PREAMBLE}hosts:
  secure.test:
    tls: self-signed
    routes: [ { respond: { status: 200, body: "ok\\n" } } ]
`,
});

/** The first 100 bytes of a real ClientHello: a handshake that started and never finishes. */
const PARTIAL_CLIENT_HELLO = await captureClientHello().then((hello) => hello.subarray(0, 100));

/** Resolves with the ms from `started` until the server closes `socket` (or `limit` passes: -1). */
function closedAfter(socket: Socket, started: number, limit: number): Promise<number> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(-1);
    }, limit);
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

t.test('no TLS bytes, a partial ClientHello, or no HTTP/2 preface: closed after 10 s', async (t) => {
  const started = Date.now();
  const silent = netConnect(portico.https, '127.0.0.1');
  const partial = netConnect(portico.https, '127.0.0.1', () => partial.write(PARTIAL_CLIENT_HELLO));
  // A finished handshake that negotiated h2, then nothing: no preface, no SETTINGS.
  const noPreface = tlsConnect({ port: portico.https, host: '127.0.0.1', servername: 'secure.test', ALPNProtocols: ['h2'], rejectUnauthorized: false });
  const [a, b, c] = (await Promise.all([silent, partial, noPreface].map((s) => closedAfter(s, started, 20_000)))) as [number, number, number];
  for (const [name, ms] of [['no bytes', a], ['partial ClientHello', b], ['h2 without preface', c]] as const) {
    t.ok(ms > 0 && ms <= 11_500, `${name}: closed by the server after ${ms} ms (at most ~10 s)`);
    t.ok(ms >= 9_000, `${name}: not before the 10 s limit (${ms} ms)`);
  }
});

t.test('200 clients that leave mid-handshake or send plain HTTP leave no socket behind (no CLOSE-WAIT)', async (t) => {
  const fds = () => readdirSync(`/proc/${portico.pid}/fd`).length;
  const before = fds();
  for (let round = 0; round < 4; round++) {
    const sockets = Array.from({ length: 50 }, (_, i) => {
      // Nothing, the start of a ClientHello, or plain HTTP sent to the TLS port by mistake.
      const s = netConnect(portico.https, '127.0.0.1', () => (i % 3 === 1 ? s.write(PARTIAL_CLIENT_HELLO) : i % 3 === 2 ? s.write('GET / HTTP/1.1\r\nHost: secure.test\r\n\r\n') : undefined));
      s.on('error', () => {});
      s.on('data', () => {});
      return s;
    });
    await eventually(() => sockets.every((s) => !s.connecting), { within: 10_000, message: 'all connected' });
    for (const s of sockets) s.end(); // FIN, as a client that gives up does
    // The gateway answers the FIN with its own at once (well before the 10 s handshake limit).
    await eventually(() => sockets.every((s) => s.closed), { within: 3_000, message: `round ${round}: the gateway closed its side` });
  }
  // Released at once: well before the 10 s handshake limit would close them anyway.
  await eventually(() => fds() <= before + 2, { within: 3_000, message: `fds back to ${before} (now ${fds()})` });
  t.ok(fds() <= before + 2, `open fds back to ${before}`);
  const { execFileSync } = await import('node:child_process');
  const closeWait = execFileSync('ss', ['-tanH', 'state', 'close-wait', `sport = :${portico.https}`]).toString().trim();
  t.equal(closeWait, '', 'no socket of the https port in CLOSE-WAIT');
});

/** Captures the ClientHello Node's TLS client sends, from a plain TCP server that never answers. */
async function captureClientHello(): Promise<Buffer> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer((socket) =>
      socket.once('data', (data: Buffer) => {
        socket.destroy();
        server.close();
        resolve(data);
      }),
    );
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      const client = tlsConnect({ port, host: '127.0.0.1', servername: 'secure.test', ALPNProtocols: ['h2', 'http/1.1'], rejectUnauthorized: false });
      client.on('error', () => {});
    });
  });
}

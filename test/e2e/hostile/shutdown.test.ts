import t from 'tap';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { attachWsEcho, openWs, roundTrip } from '../../helpers/streams.js';
import { startUpstream } from '../../helpers/start-upstream.js';
import { proxyHost, startPorticoWithHosts } from '../helpers/portico-process.js';

// SPEC §3 Shutdown: SIGTERM exits 0 within 11 s whatever clients hold open: connections that
// never finished (or started) their TLS handshake, idle HTTP/2 sessions, and WebSockets.

t.test('SIGTERM with unfinished handshakes, idle HTTP/2 sessions and a WebSocket exits 0 within 11 s', async (t) => {
  const upstream = await startUpstream((_req, res) => res.end('ok\n'));
  const wss = attachWsEcho(upstream, { greeting: true });
  t.teardown(async () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    await upstream.close();
  });
  // The test sends its own SIGTERM: the teardown only cleans up after a failure.
  const portico = await startPorticoWithHosts(t, [proxyHost('plain.test', upstream.target), proxyHost('secure.test', upstream.target, 'self-signed')], {
    stopGraceMs: 1_000,
  });

  const held: Socket[] = [];
  t.teardown(() => held.forEach((s) => s.destroy()));
  for (let i = 0; i < 50; i++) {
    const s = netConnect(portico.https, '127.0.0.1', () => (i % 2 ? s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00])) : undefined));
    s.on('error', () => {});
    s.on('data', () => {});
    held.push(s);
  }
  const sessions: ClientHttp2Session[] = [];
  t.teardown(() => sessions.forEach((s) => s.destroy()));
  for (let i = 0; i < 5; i++) {
    const session = h2connect(`https://127.0.0.1:${portico.https}`, { servername: 'secure.test', rejectUnauthorized: false });
    session.on('error', () => {});
    sessions.push(session);
    // One request each, so every session is a working one that is now idle.
    await new Promise<void>((resolve, reject) => {
      const stream = session.request({ ':path': '/', ':authority': 'secure.test' });
      stream.on('error', reject);
      stream.resume();
      stream.on('end', () => resolve());
    });
  }
  const { ws } = await openWs(portico.http, '/ws', { host: 'plain.test' });
  ws.on('error', () => {});
  t.teardown(() => ws.terminate());
  t.equal(await roundTrip(ws, 'hi'), 'echo:hi', 'the WebSocket is open through Portico');
  await new Promise((r) => setImmediate(r));
  t.ok(held.every((s) => !s.connecting && !s.closed), 'the 50 handshakes are still pending');

  const started = Date.now();
  portico.signal('SIGTERM');
  const timer = setTimeout(() => portico.child.kill('SIGKILL'), 20_000);
  const exit = await portico.exited;
  clearTimeout(timer);
  const took = Date.now() - started;
  t.same(exit, { code: 0, signal: null }, 'exit code 0');
  if (took > 11_000) t.comment(JSON.stringify(portico.logs.slice(-3)), portico.stderr());
  t.ok(took <= 11_000, `exited ${took} ms after SIGTERM (at most 11 s)`);
});

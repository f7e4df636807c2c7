import t from 'tap';
import { Agent, request as httpRequest, type ServerResponse } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { eventually } from '../../helpers/eventually.js';
import { startUpstream } from '../../helpers/start-upstream.js';
import { proxyHost, startPorticoWithHosts } from '../helpers/portico-process.js';

// SPEC §3 Proxying: long-lived streams do not hold up other requests; no fixed cap on upstream
// connections makes a request queue behind other clients' SSE streams. §3 Connections: at most
// 128 concurrent streams per HTTP/2 connection. More held streams than the old 512-socket cap.

const H2_STREAMS = 200;
const H1_STREAMS = 400;

t.test('528 held SSE streams to one upstream do not delay another client', async (t) => {
  const held: ServerResponse[] = [];
  const counts = { h2: 0, h1: 0 };
  const upstream = await startUpstream((req, res) => {
    const kind = req.url?.startsWith('/sse/h2/') ? 'h2' : req.url?.startsWith('/sse/h1/') ? 'h1' : undefined;
    if (!kind) return void res.end('fast\n');
    counts[kind]++;
    res.on('close', () => counts[kind]--);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    held.push(res);
  });
  t.teardown(() => upstream.close());
  const portico = await startPorticoWithHosts(t, [proxyHost('plain.test', upstream.target), proxyHost('secure.test', upstream.target, 'self-signed')], {
    stopGraceMs: 2_000,
  });

  // One HTTP/2 connection asks for 200 streams; the gateway lets 128 run at once.
  const session = h2connect(`https://127.0.0.1:${portico.https}`, { servername: 'secure.test', rejectUnauthorized: false });
  session.on('error', () => {});
  t.teardown(() => session.destroy());
  await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
  t.equal(session.remoteSettings.maxConcurrentStreams, 128, 'the gateway advertises 128 concurrent streams');
  for (let i = 0; i < H2_STREAMS; i++) {
    const stream = session.request({ ':path': `/sse/h2/${i}`, ':authority': 'secure.test' });
    stream.on('error', () => {});
    stream.resume();
  }
  // And 400 HTTP/1.1 clients each hold one.
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  t.teardown(() => agent.destroy());
  for (let i = 0; i < H1_STREAMS; i++) {
    const req = httpRequest({ host: '127.0.0.1', port: portico.http, path: `/sse/h1/${i}`, agent, headers: { host: 'plain.test' } }, (res) => res.resume());
    req.on('error', () => {});
    req.end();
  }
  // More than the 512 upstream sockets a target used to be capped at.
  await eventually(() => counts.h1 + counts.h2 >= 512, { within: 60_000, message: 'more than 512 streams held upstream' });
  await eventually(() => counts.h1 === H1_STREAMS && counts.h2 >= 128, { within: 30_000, message: 'all HTTP/1.1 streams held' }).catch(() => undefined);
  t.equal(counts.h1, H1_STREAMS, `all ${H1_STREAMS} HTTP/1.1 streams reached the upstream`);
  t.equal(counts.h2, 128, 'never more than 128 streams of the HTTP/2 connection at once');

  const started = Date.now();
  const status = await new Promise<number | string>((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port: portico.http, path: '/fast', agent: false, headers: { host: 'plain.test' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(15_000, () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve(err.message));
    req.end();
  });
  const took = Date.now() - started;
  t.equal(status, 200, 'another client is answered');
  t.ok(took < 3_000, `in ${took} ms, not after the held streams`);

  const view = await fetch(`http://127.0.0.1:${portico.admin}/upstreams`).then((r) => r.json() as Promise<Record<string, { targets: { connections: { active: number; idle: number; queued: number } }[] }>>);
  const pool = Object.values(view)[0]!.targets[0]!.connections;
  t.ok(pool.active >= H1_STREAMS + 128, `/upstreams shows the held connections (active ${pool.active})`);
  t.equal(pool.queued, 0, 'no request waits for an upstream connection');
  for (const res of held) res.destroy();
});

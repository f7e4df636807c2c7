import t from 'tap';
import { request } from '../helpers/http-request.js';
import { startPortico } from '../helpers/start-portico.js';
import { openSse, openWs, roundTrip, sseFeed, startWsEchoUpstream } from '../helpers/streams.js';

// SPEC §3 Proxying: WebSocket upgrades and Server-Sent Events work through every route type
// that proxies, with no buffering; long-lived streams are not cut by the response timeout,
// which is a time-to-first-byte limit (504).

const RESPONSE_TIMEOUT_MS = 150;
const GAP_MS = 300; // longer than the response timeout: an idle timer would cut the stream

const feed = sseFeed();
const upstream = await startWsEchoUpstream(t, (req, res) => {
  if (req.url?.endsWith('/events')) return feed.handler(req, res);
  if (req.url === '/silent') return; // never answers: the first-byte timer must fire
  res.end('ok');
});

const routes = `
    routes:
      - { path: /api/, upstream: app, stripPrefix: true }
      - { path: /v1, upstream: app, rewrite: /v2 }
      - { upstream: app }`;
const portico = await startPortico(`
upstreams:
  app: { targets: ["${upstream.target}"], timeouts: { response: ${RESPONSE_TIMEOUT_MS}ms } }
hosts:
  plain.test:
    tls: off${routes}
  secure.test:
    tls: self-signed${routes}
`);
t.teardown(() => portico.close());

for (const https of [false, true]) {
  const scheme = https ? 'https' : 'http';
  const port = https ? portico.https : portico.http;
  const host = https ? 'secure.test' : 'plain.test';

  t.test(`WebSocket echo over ${scheme}, on plain, stripPrefix and rewrite routes`, async (t) => {
    for (const [path, seen] of [['/ws', '/ws'], ['/api/ws', '/ws'], ['/v1/ws', '/v2/ws']] as const) {
      const { ws, first } = await openWs(port, path, { host, https });
      t.teardown(() => ws.terminate());
      t.equal(first, `hello ${scheme} ${seen}`, `${path} reached the upstream as ${seen}`);
      t.equal(await roundTrip(ws, 'ping-1'), 'echo:ping-1');
      t.equal(await roundTrip(ws, 'x'.repeat(100_000)), `echo:${'x'.repeat(100_000)}`, 'a large frame');
      ws.close();
    }
  });

  t.test(`WebSocket stays open longer than the response timeout over ${scheme}`, async (t) => {
    const { ws } = await openWs(port, '/ws', { host, https });
    t.teardown(() => ws.terminate());
    await new Promise((r) => setTimeout(r, GAP_MS)); // the idle gap under test
    t.equal(await roundTrip(ws, 'after-gap'), 'echo:after-gap');
    ws.close();
  });

  t.test(`SSE over ${scheme} is not buffered and gaps longer than timeouts.response are not cut`, async (t) => {
    const client = await openSse(port, '/events', { host, https });
    t.teardown(() => client.close());
    t.equal(client.status, 200);
    t.match(client.headers['content-type'], /^text\/event-stream/);
    const res = await feed.next();

    // No buffering: each event reaches the client before the upstream writes the next one.
    res.write('data: one\n\n');
    await client.waitFor(1);
    t.same(client.events, ['one']);

    for (const name of ['two', 'three']) {
      await new Promise((r) => setTimeout(r, GAP_MS)); // the idle gap under test
      res.write(`data: ${name}\n\n`);
    }
    await client.waitFor(3);
    t.same(client.events, ['one', 'two', 'three'], 'every event arrived after gaps of ' + GAP_MS + ' ms');
    res.end();
    await client.ended;
  });

  t.test(`SSE through a stripPrefix route over ${scheme}`, async (t) => {
    const client = await openSse(port, '/api/events', { host, https });
    t.teardown(() => client.close());
    const res = await feed.next();
    res.write('data: stripped\n\n');
    await client.waitFor(1);
    t.same(client.events, ['stripped']);
    res.end();
  });

  t.test(`no first byte within timeouts.response → 504 over ${scheme}`, async (t) => {
    const started = Date.now();
    const r = await request(port, '/silent', { https, headers: { host } });
    const took = Date.now() - started;
    t.equal(r.status, 504);
    t.ok(took >= RESPONSE_TIMEOUT_MS - 10 && took < RESPONSE_TIMEOUT_MS + 1000, `answered after ${took} ms`);
  });
}

import t from 'tap';
import { rawExchange } from '../../helpers/raw-http.js';
import { proxyHost, startPorticoWithHosts } from '../helpers/portico-process.js';
import { startRecordingUpstream } from '../helpers/recording-upstream.js';

// Upgrades go through the same decision as requests (resolveRequest): the guards that refuse a
// request refuse the same request with `Upgrade: websocket`, before the upstream sees it. Auth,
// rate limits and allow/deny on upgrades are tested beside those features; here: framing, the
// noindex host's own answers, and an unknown host.

const upstream = await startRecordingUpstream();
t.teardown(() => upstream.close());
const portico = await startPorticoWithHosts(t, [
  proxyHost('plain.test', upstream.target),
  `  dev.test:\n    tls: off\n    noindex: true\n    routes: [ { path: /app, upstream: "${upstream.target}" } ]\n`,
]);

const upgrade = (host: string, path: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;
const reached = (path: string) => upstream.requests.filter((r) => r.url === path).length;

t.test('Content-Length with Transfer-Encoding on an upgrade: 400, never forwarded', async (t) => {
  const r = await rawExchange(portico.http, `${upgrade('plain.test', '/ws-clte', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n')}0\r\n\r\n`, { within: 10_000 });
  t.equal(r.status, 400, r.data.slice(0, 200));
  t.equal(reached('/ws-clte'), 0);
});

t.test('a noindex host answers robots.txt itself, upgrade or not, and 404 off its routes', async (t) => {
  const robots = await rawExchange(portico.http, upgrade('dev.test', '/robots.txt'), { within: 10_000 });
  t.equal(robots.status, 200, robots.data.slice(0, 200));
  t.match(robots.data, /User-agent: \*\r?\nDisallow: \//);
  const elsewhere = await rawExchange(portico.http, upgrade('dev.test', '/nowhere'), { within: 10_000 });
  t.equal(elsewhere.status, 404, elsewhere.data.slice(0, 200));
  t.equal(reached('/robots.txt') + reached('/nowhere'), 0, 'neither reached the upstream');
});

t.test('an upgrade for an unknown host: 404, never forwarded', async (t) => {
  const r = await rawExchange(portico.http, upgrade('unknown.test', '/ws'), { within: 10_000 });
  t.equal(r.status, 404, r.data.slice(0, 200));
  t.equal(reached('/ws'), 0);
});

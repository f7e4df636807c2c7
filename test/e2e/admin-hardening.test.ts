import t from 'tap';
import { request } from '../helpers/http-request.js';
import { E2E_PREAMBLE, startOwnedPortico } from './helpers/portico-process.js';

// SPEC §4 Dashboard: a browser on the operator's machine can be made to send requests to
// loopback, so a POST carrying a foreign Origin is refused, and so is any request whose Host is
// not loopback (DNS rebinding). Tools without Origin (curl, scripts) keep working.

const portico = await startOwnedPortico(t, {
  config: `${E2E_PREAMBLE}hosts:\n  a.test: { tls: off, routes: [ { respond: { body: "ok" } } ] }\n`,
});
const self = `127.0.0.1:${portico.admin}`;
const admin = (path: string, method: string, headers: Record<string, string>) =>
  request(portico.admin, path, { method, headers: { host: self, ...headers } });
const reloads = () => portico.find({ event: 'reload' }).length;

t.test('a POST with a foreign Origin gets 403 and changes nothing', async (t) => {
  const before = reloads();
  for (const origin of ['http://evil.example', `http://localhost:${portico.admin + 1}`, `https://${self}`, 'null', 'http://127.0.0.1.evil.example']) {
    const r = await admin('/reload', 'POST', { origin });
    t.equal(r.status, 403, `Origin: ${origin}`);
  }
  const ok = await admin('/reload', 'POST', {});
  t.equal(ok.status, 200, 'a later POST without Origin still reloads');
  await portico.waitForLog((l) => l.event === 'reload' && l.result === 'ok');
  t.equal(reloads(), before + 1, 'only the last POST reloaded');
});

t.test('a same-origin POST works, whatever loopback name the browser used', async (t) => {
  t.equal((await admin('/reload', 'POST', { origin: `http://${self}` })).status, 200);
  const tunnel = `localhost:${portico.admin + 7}`; // an SSH tunnel's local port
  t.equal((await admin('/reload', 'POST', { host: tunnel, origin: `http://${tunnel}` })).status, 200);
  t.equal((await admin('/reload', 'POST', { host: 'localhost', origin: 'http://localhost:80' })).status, 200, 'default port');
});

t.test('curl without Origin works (GET and POST)', async (t) => {
  t.equal((await admin('/healthz', 'GET', {})).status, 200);
  t.equal((await admin('/reload', 'POST', {})).status, 200);
  t.equal((await admin('/config', 'GET', { origin: 'http://evil.example' })).status, 200, 'a read is not state-changing; the Host check guards it');
});

t.test('a Host that is not loopback gets 403 on every path (DNS rebinding)', async (t) => {
  for (const host of ['evil.example', `evil.example:${portico.admin}`, '10.0.0.1', '127.0.0.1.evil.example', 'localhost.evil.example']) {
    for (const [method, path] of [['GET', '/'], ['GET', '/config'], ['GET', '/dashboard.json'], ['POST', '/reload']] as const) {
      const r = await admin(path, method, { host });
      t.equal(r.status, 403, `${method} ${path} Host: ${host}`);
      t.notMatch(r.body, /a\.test/, 'nothing of the config leaks');
    }
  }
});

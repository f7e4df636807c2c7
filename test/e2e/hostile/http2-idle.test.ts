import t from 'tap';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { E2E_PREAMBLE, startOwnedPortico } from '../helpers/portico-process.js';

// SPEC §3 Connections: idle HTTP/2 connections close after 60 s. "Idle" means no open stream:
// a client that only sends PINGs does not keep a connection (and its memory) forever. With the
// real timeout, so this file runs for about a minute on its own.

t.test('an HTTP/2 connection with no stream for 60 s is closed, PINGs or not', async (t) => {
  const portico = await startOwnedPortico(t, {
    config: `${E2E_PREAMBLE}hosts:
  secure.test:
    tls: self-signed
    routes: [ { respond: { status: 200, body: "ok\\n" } } ]
`,
  });
  const open = async (): Promise<{ session: ClientHttp2Session; idleSince: number; closed: Promise<number> }> => {
    const session = h2connect(`https://127.0.0.1:${portico.https}`, { servername: 'secure.test', rejectUnauthorized: false });
    session.on('error', () => {});
    t.teardown(() => session.destroy());
    await new Promise<void>((resolve, reject) => {
      const stream = session.request({ ':path': '/', ':authority': 'secure.test' });
      stream.on('error', reject);
      stream.resume();
      stream.on('close', () => resolve());
    });
    const idleSince = Date.now();
    const closed = new Promise<number>((resolve) => {
      const limit = setTimeout(() => resolve(-1), 90_000);
      session.once('close', () => {
        clearTimeout(limit);
        resolve(Date.now() - idleSince);
      });
    });
    return { session, idleSince, closed };
  };
  const quiet = await open();
  const pinging = await open();
  const pings = setInterval(() => !pinging.session.closed && pinging.session.ping(() => {}), 15_000);
  t.teardown(() => clearInterval(pings));
  const [a, b] = await Promise.all([quiet.closed, pinging.closed]);
  clearInterval(pings);
  t.ok(a >= 59_000 && a <= 63_000, `a quiet connection closed ${a} ms after its last stream (60 s)`);
  t.ok(b >= 59_000 && b <= 63_000, `a connection that only PINGs closed ${b} ms after its last stream (60 s)`);
});

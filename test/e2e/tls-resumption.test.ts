import { connect, type TLSSocket } from 'node:tls';
import t from 'tap';
import { startOwnedPortico } from './helpers/portico-process.js';

// TLS session resumption through the built CLI: a client that reads its response holds a ticket
// (TLS 1.3 sends tickets after the client's Finished, so only a client that reads gets one, with
// Portico as with nginx and any OpenSSL server), and the ticket still works after a reload that
// changes the TLS defaults.

const config = (minVersion: string) => `listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" }
admin: 127.0.0.1:0
tls: { certs: ./certs, minVersion: ${minVersion} }
hosts:
  local.test:
    routes: [ { respond: { status: 200, body: "hi" } } ]
`;

/** One HTTPS request over a fresh TLS connection; resolves with the ticket and whether it resumed. */
function exchange(port: number, session?: Buffer): Promise<{ session: Buffer | undefined; reused: boolean; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    let ticket: Buffer | undefined;
    let reused = false;
    let protocol: string | null = null;
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, servername: 'local.test', rejectUnauthorized: false, session, minVersion: 'TLSv1.3' }, () => {
      reused = socket.isSessionReused();
      protocol = socket.getProtocol();
      socket.end('GET / HTTP/1.1\r\nHost: local.test\r\nConnection: close\r\n\r\n');
    });
    socket.on('session', (s: Buffer) => (ticket = s));
    socket.resume();
    socket.on('error', reject);
    socket.on('close', () => resolve({ session: ticket, reused, protocol }));
  });
}

t.test('TLS 1.3 tickets resume, also after a reload that changes the TLS defaults', async (t) => {
  const p = await startOwnedPortico(t, { config: config('TLSv1.2') });
  const first = await exchange(p.https);
  t.equal(first.protocol, 'TLSv1.3');
  t.ok(first.session, 'a client that reads its response receives a ticket');
  const second = await exchange(p.https, first.session);
  t.ok(second.reused, 'the ticket resumes the session');

  await p.writeConfig(config('TLSv1.3'));
  await p.waitForLog({ event: 'reload', result: 'ok' });
  const third = await exchange(p.https, second.session ?? first.session);
  t.ok(third.reused, 'a ticket issued before the reload still resumes');
});

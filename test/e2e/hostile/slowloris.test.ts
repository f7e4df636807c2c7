import t from 'tap';
import { connect } from 'node:net';
import { E2E_PREAMBLE, startOwnedPortico } from '../helpers/portico-process.js';

// SPEC §3 "Bad input": request headers must be complete within 30 s, else 408 and close within
// 32 s. With the real timeout, so this file runs for about half a minute on its own.

t.test('a slowloris connection gets 408 and is closed 29–32 s after it started', async (t) => {
  const portico = await startOwnedPortico(t, {
    config: `${E2E_PREAMBLE}hosts:
  plain.test:
    tls: off
    routes: [ { respond: { status: 200, body: "ok\\n" } } ]
`,
  });

  const started = Date.now();
  const socket = connect(portico.http, '127.0.0.1');
  t.teardown(() => socket.destroy());
  let data = '';
  let trickle: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    socket.write('GET / HTTP/1.1\r\nHost: plain.test\r\n');
    // One more header line every 2 s, as a slowloris does to look alive; never the blank line.
    let n = 0;
    trickle = setInterval(() => socket.writable && socket.write(`X-Slow-${n++}: 1\r\n`), 2_000);
  });
  socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
  socket.on('error', () => {});
  const closedAt = await new Promise<number>((resolve) => {
    const limit = setTimeout(() => resolve(-1), 70_000);
    socket.once('close', () => {
      clearTimeout(limit);
      resolve(Date.now() - started);
    });
  });
  clearInterval(trickle);
  t.match(data, /^HTTP\/1\.1 408 /, `answered 408 (got ${JSON.stringify(data.slice(0, 40))})`);
  t.ok(closedAt >= 29_000 && closedAt <= 32_000, `closed ${closedAt} ms after the connect (29–32 s)`);
});

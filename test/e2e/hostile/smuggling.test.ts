import { connect as h2connect } from 'node:http2';
import t from 'tap';
import { rawExchange } from '../../helpers/raw-http.js';
import { guardedAdminHost, startOwnedRecordingUpstream, startPorticoWithHosts } from '../helpers/portico-process.js';

// SPEC §3 Proxying: each client request becomes exactly one upstream request; a body is
// forwarded with valid framing whatever the method, never written raw onto a kept-alive
// upstream connection. The body of every request below is itself a complete HTTP request: if
// it reached the upstream unframed, the upstream would parse a second request.

const up = await startOwnedRecordingUpstream(t);
const portico = await startPorticoWithHosts(t, [
  guardedAdminHost('public.test', up.target),
  `  secure.test:
    tls: self-signed
    routes:
      - { path: /, upstream: "${up.target}" }
`,
]);

const SMUGGLED = 'GET /admin HTTP/1.1\r\nHost: public.test\r\nX-Real-IP: 6.6.6.6\r\n\r\n';
const METHODS = ['GET', 'HEAD', 'DELETE', 'OPTIONS', 'POST', 'PUT', 'PATCH'];

/** Sends one raw request on a fresh connection and resolves with the first response's status. */
async function rawRequest(bytes: string): Promise<number> {
  return (await rawExchange(portico.http, bytes, { untilHead: true })).status;
}

const framings: Record<string, (method: string, path: string) => string> = {
  chunked: (m, p) =>
    `${m} ${p} HTTP/1.1\r\nHost: public.test\r\nTransfer-Encoding: chunked\r\n\r\n${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`,
  sized: (m, p) => `${m} ${p} HTTP/1.1\r\nHost: public.test\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
  'Connection: content-length': (m, p) =>
    `${m} ${p} HTTP/1.1\r\nHost: public.test\r\nConnection: content-length\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
  'Connection: transfer-encoding': (m, p) =>
    `${m} ${p} HTTP/1.1\r\nHost: public.test\r\nConnection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`,
};

for (const [framing, build] of Object.entries(framings)) {
  t.test(`HTTP/1.1 body framed ${framing}: one upstream request, body intact, for every method`, async (t) => {
    for (const method of METHODS) {
      const path = `/x-${method.toLowerCase()}-${framing.replace(/\W/g, '')}`;
      const before = up.requests.length;
      const status = await rawRequest(build(method, path));
      t.ok(status >= 200 && status < 500, `${method}: answered (${status})`);
      // Give a smuggled second request time to arrive before counting.
      await new Promise((r) => setTimeout(r, 100));
      const got = up.requests.slice(before);
      if (status === 400) {
        t.equal(got.length, 0, `${method}: refused with 400 and nothing forwarded`);
        continue;
      }
      t.same(got.map((r) => `${r.method} ${r.url}`), [`${method} ${path}`], `${method}: exactly one upstream request`);
      t.equal(got[0]?.body.toString('latin1'), SMUGGLED, `${method}: body bytes intact`);
      t.notOk(up.requests.some((r) => r.url === '/admin'), 'the smuggled request never reached the upstream');
    }
  });
}

t.test('HTTP/2 request bodies without Content-Length: one upstream request each, framed', async (t) => {
  const session = h2connect(`https://127.0.0.1:${portico.https}`, { rejectUnauthorized: false, servername: 'secure.test' });
  t.teardown(() => session.close());
  for (const method of METHODS) {
    const path = `/h2-${method.toLowerCase()}`;
    const before = up.requests.length;
    const status = await new Promise<number>((resolve, reject) => {
      const stream = session.request({ ':method': method, ':path': path, ':authority': 'secure.test' }, { endStream: false });
      stream.on('response', (h) => resolve(Number(h[':status'])));
      stream.on('error', reject);
      stream.resume();
      stream.end(SMUGGLED);
    });
    await new Promise((r) => setTimeout(r, 100));
    const got = up.requests.slice(before);
    if (status === 400) {
      t.equal(got.length, 0, `${method}: refused and nothing forwarded`);
      continue;
    }
    t.equal(status, 200, `${method}: 200`);
    t.same(got.map((r) => `${r.method} ${r.url}`), [`${method} ${path}`], `${method}: exactly one upstream request`);
    t.equal(got[0]?.body.toString('latin1'), SMUGGLED, `${method}: body bytes intact`);
  }
  t.notOk(up.requests.some((r) => r.url === '/admin'), 'the smuggled request never reached the upstream');
});

t.test('HTTP/2 body longer than its Content-Length never reaches the upstream raw', async (t) => {
  const session = h2connect(`https://127.0.0.1:${portico.https}`, { rejectUnauthorized: false, servername: 'secure.test' });
  session.on('error', () => undefined);
  t.teardown(() => session.destroy());
  const before = up.requests.length;
  const outcome = await new Promise<string>((resolve) => {
    const stream = session.request({ ':method': 'POST', ':path': '/h2-cl-lie', ':authority': 'secure.test', 'content-length': '5' }, { endStream: false });
    stream.on('response', (h) => resolve(`status ${String(h[':status'])}`));
    stream.on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    stream.on('close', () => resolve(`closed ${stream.rstCode}`));
    stream.resume();
    stream.end(SMUGGLED);
  });
  await new Promise((r) => setTimeout(r, 200));
  const got = up.requests.slice(before);
  t.ok(got.every((r) => r.body.length <= 5), `no upstream request carries more than the declared 5 bytes (${outcome})`);
  t.notOk(up.requests.some((r) => r.url === '/admin'), 'the smuggled request never reached the upstream');
});

t.test('kept-alive upstream connections carry exactly the client requests', async (t) => {
  for (const [conn, reqs] of up.perConnection()) {
    t.ok(reqs.every((r) => r.url !== '/admin'), `connection ${conn}: no request the client did not send`);
  }
});

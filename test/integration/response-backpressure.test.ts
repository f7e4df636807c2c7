import t from 'tap';
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import type { ServerResponse } from 'node:http';
import { startPortico } from '../helpers/start-portico.js';
import { startUpstream } from '../helpers/start-upstream.js';

// A response body is forwarded with backpressure: while the client does not read, Portico
// stops reading from the upstream instead of buffering the body in memory, and once the client
// reads again every byte arrives, in order. Also: a client that leaves mid-body releases the
// upstream response.

const TOTAL = 64 * 1024 * 1024; // far above every socket and stream buffer on the path
const CHUNK = 64 * 1024;
// Kernel buffers on loopback (both connections) plus Node's stream buffers hold a few MiB;
// without backpressure the upstream would get all 64 MiB out in well under a second.
const BOUND = 24 * 1024 * 1024;
const PAUSE_MS = 600;

/** Chunk n of the body: its bytes depend on n, so a lost, repeated or reordered chunk changes the digest. */
function chunk(n: number): Buffer {
  return Buffer.alloc(CHUNK, `chunk ${n};`);
}

const expectedDigest = (() => {
  const h = createHash('sha256');
  for (let n = 0; n < TOTAL / CHUNK; n++) h.update(chunk(n));
  return h.digest('hex');
})();

interface BigStream {
  /** Bytes the upstream has handed to its socket so far. */
  sent: number;
  finished: boolean;
  closedEarly: Promise<boolean>;
}

const streams: BigStream[] = [];
const upstream = await startUpstream((_req, res: ServerResponse) => {
  let resolveClosed!: (early: boolean) => void;
  const s: BigStream = { sent: 0, finished: false, closedEarly: new Promise((r) => (resolveClosed = r)) };
  streams.push(s);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': TOTAL });
  let n = 0;
  const pump = () => {
    while (n < TOTAL / CHUNK) {
      const ok = res.write(chunk(n++));
      s.sent += CHUNK;
      if (!ok) return void res.once('drain', pump);
    }
    res.end();
    s.finished = true;
  };
  res.on('close', () => resolveClosed(!s.finished));
  pump();
});
t.teardown(() => upstream.close());

const portico = await startPortico(`
hosts:
  plain.test: { tls: off, routes: [ { upstream: "${upstream.target}" } ] }
  secure.test: { tls: self-signed, routes: [ { upstream: "${upstream.target}" } ] }
`);
t.teardown(() => portico.close());

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens GET / through Portico and resolves with the response, not yet read (paused). */
function open(https: boolean): Promise<{ res: IncomingMessage; cancel: () => void }> {
  const send = https ? httpsRequest : httpRequest;
  const host = https ? 'secure.test' : 'plain.test';
  return new Promise((resolve, reject) => {
    const req = send(
      { host: '127.0.0.1', port: https ? portico.https : portico.http, path: '/', headers: { host }, agent: false, rejectUnauthorized: false, servername: https ? host : undefined },
      (res) => {
        res.pause();
        resolve({ res, cancel: () => req.destroy() });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Reads the rest of a stream, returning its byte count and SHA-256. */
function drain(stream: NodeJS.ReadableStream): Promise<{ bytes: number; digest: string }> {
  const h = createHash('sha256');
  let bytes = 0;
  return new Promise((resolve, reject) => {
    stream.on('data', (d: Buffer) => {
      bytes += d.length;
      h.update(d);
    });
    stream.on('end', () => resolve({ bytes, digest: h.digest('hex') }));
    stream.on('error', reject);
    stream.resume();
  });
}

for (const https of [false, true]) {
  const scheme = https ? 'https' : 'http';

  t.test(`${scheme}: a client that stops reading stops the upstream; every byte arrives when it reads again`, async (t) => {
    const { res } = await open(https);
    const s = streams.at(-1)!;
    t.equal(res.statusCode, 200);
    await delay(PAUSE_MS);
    const stalled = s.sent;
    t.ok(stalled < BOUND, `upstream held back while the client did not read (${(stalled / 2 ** 20).toFixed(1)} MiB of 64 sent)`);
    await delay(PAUSE_MS / 3);
    t.ok(s.sent - stalled <= 4 * CHUNK, 'and it stays held back');
    const got = await drain(res);
    t.equal(got.bytes, TOTAL, 'the whole body arrived');
    t.equal(got.digest, expectedDigest, 'in order, nothing lost or repeated');
    t.equal(await s.closedEarly, false, 'the upstream finished its response');
  });

  t.test(`${scheme}: a client that leaves while the body is held back releases the upstream response`, async (t) => {
    const { cancel } = await open(https);
    const s = streams.at(-1)!;
    await delay(PAUSE_MS / 3);
    cancel();
    t.equal(await s.closedEarly, true, 'the upstream response was closed before its end');
    t.ok(s.sent < BOUND, 'without the body having been buffered first');
  });
}

t.test('HTTP/2: a stream that stops reading stops the upstream; every byte arrives when it reads again', async (t) => {
  const session = connect(`https://127.0.0.1:${portico.https}`, { servername: 'secure.test', rejectUnauthorized: false });
  t.teardown(() => session.close());
  const stream = session.request({ ':path': '/', ':authority': 'secure.test' });
  stream.pause();
  const status = await new Promise<number>((resolve, reject) => {
    stream.once('response', (h) => resolve(Number(h[':status'])));
    stream.once('error', reject);
  });
  const s = streams.at(-1)!;
  t.equal(status, 200);
  await delay(PAUSE_MS);
  t.ok(s.sent < BOUND, `upstream held back while the stream was not read (${(s.sent / 2 ** 20).toFixed(1)} MiB of 64 sent)`);
  const got = await drain(stream);
  t.equal(got.bytes, TOTAL, 'the whole body arrived');
  t.equal(got.digest, expectedDigest, 'in order, nothing lost or repeated');
});

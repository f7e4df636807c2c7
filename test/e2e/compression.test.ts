import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { brotliDecompressSync, createBrotliDecompress, createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { startUpstream } from '../helpers/start-upstream.js';
import { E2E_PREAMBLE, removeDir, startPorticoProcess } from './helpers/portico-process.js';

// SPEC §4 Compression, through the built CLI: negotiation, what is never compressed, the
// rewritten head, HEAD, HTTP/2, streaming, and that aborted clients leave no zlib stream behind.

const JSON_BODY = Buffer.from(
  JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `user-${i}`, email: `user${i}@example.com`, tags: ['a', 'b'] })) }),
);
const TEXT = Buffer.from('line of text that repeats\n'.repeat(200));

interface Got {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function get(port: number, path: string, headers: OutgoingHttpHeaders, method = 'GET'): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers: { host: 'c.test', ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function decode(got: Got): Buffer {
  const coding = got.headers['content-encoding'];
  if (coding === 'br') return brotliDecompressSync(got.body);
  if (coding === 'gzip') return gunzipSync(got.body);
  return got.body;
}

async function openStreams(admin: number): Promise<number> {
  const got = (await request(admin, '/metrics', { headers: { host: '127.0.0.1' } })).body;
  const m = /^portico_compression_streams_open (\d+)/m.exec(got);
  if (!m) throw new Error('no portico_compression_streams_open metric');
  return Number(m[1]);
}

t.test('compression', async (t) => {
  // Released by the test to let /stream send its second chunk.
  let releaseStream: () => void = () => {};
  let streamsServed = 0;
  const upstream = await startUpstream((req, res) => {
    const path = req.url ?? '/';
    if (path === '/json') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': JSON_BODY.length, etag: '"v1"', 'accept-ranges': 'bytes' });
      res.end(req.method === 'HEAD' ? undefined : JSON_BODY);
    } else if (path === '/small') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 });
      res.end('{"ok":true}');
    } else if (path === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`data: ${'x'.repeat(4000)}\n\n`);
    } else if (path === '/no-transform') {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'public, no-transform', 'content-length': TEXT.length });
      res.end(TEXT);
    } else if (path === '/encoded') {
      const zipped = gzipSync(TEXT);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'content-length': zipped.length });
      res.end(zipped);
    } else if (path === '/png') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': TEXT.length });
      res.end(TEXT);
    } else if (path === '/vendor') {
      res.writeHead(200, { 'content-type': 'application/vnd.api+json', vary: 'Origin' });
      res.end(JSON_BODY);
    } else if (path === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk\n');
      releaseStream = () => res.end('second chunk\n');
    } else if (path === '/dies') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial body '.repeat(100));
      setTimeout(() => res.socket?.destroy(), 50); // the upstream crashes mid-response
    } else if (path === '/endless') {
      streamsServed++;
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('tick '.repeat(50)), 20);
      res.write('start\n');
      res.on('close', () => clearInterval(timer));
    } else {
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': TEXT.length });
      res.end(TEXT);
    }
  });
  t.teardown(() => upstream.close());

  const gw = await startPorticoProcess({
    config: `${E2E_PREAMBLE}
hosts:
  c.test:
    tls: self-signed
    compress: true
    routes:
      - { path: /, upstream: "${upstream.target}" }
      - { path: /png, upstream: "${upstream.target}", compress: false }
  h1.test:
    tls: off
    compress: true
    routes: [ { upstream: "${upstream.target}" } ]
  h1-off.test:
    tls: off
    routes:
      - { upstream: "${upstream.target}" }
      - { path: /json, upstream: "${upstream.target}", compress: true }
`,
  });
  t.teardown(async () => {
    await gw.stop();
    await removeDir(gw.dir);
  });
  const port = gw.http;
  const h = (ae: string | undefined, host = 'h1.test'): OutgoingHttpHeaders => (ae === undefined ? { host } : { host, 'accept-encoding': ae });

  await t.test('negotiates br and gzip with q-values; the body decodes to the upstream bytes', async (t) => {
    const cases: [string, string | undefined][] = [
      ['gzip, deflate, br', 'br'],
      ['br;q=0.5, gzip;q=0.8', 'gzip'],
      ['gzip;q=1, br;q=1', 'br'],
      ['br;q=0, gzip', 'gzip'],
      ['*;q=0.3', 'br'],
      ['gzip;q=0.2, *;q=0.5', 'br'],
      ['deflate, identity', undefined],
      ['br;q=0, gzip;q=0', undefined],
    ];
    for (const [ae, want] of cases) {
      const got = await get(port, '/json', h(ae));
      t.equal(got.status, 200);
      t.equal(got.headers['content-encoding'], want, `Accept-Encoding: ${ae}`);
      t.match(got.headers.vary, /Accept-Encoding/, 'Vary on every eligible response');
      t.ok(decode(got).equals(JSON_BODY), `body decodes to the upstream's (${ae})`);
      if (want) {
        t.equal(got.headers['content-length'], undefined, 'no Content-Length on a coded body');
        t.equal(got.headers.etag, 'W/"v1"', 'the strong ETag is weak');
        t.equal(got.headers['accept-ranges'], undefined, 'ranges would address the coded bytes');
        t.ok(got.body.length < JSON_BODY.length / 3, `${want} shrinks JSON (${got.body.length} bytes)`);
      } else {
        t.equal(got.headers['content-length'], String(JSON_BODY.length));
        t.equal(got.headers.etag, '"v1"');
      }
    }
    const none = await get(port, '/json', h(undefined));
    t.equal(none.headers['content-encoding'], undefined, 'no Accept-Encoding, no compression');
  });

  await t.test('never SSE, no-transform, small, already encoded or incompressible bodies', async (t) => {
    const sse = await get(port, '/sse', h('br, gzip'));
    t.equal(sse.headers['content-encoding'], undefined, 'SSE is never compressed');
    t.equal(sse.body.toString(), `data: ${'x'.repeat(4000)}\n\n`);
    const nt = await get(port, '/no-transform', h('br, gzip'));
    t.equal(nt.headers['content-encoding'], undefined, 'Cache-Control: no-transform is respected');
    t.ok(nt.body.equals(TEXT));
    const small = await get(port, '/small', h('br, gzip'));
    t.equal(small.headers['content-encoding'], undefined, 'bodies under 1 KiB are left alone');
    t.equal(small.headers['content-length'], '11');
    t.equal(small.body.toString(), '{"ok":true}');
    const enc = await get(port, '/encoded', h('br, gzip'));
    t.equal(enc.headers['content-encoding'], 'gzip', "the upstream's coding is kept");
    t.ok(enc.body.equals(gzipSync(TEXT)) || gunzipSync(enc.body).equals(TEXT), 'the upstream-encoded bytes pass unchanged');
    t.equal(enc.headers['content-length'], String(enc.body.length));
    const png = await get(port, '/png', h('br, gzip'));
    t.equal(png.headers['content-encoding'], undefined, 'image/png is not compressible');
    t.equal(png.headers.vary, undefined, 'and does not vary');
    const vendor = await get(port, '/vendor', h('gzip'));
    t.equal(vendor.headers['content-encoding'], 'gzip', 'application/*+json is compressed');
    t.equal(vendor.headers.vary, 'Origin, Accept-Encoding', "the upstream's Vary is extended, not replaced");
    t.ok(decode(vendor).equals(JSON_BODY));
  });

  await t.test('host and route switches: off by default, the route wins', async (t) => {
    const off = await get(port, '/', h('br', 'h1-off.test'));
    t.equal(off.headers['content-encoding'], undefined, 'compress is off by default');
    t.equal(off.headers.vary, undefined);
    const on = await get(port, '/json', h('br', 'h1-off.test'));
    t.equal(on.headers['content-encoding'], 'br', 'a route turns it on');
  });

  await t.test('HEAD gets the headers a GET would', async (t) => {
    const head = await get(port, '/json', h('gzip'), 'HEAD');
    const full = await get(port, '/json', h('gzip'));
    t.equal(head.status, 200);
    t.equal(head.body.length, 0);
    for (const name of ['content-encoding', 'vary', 'etag', 'content-type', 'content-length', 'accept-ranges']) {
      t.equal(head.headers[name], full.headers[name], name);
    }
    t.equal(head.headers['content-encoding'], 'gzip');
  });

  await t.test('a streamed response arrives incrementally: the first chunk before the upstream finishes', async (t) => {
    for (const coding of ['gzip', 'br']) {
      const first = await new Promise<{ text: string; res: IncomingMessage; rest: Promise<string> }>((resolve, reject) => {
        httpRequest({ host: '127.0.0.1', port, path: '/stream', headers: h(coding), agent: false }, (res) => {
          const decoder = coding === 'br' ? createBrotliDecompress() : createGunzip();
          res.pipe(decoder);
          let text = '';
          const rest = new Promise<string>((done) => decoder.on('end', () => done(text)));
          decoder.on('data', (c: Buffer) => {
            text += c.toString();
            if (text.includes('first chunk')) resolve({ text, res, rest });
          });
          decoder.on('error', reject);
        })
          .on('error', reject)
          .end();
      });
      t.equal(first.res.headers['content-encoding'], coding);
      t.equal(first.text, 'first chunk\n', `${coding}: the first chunk is readable while the upstream still holds the response`);
      releaseStream();
      t.equal(await first.rest, 'first chunk\nsecond chunk\n');
    }
  });

  await t.test('HTTP/2', async (t) => {
    const session = http2Connect(`https://127.0.0.1:${gw.https}`, { rejectUnauthorized: false, servername: 'c.test' });
    t.teardown(() => session.close());
    for (const coding of ['br', 'gzip']) {
      const got = await new Promise<Got>((resolve, reject) => {
        const stream = session.request({ ':path': '/json', ':authority': 'c.test', 'accept-encoding': coding });
        let headers: IncomingHttpHeaders = {};
        const chunks: Buffer[] = [];
        stream.on('response', (hd) => (headers = hd as IncomingHttpHeaders));
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks) }));
        stream.on('error', reject);
        stream.end();
      });
      t.equal(got.status, 200);
      t.equal(got.headers['content-encoding'], coding, `HTTP/2 ${coding}`);
      t.equal(got.headers['content-length'], undefined);
      t.match(got.headers.vary, /Accept-Encoding/);
      t.ok(decode(got).equals(JSON_BODY));
    }
  });

  await t.test('clients that abort mid-stream leave no zlib stream open', async (t) => {
    const ABORTS = 40;
    const responses: IncomingMessage[] = [];
    const before = streamsServed;
    await Promise.all(
      Array.from({ length: ABORTS }, (_, i) =>
        new Promise<void>((resolve, reject) => {
          httpRequest({ host: '127.0.0.1', port, path: '/endless', headers: h(i % 2 ? 'gzip' : 'br'), agent: false }, (res) => {
            responses.push(res);
            res.once('data', () => resolve()); // compressed bytes are flowing
          })
            .on('error', reject)
            .end();
        }),
      ),
    );
    t.equal(streamsServed - before, ABORTS);
    t.ok((await openStreams(gw.admin)) >= ABORTS, 'every stream is counted while it runs');
    for (const res of responses) res.destroy();
    await eventually(async () => (await openStreams(gw.admin)) === 0, { within: 15_000, message: 'compression streams released' });
    t.pass('every zlib stream was released after its client went away');
    // An upstream that dies mid-body: the client sees the truncation, the stream is released.
    const outcome = await new Promise<string>((resolve) => {
      httpRequest({ host: '127.0.0.1', port, path: '/dies', headers: h('gzip'), agent: false }, (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(res.complete ? 'complete' : 'truncated'));
        res.on('error', () => resolve('truncated'));
        res.on('aborted', () => resolve('truncated'));
      }).on('error', () => resolve('truncated')).end();
    });
    t.equal(outcome, 'truncated', 'a truncated upstream body is not passed off as complete');
    await eventually(async () => (await openStreams(gw.admin)) === 0, { within: 15_000, message: 'stream released after an upstream failure' });
    // And a completed response releases its stream too.
    await get(port, '/json', h('br'));
    t.equal(await openStreams(gw.admin), 0);
  });
});

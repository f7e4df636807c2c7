import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import https from 'node:https';
import tls from 'node:tls';
import { runCerts } from '../../src/commands/certs.js';
import { Gateway } from '../../src/gateway.js';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { createLogSink } from '../helpers/log-sink.js';
import { startPebble } from '../helpers/start-pebble.js';
import { startPortico } from '../helpers/start-portico.js';
import { startUpstream } from '../helpers/start-upstream.js';
import { makeTestCertificate } from '../helpers/tls-certs.js';


/** The certificate a client is shown for `servername` (undefined = no SNI). */
function presented(port: number, servername: string | undefined, opts: tls.ConnectionOptions = {}): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ...opts }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.destroy();
      resolve(new X509Certificate(raw));
    });
    socket.on('error', reject);
  });
}

/** Resolves with the TLS error a handshake ends in, or undefined when it succeeds. */
function handshakeError(port: number, opts: tls.ConnectionOptions): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.on('error', (err) => resolve(err));
  });
}

t.test('SNI selects each host certificate; an unknown name gets the fallback and a 404', async (t) => {
  const portico = await startPortico(`hosts:
  a.test: { tls: self-signed, aliases: [www.a.test], routes: [ { respond: { body: "a\\n" } } ] }
  b.test: { tls: self-signed, routes: [ { respond: { body: "b\\n" } } ] }
`);
  t.teardown(() => portico.close());
  const a = await presented(portico.https, 'a.test');
  t.match(a.subjectAltName, /DNS:a\.test/);
  t.match((await presented(portico.https, 'www.a.test')).subjectAltName, /DNS:www\.a\.test/, 'alias is on the same certificate');
  t.match((await presented(portico.https, 'b.test')).subjectAltName, /DNS:b\.test/);
  const unknown = await presented(portico.https, 'unknown.test');
  t.notMatch(unknown.subjectAltName ?? '', /a\.test|b\.test/, 'an unknown SNI name never gets another host certificate');
  const r = await request(portico.https, '/', { https: true, headers: { host: 'unknown.test' } });
  t.equal(r.status, 404, 'and the request is answered 404');
  const ok = await request(portico.https, '/', { https: true, headers: { host: 'a.test' } });
  t.equal(ok.body, 'a\n');
});

t.test('protocol limits: TLS 1.1 and non-AEAD TLS 1.2 suites are refused; minVersion TLSv1.3 refuses 1.2', async (t) => {
  const portico = await startPortico(`hosts:
  a.test: { tls: self-signed, routes: [ { respond: { body: "a" } } ] }
`);
  t.teardown(() => portico.close());
  t.ok(await handshakeError(portico.https, { servername: 'a.test', minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }), 'TLS 1.1 refused');
  t.ok(await handshakeError(portico.https, { servername: 'a.test', maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA:AES256-SHA256' }), 'CBC/RSA-kx suites refused');
  t.equal(await handshakeError(portico.https, { servername: 'a.test', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }), undefined, 'ECDHE+AES-GCM accepted');
  t.equal(await handshakeError(portico.https, { servername: 'a.test', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' }), undefined, 'ECDHE+ChaCha20 accepted');

  const strict = await startPortico(`hosts:
  a.test: { tls: self-signed, routes: [ { respond: { body: "a" } } ] }
`, { preamble: 'listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" }\ntls: { certs: ./certs, minVersion: TLSv1.3 }\n' });
  t.teardown(() => strict.close());
  t.ok(await handshakeError(strict.https, { servername: 'a.test', maxVersion: 'TLSv1.2' }), 'TLS 1.2 refused under minVersion TLSv1.3');
  t.equal(await handshakeError(strict.https, { servername: 'a.test' }), undefined, 'TLS 1.3 accepted');
});

t.test('HTTP requests to TLS hosts get 308 to https (path and query kept); tls: off and ACME challenges are not redirected', async (t) => {
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const portico = await startPortico(`hosts:
  secure.test: { tls: self-signed, routes: [ { upstream: "${upstream.target}" } ] }
  plain.test: { tls: off, routes: [ { upstream: "${upstream.target}" } ] }
`);
  t.teardown(() => portico.close());
  const r = await request(portico.http, '/a/b?x=1&y=2', { headers: { host: 'Secure.Test:80' } });
  t.equal(r.status, 308);
  t.equal(r.headers.location, `https://secure.test:${portico.https}/a/b?x=1&y=2`, ':PORT because listen.https is not 443');
  t.equal(r.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
  const challenge = await request(portico.http, '/.well-known/acme-challenge/unknown-token', { headers: { host: 'secure.test' } });
  t.equal(challenge.status, 404, 'challenge path answered by Portico, not redirected');
  const plain = await request(portico.http, '/x', { headers: { host: 'plain.test' } });
  t.equal(plain.status, 200, 'tls: off is served over HTTP');
  t.equal(JSON.parse(plain.body).headers['x-forwarded-proto'], 'http');
});

t.test('HSTS only for file and ACME certificates, and only over HTTPS', async (t) => {
  const pair = await makeTestCertificate({ names: ['files.test'], notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 30 * 86_400_000) });
  const portico = await startPortico(`hosts:
  files.test: { tls: { cert: ./files.crt, key: ./files.key }, routes: [ { respond: { body: "f" } } ] }
  self.test: { tls: self-signed, routes: [ { respond: { body: "s" } } ] }
`, {
    before: async (dir) => {
      await writeFile(join(dir, 'files.crt'), pair.certPem);
      await writeFile(join(dir, 'files.key'), pair.keyPem, { mode: 0o600 });
    },
  });
  t.teardown(() => portico.close());
  const f = await request(portico.https, '/', { https: true, headers: { host: 'files.test' } });
  t.equal(f.headers['strict-transport-security'], 'max-age=31536000');
  const s = await request(portico.https, '/', { https: true, headers: { host: 'self.test' } });
  t.equal(s.headers['strict-transport-security'], undefined, 'self-signed: no HSTS');
});

t.test('replacing cert files swaps the certificate live; a corrupt file keeps the old one', async (t) => {
  const mk = (days: number) => makeTestCertificate({ names: ['files.test'], notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + days * 86_400_000) });
  const first = await mk(30);
  const portico = await startPortico(`hosts:
  files.test: { tls: { cert: ./files.crt, key: ./files.key }, routes: [ { respond: { body: "f" } } ] }
`, {
    before: async (dir) => {
      await writeFile(join(dir, 'files.crt'), first.certPem);
      await writeFile(join(dir, 'files.key'), first.keyPem);
    },
  });
  t.teardown(() => portico.close());
  const serial1 = (await presented(portico.https, 'files.test')).serialNumber;
  t.equal(serial1, new X509Certificate(first.certPem).serialNumber);

  await writeFile(join(portico.dir, 'files.crt'), '-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n');
  await eventually(() => portico.logs.lines.some((l) => l.event === 'certificate' && l.result === 'error'), { within: 3000, message: 'corrupt file logged' });
  t.equal((await presented(portico.https, 'files.test')).serialNumber, serial1, 'corrupt file: the old certificate keeps serving');

  const second = await mk(60);
  await writeFile(join(portico.dir, 'files.key'), second.keyPem);
  await writeFile(join(portico.dir, 'files.crt'), second.certPem);
  const serial2 = new X509Certificate(second.certPem).serialNumber;
  await eventually(async () => (await presented(portico.https, 'files.test')).serialNumber === serial2, { within: 3000, message: 'new certificate served' });
  t.pass('new pair swapped in without restart');
});

t.test('ACME through the gateway: issuance for a host and its alias over HTTP-01, reuse after restart', async (t) => {
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  // Pebble must know Portico's HTTP port, and Portico needs Pebble's directory: start Portico
  // without ACME, then Pebble, then reload with the acme section.
  const portico = await startPortico(`hosts:
  placeholder.test: { tls: off, routes: [ { respond: { body: "x" } } ] }
`);
  t.teardown(() => portico.close());
  const pebble = await startPebble({ httpPort: portico.http });
  t.teardown(() => pebble.stop());
  const acmeConfig = `listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" }
admin: 127.0.0.1:0
tls:
  certs: ./certs
  acme: { email: ops@example.test, directory: "${pebble.directoryUrl}", caFile: "${pebble.caFile}" }
hosts:
  shop.test:
    aliases: [www.shop.test]
    routes: [ { upstream: "${upstream.target}" } ]
`;
  await portico.replaceConfig(acmeConfig);
  const reload = await portico.gateway.reload('test');
  t.ok(reload.ok, 'reloaded with the acme section');

  const verify = (servername: string) =>
    handshakeError(portico.https, { servername, ca: pebble.rootPem, rejectUnauthorized: true }).then((e) => e === undefined);
  await eventually(() => verify('shop.test'), { within: 20_000, message: 'certificate issued and served' });
  t.ok(await verify('www.shop.test'), 'the alias is on the issued certificate and verifies against the CA');
  const issued = portico.logs.filter({ event: 'certificate', action: 'issued' });
  t.equal(issued.length, 1, 'one order for host + alias');
  const r = await request(portico.https, '/', { https: true, headers: { host: 'shop.test' } });
  t.equal(r.status, 200);
  t.equal(r.headers['strict-transport-security'], 'max-age=31536000', 'HSTS with an ACME certificate');
  const serial = (await presented(portico.https, 'shop.test')).serialNumber;

  const lines = await runCerts(portico.gateway.table.config);
  t.match(lines[0], /^shop\.test\tacme\t[^\t]+\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\t\d+$/, 'portico certs shows the stored certificate');

  // A second gateway on the same certs directory serves the stored certificate without ordering.
  const logs = createLogSink();
  const second = await Gateway.start({ configFile: portico.configFile, log: logs.logger, watch: false });
  t.teardown(() => second.close());
  const again = await presented(second.ports().https, 'shop.test');
  t.equal(again.serialNumber, serial, 'same serial after restart');
  t.equal(logs.filter({ event: 'certificate', action: 'issued' }).length, 0, 'no new order');

  // Forced renewal (renewBefore longer than the certificate's life) swaps a new certificate in
  // live: a kept-alive connection made before it keeps working, new connections get the new one.
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const viaAgent = () =>
    new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port: portico.https, path: '/', servername: 'shop.test', headers: { host: 'shop.test' }, agent, ca: pebble.rootPem }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
      });
      req.on('error', reject);
    });
  t.equal((await viaAgent()).status, 200, 'kept-alive connection open before the renewal');
  await portico.replaceConfig(acmeConfig.replace('caFile: "', 'renewBefore: 36500d, caFile: "'));
  t.ok((await portico.gateway.reload('test')).ok);
  const renewed = await eventually(async () => {
    const s = (await presented(portico.https, 'shop.test')).serialNumber;
    return s !== serial ? s : undefined;
  }, { within: 30_000, message: 'renewed certificate served' });
  t.not(renewed, serial, 'a new certificate is served to new connections');
  const again2 = await viaAgent();
  t.equal(again2.status, 200);
  t.ok(again2.reused, 'the connection made before the renewal was not dropped');
});

t.test('self-signed certificates are stored with keys mode 0600 in the documented layout', async (t) => {
  const portico = await startPortico(`hosts:
  self.test: { tls: self-signed, routes: [ { respond: { body: "s" } } ] }
  "*.wild.test": { routes: [ { respond: { body: "w" } } ] }
`);
  t.teardown(() => portico.close());
  const key = await stat(join(portico.dir, 'certs', 'self-signed', 'self.test.key'));
  t.equal(key.mode & 0o777, 0o600);
  const wild = await stat(join(portico.dir, 'certs', 'self-signed', '_wildcard_.wild.test.crt'));
  t.ok(wild.isFile(), '"*" is written as _wildcard_');
  t.match((await presented(portico.https, 'pr-1.wild.test')).subjectAltName, /DNS:\*\.wild\.test/, 'wildcard host served by SNI');
});

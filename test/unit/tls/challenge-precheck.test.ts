import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loopbackFor, precheckChallenge } from '../../../src/tls/challenge-precheck.js';

t.test('wildcard binds are reached on loopback; a specific address on itself', async (t) => {
  t.equal(loopbackFor({ address: '0.0.0.0', port: 80 }), '127.0.0.1');
  t.equal(loopbackFor({ address: '::', port: 80 }), '::1');
  t.equal(loopbackFor({ address: '10.0.0.5', port: 80 }), '10.0.0.5');
});

t.test('the token is fetched from the listener with the name as Host', async (t) => {
  const seen: { host?: string; url?: string }[] = [];
  let answer = 'tok.key';
  const server = createServer((req, res) => {
    seen.push({ host: req.headers.host, url: req.url });
    res.writeHead(answer ? 200 : 404).end(answer || 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const listener = { address: '0.0.0.0', port: (server.address() as AddressInfo).port };

  await precheckChallenge(listener, 'app.example.test', 'tok', 'tok.key');
  t.same(seen, [{ host: 'app.example.test', url: '/.well-known/acme-challenge/tok' }]);

  answer = '';
  await t.rejects(precheckChallenge(listener, 'app.example.test', 'tok', 'tok.key'), {
    code: 'PORTICO_ACME_FAILED',
    message: /challenge pre-check: http:\/\/app\.example\.test\/\.well-known\/acme-challenge\/tok over loopback \(127\.0\.0\.1:\d+\) answered 404/,
  });
  answer = 'other';
  await t.rejects(precheckChallenge(listener, 'app.example.test', 'tok', 'tok.key'), { message: /answered 200, not the key authorization/ });
});

t.test('a listener that is not there fails the pre-check with the connection error', async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await t.rejects(precheckChallenge({ address: '127.0.0.1', port }, 'a.test', 'tok', 'k'), { message: /failed: ECONNREFUSED/ });
});

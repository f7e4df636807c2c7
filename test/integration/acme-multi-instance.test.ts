import t from 'tap';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { eventually } from '../helpers/eventually.js';
import { startPebble } from '../helpers/start-pebble.js';
import { startPortico } from '../helpers/start-portico.js';
import { startRedis } from '../helpers/start-redis.js';


/** The serial of the certificate served for `servername`, verified against `ca` (undefined if it does not verify). */
function verifiedSerial(port: number, servername: string, ca: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca }, () => {
      const serial = new X509Certificate(socket.getPeerCertificate().raw).serialNumber;
      socket.destroy();
      resolve(serial);
    });
    socket.on('error', () => resolve(undefined));
  });
}

t.test('two gateways sharing Redis: one orders, the other answers its HTTP-01 challenge, both serve the certificate', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const preamble = `listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" }
tls: { certs: ./certs }
redis: { url: "${redis.url}", prefix: "mi:" }
`;
  const placeholder = `hosts:
  placeholder.test: { tls: off, routes: [ { respond: { body: "x" } } ] }
`;
  const a = await startPortico(placeholder, { preamble, watch: false });
  t.teardown(() => a.close());
  const b = await startPortico(placeholder, { preamble, watch: false });
  t.teardown(() => b.close());

  // Pebble validates through B's HTTP listener only; A is the instance that orders.
  const pebble = await startPebble({ httpPort: b.http });
  t.teardown(() => pebble.stop());
  const acme = `listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" }
tls:
  certs: ./certs
  acme: { email: ops@example.test, directory: "${pebble.directoryUrl}", caFile: "${pebble.caFile}" }
redis: { url: "${redis.url}", prefix: "mi:" }
hosts:
  shop.test:
    aliases: [www.shop.test]
    routes: [ { respond: { body: "shop" } } ]
`;
  await a.replaceConfig(acme);
  t.ok((await a.gateway.reload('test')).ok);
  const serialA = await eventually(() => verifiedSerial(a.https, 'shop.test', pebble.rootPem), { within: 30_000, message: 'A serves the issued certificate' });
  t.equal(a.logs.filter({ event: 'certificate', action: 'issued' }).length, 1, 'A ordered once');

  await b.replaceConfig(acme);
  t.ok((await b.gateway.reload('test')).ok);
  const serialB = await eventually(() => verifiedSerial(b.https, 'www.shop.test', pebble.rootPem), { within: 30_000, message: 'B serves it too' });
  t.equal(serialB, serialA, 'both instances serve the same certificate');
  t.equal(b.logs.filter({ event: 'certificate', action: 'issued' }).length, 0, 'B did not order');
});

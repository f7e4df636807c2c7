import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { startPebble } from '../helpers/start-pebble.js';
import { removeDir, type PorticoProcess } from './helpers/portico-process.js';
import { APP, config, issued, issuedCount, pebbleCertificate, start, startApp } from './helpers/acme-scenario.js';

// SPEC §4 Workers with ACME (Pebble): one order per name for the whole instance, placed by the
// supervisor, and every worker serves the certificate it stored, without a restart.

/** One HTTPS request on a fresh connection: the serial of the certificate presented, and the status. */
function fetchOnce(port: number): Promise<{ serial: string; status: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', servername: APP, headers: { host: APP }, rejectUnauthorized: false, agent: false }, (res) => {
      const serial = new X509Certificate((res.socket as import('node:tls').TLSSocket).getPeerCertificate().raw).serialNumber;
      res.resume();
      res.on('end', () => resolve({ serial, status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    req.end();
  });
}

const servingWorkers = (p: PorticoProcess) => new Set(p.find((l) => l.event === 'access' && l.host === APP).map((l) => l.worker));

t.test('two workers: one ACME order, and every worker serves the certificate', async (t) => {
  const app = await startApp(t);
  const portico = await start(t, { app, workers: 2, access: true });
  t.teardown(() => removeDir(portico.dir));
  const pebble = await startPebble({ httpPort: portico.http });
  t.teardown(() => pebble.stop());

  await portico.writeConfig(config({ app, pebble, workers: 2, access: true }));
  const cert = await pebbleCertificate(portico.https, APP);
  t.match(cert.issuer, /Pebble Intermediate/, 'issued by Pebble and served');
  t.equal(await issuedCount(portico, 1), 1, 'one order');
  t.same(new Set(issued(portico).map((l) => l.worker)), new Set([0]), 'placed by the supervisor');

  // Fresh connections: the round robin hands them to both workers.
  const replies = [];
  for (let i = 0; i < 10; i++) replies.push(await fetchOnce(portico.https));
  t.same(new Set(replies.map((r) => r.status)), new Set([200]), 'every request answered');
  t.same(new Set(replies.map((r) => r.serial)), new Set([cert.serial]), 'every connection got the Pebble certificate');
  await eventually(() => servingWorkers(portico).size === 2, { message: 'access lines from both workers' });
  t.same([...servingWorkers(portico)].sort(), [1, 2], 'served by both workers');
  t.equal(issued(portico).length, 1, 'still one order');
});

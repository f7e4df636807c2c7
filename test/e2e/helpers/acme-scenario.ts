import { X509Certificate } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { eventually } from '../../helpers/eventually.js';
import type { PebbleProcess } from '../../helpers/start-pebble.js';
import { startPorticoProcess, type PorticoProcess } from './portico-process.js';
import { startTraffic, type Traffic } from './traffic.js';

/** Shared pieces of the ACME scenarios: a gateway config, its certificate as served, its log lines. */

// Names no system resolver knows: only pebble-challtestsrv (Pebble's DNS) answers for them.
// Portico must never need to resolve them itself (SPEC §3 ACME).
export const APP = 'app.e2e.test';
const ISSUANCE_MS = 30_000;

export interface Served {
  readonly serial: string;
  readonly issuer: string;
}

/** The certificate Portico presents for `servername` over TLS with SNI. */
export function served(port: number, servername: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const cert = new X509Certificate(socket.getPeerCertificate().raw);
      socket.destroy();
      resolve({ serial: cert.serialNumber, issuer: cert.issuer });
    });
    socket.on('error', reject);
  });
}

/** Resolves with the certificate once Pebble's intermediate issued the one served for `name`. */
export function pebbleCertificate(port: number, name: string, notSerial?: string): Promise<Served> {
  return eventually(async () => {
    const cert = await served(port, name);
    return /Pebble Intermediate/.test(cert.issuer) && cert.serial !== notSerial ? cert : undefined;
  }, { within: ISSUANCE_MS, message: `a Pebble certificate for ${name}${notSerial ? ` other than ${notSerial}` : ''}` });
}

/** The application behind the ACME host: answers 200 "app". */
export async function startApp(t: Tap): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('app\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** POSTs to the admin listener (e.g. `/reload`); resolves with the status. */
export function adminPost(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, method: 'POST' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject).end();
  });
}

/** The part of a tap test these helpers use. */
export interface Tap {
  teardown(fn: () => unknown): void;
}

/** What varies between the scenarios' configs. */
export interface ConfigOptions {
  readonly app: string;
  readonly pebble?: PebbleProcess;
  readonly renewBefore?: string;
  readonly redis?: string;
  readonly extraHosts?: readonly string[];
  /** `workers:` (one process when absent). */
  readonly workers?: number;
  /** Write access lines (off by default). */
  readonly access?: boolean;
}

/** routes.yaml on loopback ports 0; without `pebble`, no ACME (the hosts get self-signed certificates). */
export function config(o: ConfigOptions): string {
  const acme = o.pebble
    ? `\n  acme: { email: ops@e2e.test, directory: "${o.pebble.directoryUrl}", caFile: "${o.pebble.caFile}", renewBefore: ${o.renewBefore ?? '30d'} }`
    : '';
  const hosts = [APP, ...(o.extraHosts ?? [])].map((h) => `  ${h}:\n    routes: [ { upstream: "${o.app}" } ]\n`).join('');
  return `listen: { http: "127.0.0.1:0", https: "127.0.0.1:0" }
admin: 127.0.0.1:0
tls:
  certs: ./certs${acme}
${o.redis ? `redis: { url: "${o.redis}", prefix: "e2e:" }\n` : ''}${o.workers ? `workers: ${o.workers}\n` : ''}log: { level: info, access: ${o.access === true} }
hosts:
${hosts}`;
}

/** Starts the built CLI with `config(o)`; stopped in teardown. */
export async function start(t: Tap, o: ConfigOptions & { dir?: string }): Promise<PorticoProcess> {
  const portico = await startPorticoProcess({ config: config(o), ...(o.dir ? { dir: o.dir } : {}) });
  t.teardown(() => portico.stop());
  return portico;
}

/** The `issued` certificate lines logged so far for `host`. */
export const issued = (p: PorticoProcess, host = APP) => p.find((l) => l.event === 'certificate' && l.action === 'issued' && l.host === host);
/** Waits until `n` issued lines are logged (lines arrive up to ~1 s after the event), then counts them. */
export async function issuedCount(p: PorticoProcess, n: number, host = APP): Promise<number> {
  await eventually(() => issued(p, host).length >= n, { within: 5_000, message: `${n} issued line(s) for ${host}` });
  return issued(p, host).length;
}
/** The `ordering` certificate lines logged so far. */
export const ordering = (p: PorticoProcess) => p.find((l) => l.event === 'certificate' && l.result === 'ordering');

/** HTTPS keep-alive traffic with SNI for the ACME host, every ~50 ms on two loops. */
export function httpsTraffic(t: Tap, portico: PorticoProcess): Traffic {
  const traffic = startTraffic({ port: portico.https, host: APP, tls: { servername: APP }, concurrency: 2, intervalMs: 50 });
  t.teardown(() => traffic.stop());
  return traffic;
}

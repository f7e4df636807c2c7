import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A real Pebble ACME CA (plus pebble-challtestsrv as its DNS) on loopback, owned by one test. */
export interface PebbleProcess {
  readonly directoryUrl: string;
  /** CA file that trusts Pebble's own HTTPS listener: what `tls.acme.caFile` points at. */
  readonly caFile: string;
  /** Pebble's issuing root (from the management port `/roots/0`); issued chains verify against it. */
  readonly rootPem: string;
  readonly pids: readonly number[];
  /**
   * Makes pebble-challtestsrv answer A queries for `host` with `addresses` instead of 127.0.0.1
   * (through its management API), e.g. an address nothing listens on: an order Pebble cannot validate.
   */
  setDnsA(host: string, addresses: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

const STARTUP_DEADLINE_MS = 10_000;
const MAX_PORT_ATTEMPTS = 10;

/**
 * Starts pebble-challtestsrv (DNS only: every name resolves to 127.0.0.1) and Pebble with real
 * HTTP-01 validation against `httpPort` (start the challenge server first, on port 0, and pass
 * its port). Neither can listen on port 0, so random ports are tried and retried when a bind
 * fails (the process exits), never probed-and-closed. Register `stop` in `t.teardown`.
 */
export async function startPebble(opts: { httpPort: number; dir?: string }): Promise<PebbleProcess> {
  // The caller may own the directory (e.g. t.testdir()), so caFile outlives a stopped Pebble.
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'portico-pebble-'));
  const certFile = path.join(dir, 'pebble.crt');
  const keyFile = path.join(dir, 'pebble.key');
  // Pebble's HTTPS listener certificate, made per run (tests only may shell out to openssl).
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-keyout', keyFile, '-out', certFile, '-subj', '/CN=Pebble test listener', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const ca = readFileSync(certFile, 'utf8');
  const owned: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(owned.splice(0).map(kill));
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { dnsPort, managementPort } = await startDns(owned);
    const setDnsA = (host: string, addresses: readonly string[]) => post(`http://127.0.0.1:${managementPort}/add-a`, JSON.stringify({ host, addresses }));
    for (let attempt = 0; attempt < MAX_PORT_ATTEMPTS; attempt++) {
      const port = randomInt(20_000, 60_000);
      const mgmt = randomInt(20_000, 60_000);
      const configFile = path.join(dir, 'pebble.json');
      writeFileSync(configFile, JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${port}`, managementListenAddress: `127.0.0.1:${mgmt}`,
          certificate: certFile, privateKey: keyFile,
          httpPort: opts.httpPort, tlsPort: 1, ocspResponderURL: '', externalAccountBindingRequired: false,
        },
      }));
      // NOSLEEP: validate at once (not after a random 0-15 s); NONCEREJECT=0: no injected badNonce retries.
      const child = spawn('pebble', ['-config', configFile, '-dnsserver', `127.0.0.1:${dnsPort}`, '-strict'], {
        env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      if (await answers(child, () => get(`https://127.0.0.1:${port}/dir`, ca))) {
        owned.push(child);
        const rootPem = await get(`https://127.0.0.1:${mgmt}/roots/0`, ca);
        return { directoryUrl: `https://127.0.0.1:${port}/dir`, caFile: certFile, rootPem, pids: owned.map((c) => c.pid ?? -1), setDnsA, stop };
      }
      await kill(child);
    }
    throw new Error('pebble did not start');
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startDns(owned: ChildProcess[]): Promise<{ dnsPort: number; managementPort: number }> {
  for (let attempt = 0; attempt < MAX_PORT_ATTEMPTS; attempt++) {
    const dnsPort = randomInt(20_000, 60_000);
    const mgmt = randomInt(20_000, 60_000);
    const child = spawn('pebble-challtestsrv', ['-http01', '', '-https01', '', '-tlsalpn01', '', '-dns01', `127.0.0.1:${dnsPort}`,
      '-management', `127.0.0.1:${mgmt}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''], { stdio: ['ignore', 'ignore', 'ignore'] });
    // The management API starts after the DNS listeners: once it answers, DNS is up too.
    if (await answers(child, () => get(`http://127.0.0.1:${mgmt}/`, undefined, true))) {
      owned.push(child);
      return { dnsPort, managementPort: mgmt };
    }
    await kill(child);
  }
  throw new Error('pebble-challtestsrv did not start');
}

/** Polls `probe` until it succeeds (true) or the process exits, e.g. on a bind failure (false). */
async function answers(child: ChildProcess, probe: () => Promise<unknown>): Promise<boolean> {
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  while (Date.now() < deadline && !exited) {
    try {
      await probe();
      return !exited;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  return false;
}

function get(url: string, ca: string | undefined, anyStatus = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = url.startsWith('https:') ? https.get(url, { ca }) : http.get(url);
    request.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (anyStatus || res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`))));
    });
    request.on('error', reject);
    request.setTimeout(2_000, () => request.destroy(new Error('timeout')));
  });
}

function post(url: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url}: ${res.statusCode}`))));
    });
    request.on('error', reject);
    request.end(body);
  });
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

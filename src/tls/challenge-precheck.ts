import { request } from 'node:http';
import { PorticoError } from '../errors.js';

/** Where Portico's own `http` listener is bound (as `server.address()` reports it). */
export interface HttpListenerAddress {
  readonly address: string;
  readonly port: number;
}

/** A challenge answer that takes longer than this over loopback means something is wrong. */
const PRECHECK_TIMEOUT_MS = 5_000;

/**
 * The loopback address that reaches a listener: a wildcard bind is reached on loopback of the
 * same family; a specific address only on that address.
 */
export function loopbackFor(listener: HttpListenerAddress): string {
  if (listener.address === '0.0.0.0' || listener.address === '') return '127.0.0.1';
  if (listener.address === '::') return '::1';
  return listener.address;
}

/**
 * Fetches an HTTP-01 challenge from Portico's own `http` listener over loopback, with `name` as
 * Host, and resolves only if it answers the key authorization. It catches a challenge the
 * listener cannot serve (a challenge store another instance cannot read, say) before the CA
 * spends one of its failed validations, and it never resolves or reaches the public name:
 * behind NAT without hairpin or with split DNS the server often cannot (acme-client's own
 * check in `auto()`, which does, is switched off).
 */
export function precheckChallenge(listener: HttpListenerAddress, name: string, token: string, keyAuthorization: string): Promise<void> {
  const host = loopbackFor(listener);
  const path = `/.well-known/acme-challenge/${token}`;
  const where = `http://${name}${path} over loopback (${host.includes(':') ? `[${host}]` : host}:${listener.port})`;
  return new Promise((resolve, reject) => {
    const fail = (why: string) => reject(new PorticoError('PORTICO_ACME_FAILED', `challenge pre-check: ${where} ${why}`));
    const req = request({ host, port: listener.port, path, agent: false, headers: { host: name, 'user-agent': 'portico-acme-precheck', connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      res.on('end', () => {
        if (res.statusCode === 200 && body.trim() === keyAuthorization) resolve();
        else fail(`answered ${res.statusCode ?? '?'}, not the key authorization`);
      });
      res.on('error', (err) => fail(`failed: ${err.message}`));
    });
    req.setTimeout(PRECHECK_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${PRECHECK_TIMEOUT_MS} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => fail(`failed: ${err.code ?? err.message}`));
    req.end();
  });
}

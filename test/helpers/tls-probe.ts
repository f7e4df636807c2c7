import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { CertificateManager } from '../../src/tls/certificate-manager.js';

/** A real TLS server using the manager's SNI callback, on 127.0.0.1 port 0. */
export async function startTlsServer(manager: CertificateManager): Promise<{ port: number; close(): Promise<void> }> {
  const server = tls.createServer({ ...manager.serverOptions() }, (socket) => socket.end('ok'));
  manager.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Connects with `servername` (none when undefined) and returns the certificate the server presented. */
export function presentedCertificate(port: number, servername: string | undefined, opts: tls.ConnectionOptions = {}): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(servername ? { servername } : {}), ...opts }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.destroy();
      resolve(new X509Certificate(raw));
    });
    socket.on('error', reject);
  });
}

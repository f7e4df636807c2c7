import type { AcmeConfig, Config, HostConfig, TlsMode } from '../../src/config/config-types.js';

/** A normalised host for TLS tests: only the name, aliases and TLS mode matter here. */
export function tlsHost(name: string, tls: TlsMode, aliases: string[] = []): HostConfig {
  return { name, aliases, tls, headers: {}, rateLimit: undefined, maxBodySize: undefined, basicAuth: undefined, noindex: false, access: undefined, errorPages: {}, routes: [] };
}

/** A normalised Config with the given hosts; everything unrelated to TLS is left at defaults. */
export function tlsConfig(certsDir: string, hosts: HostConfig[], acme?: AcmeConfig, minVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.2'): Config {
  return {
    file: 'routes.yaml',
    listen: { http: { host: '127.0.0.1', port: 0 }, https: { host: '127.0.0.1', port: 0 } },
    admin: undefined,
    tls: { certsDir, minVersion, acme },
    redis: undefined,
    trustedProxies: [],
    log: { level: 'info', access: false },
    workers: 1,
    upstreams: new Map(),
    errorPages: {},
    hosts,
  };
}

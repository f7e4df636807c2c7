import type { Config } from './config-types.js';

/** The active config as JSON for `GET /config`, with password hashes and Redis credentials hidden. */
export function redactConfig(config: Config): unknown {
  return {
    ...config,
    redis: config.redis ? { ...config.redis, url: redactUrl(config.redis.url) } : undefined,
    upstreams: Object.fromEntries(config.upstreams),
    hosts: config.hosts.map((h) => ({
      ...h,
      basicAuth: h.basicAuth
        ? { realm: h.basicAuth.realm, forwardAuthorization: h.basicAuth.forwardAuthorization, users: Object.fromEntries(Object.keys(h.basicAuth.users).map((u) => [u, '[redacted]'])) }
        : undefined,
    })),
  };
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = 'redacted';
    return u.toString();
  } catch {
    return '[redacted]'; // unparsable: show nothing rather than a possible secret
  }
}

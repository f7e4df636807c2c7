import type { Config, ErrorPagesConfig } from './config-types.js';

/** The active config as JSON for `GET /config`, with password hashes and Redis credentials hidden. */
export function redactConfig(config: Config): unknown {
  return {
    ...config,
    redis: config.redis ? { ...config.redis, url: redactUrl(config.redis.url) } : undefined,
    upstreams: Object.fromEntries(config.upstreams),
    errorPages: pageFiles(config.errorPages),
    hosts: config.hosts.map((h) => ({
      ...h,
      errorPages: pageFiles(h.errorPages),
      basicAuth: h.basicAuth
        ? { realm: h.basicAuth.realm, forwardAuthorization: h.basicAuth.forwardAuthorization, users: Object.fromEntries(Object.keys(h.basicAuth.users).map((u) => [u, '[redacted]'])) }
        : undefined,
    })),
  };
}

/** Error pages as the files they came from: the HTML itself would drown the rest. */
function pageFiles(pages: ErrorPagesConfig): Record<string, string> {
  return Object.fromEntries(Object.entries(pages).map(([status, page]) => [status, page.file]));
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

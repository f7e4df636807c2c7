import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { UrlWithStringQuery } from 'node:url';
import { NO_BODY } from './request-body.js';

/** What http-proxy is handed for one upstream target, built once per target, never per request. */
export interface TargetProxyOptions {
  /** The target as http-proxy's legacy url.parse would have produced it (it would parse a string per request). */
  readonly target: Readonly<Partial<UrlWithStringQuery>>;
  /** For web(): through the target's keep-alive agent, the head written by the engine itself. */
  readonly web: Readonly<Record<string, unknown>>;
  /** `web` for a request without a body: the upstream request is ended at once (NO_BODY). */
  readonly bodilessWeb: Readonly<Record<string, unknown>>;
  /** For ws(): an upgrade gets a connection of its own, which becomes the tunnel. */
  readonly ws: Readonly<Record<string, unknown>>;
}

/**
 * Builds a target's options. `toProxy` makes http-proxy take `req.url` as is instead of
 * url.parse-ing it again, `prependPath: false` keeps the target's (empty) path out of it, and
 * `selfHandleResponse` lets the engine write the response head itself.
 */
export function targetProxyOptions(url: URL, agent: HttpAgent): TargetProxyOptions {
  const target = Object.freeze({ protocol: url.protocol, host: url.host, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path: null, pathname: null });
  const web = Object.freeze({ target, agent, selfHandleResponse: true, toProxy: true, prependPath: false });
  return Object.freeze({
    target,
    web,
    bodilessWeb: Object.freeze({ ...web, buffer: NO_BODY }),
    ws: Object.freeze({ target, toProxy: true, prependPath: false }),
  });
}

// Connections for a replay after a stale pooled socket: never pooled, so never stale.
const FRESH_HTTP_AGENT = new HttpAgent({ keepAlive: false });
const FRESH_HTTPS_AGENT = new HttpsAgent({ keepAlive: false });

/** The options for a bodiless request on a new, unpooled connection (rare: allocated per replay). */
export function freshConnectionOptions(options: TargetProxyOptions): Readonly<Record<string, unknown>> {
  const agent = options.target.protocol === 'https:' ? FRESH_HTTPS_AGENT : FRESH_HTTP_AGENT;
  return { ...options.bodilessWeb, agent };
}

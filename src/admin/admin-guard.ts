import type { IncomingMessage } from 'node:http';

/** Host headers a loopback admin API answers to; others are refused to defeat DNS rebinding. */
const LOOPBACK_HOST = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d{1,5})?$/i;

/** Methods that only read: every other method may change state and needs a same-origin check. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Why an admin request is refused (`403`), or undefined when it may proceed (SPEC §4 Dashboard).
 *
 * A browser on the operator's machine can be made to send requests to loopback: a page on any
 * site can POST to `http://127.0.0.1:9901/reload`, and a rebound DNS name can point at loopback
 * and read the answers. So every request must name a loopback address or `localhost` in `Host`
 * (a rebound name keeps the attacker's name there), and a state-changing request that carries
 * an `Origin` must come from the admin page itself. The admin origin is taken from `Host`, not
 * from the bound port, so a page reached through an SSH tunnel on another local port still
 * works; `Host` is already known to be loopback at that point. Requests without `Origin`
 * (curl, scripts) are not from a browser page and pass, as with Grafana and Jupyter.
 */
export function adminRefusal(req: IncomingMessage): string | undefined {
  const host = req.headers.host ?? '';
  if (!LOOPBACK_HOST.test(host)) return 'the admin API answers only to a loopback Host';
  if (SAFE_METHODS.has(req.method ?? 'GET')) return undefined;
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  if (!sameOrigin(origin, host)) return 'cross-origin request refused';
  return undefined;
}

function sameOrigin(origin: string, host: string): boolean {
  try {
    const o = new URL(origin);
    // URL drops the default port, so `Origin: http://localhost` matches `Host: localhost:80`.
    return o.protocol === 'http:' && o.origin === new URL(`http://${host}`).origin;
  } catch {
    // "null" (sandboxed frames, file:) or garbage: not the admin page.
    return false;
  }
}

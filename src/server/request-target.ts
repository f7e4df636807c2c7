import type { IncomingMessage } from 'node:http';

/**
 * Brings an HTTP/1.x request target into origin form (RFC 9112 §3.2). An absolute-form target
 * (`GET http://host/path HTTP/1.1`, as sent to proxies) is accepted, and its authority becomes
 * the request's host for routing, auth and the upstream `Host`, which RFC 9112 §3.2.2 says wins
 * over the Host field. Returns false for a target that cannot be served (the caller answers 400).
 */
export function toOriginForm(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  if (url.charCodeAt(0) === 47 /* / */) return true;
  const scheme = ABSOLUTE_FORM.exec(url);
  if (!scheme) return url === '*'; // asterisk-form (OPTIONS *) is answered, never routed
  const rest = url.slice(scheme[0].length);
  const slash = rest.search(/[/?]/);
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  if (!AUTHORITY.test(authority)) return false;
  const path = slash < 0 ? '/' : rest.slice(slash);
  req.url = path.charCodeAt(0) === 47 ? path : `/${path}`;
  req.headers.host = authority;
  return true;
}

const ABSOLUTE_FORM = /^https?:\/\//i;
/** host[:port] without userinfo (RFC 9112 §3.2.2 forbids it), IPv6 literals in brackets. */
const AUTHORITY = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

/**
 * Why a request's framing or Host cannot be forwarded safely, or undefined when it can
 * (SPEC §3 Bad input, RFC 9112 §6.3 and §3.2): both Content-Length and Transfer-Encoding, a
 * transfer coding other than plain `chunked` (it would change meaning on the way through), or
 * more than one Host field (Node keeps the first and drops the rest silently).
 */
export function framingProblem(req: IncomingMessage): string | undefined {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) {
    if (req.headers['content-length'] !== undefined) return 'both Content-Length and Transfer-Encoding';
    if (te.length !== 7 || te.toLowerCase() !== 'chunked') return 'a transfer coding other than chunked';
  }
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host' && ++hosts > 1) return 'more than one Host field';
  }
  return undefined;
}

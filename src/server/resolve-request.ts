import type { IncomingMessage } from 'node:http';
import type { ErrorPageTable } from '../pipeline/error-pages.js';
import { DEFAULT_HEADER_PLAN, type HeaderPlan } from '../pipeline/header-plan.js';
import { BAD_REQUEST, UNKNOWN_HOST } from '../pipeline/local-replies.js';
import type { RequestContext } from '../pipeline/request-context.js';
import type { LocalReply } from '../pipeline/step.js';
import { isHttp2 } from '../proxy/http2-request.js';
import { normalizeHost } from '../routing/normalize-host.js';
import type { CompiledRoute, RouteTable } from '../routing/route-table.js';
import type { EdgeContext } from './edge-context.js';
import { framingProblem } from './request-target.js';

/** Where a request goes: a route whose steps and action run next, or Portico's own reply. */
export type Resolution =
  | { readonly route: CompiledRoute; readonly reply: undefined; readonly plan: HeaderPlan; readonly pages?: undefined }
  | { readonly route: undefined; readonly reply: LocalReply; readonly plan: HeaderPlan; readonly pages: ErrorPageTable | undefined };

/**
 * The one decision both requests and upgrades go through, so every guard applies to both:
 * framing and Host checks, host lookup, the HTTPS redirect, path sanity, route match and the
 * host's answer for unrouted paths (403, noindex robots.txt, 404). The ACME challenge stays
 * with requests (it is never an upgrade).
 */
export function resolveRequest(gw: Pick<EdgeContext, 'httpsPort'>, table: RouteTable, req: IncomingMessage, ctx: RequestContext): Resolution {
  if (!isHttp2(req) && framingProblem(req) !== undefined) return local(BAD_REQUEST, DEFAULT_HEADER_PLAN);
  const host = table.lookupHost(normalizeHost(req.headers.host ?? (req.headers[':authority'] as string | undefined)));
  if (!host) return local(UNKNOWN_HOST, DEFAULT_HEADER_PLAN, table.errorPages);
  ctx.hostLabel = host.name;
  const plan = ctx.proto === 'https' ? host.httpsHeaders : host.httpHeaders;
  if (ctx.proto === 'http' && host.tls !== 'off') return local({ status: 308, headers: { location: httpsLocation(req, gw.httpsPort) } }, plan);
  if (ctx.matchPath === '') return local(BAD_REQUEST, plan);
  const route = host.matchRoute(ctx.matchPath);
  if (route) {
    ctx.routeLabel = route.path;
    return { route, reply: undefined, plan };
  }
  return local(host.unrouted(ctx), plan, host.errorPages);
}

function local(reply: LocalReply, plan: HeaderPlan, pages?: ErrorPageTable): Resolution {
  return { route: undefined, reply, plan, pages };
}

function httpsLocation(req: IncomingMessage, httpsPort: number): string {
  const name = normalizeHost(req.headers.host);
  const port = httpsPort === 443 ? '' : `:${httpsPort}`;
  const target = req.url && req.url.startsWith('/') ? req.url : '/';
  return `https://${name}${port}${target}`;
}

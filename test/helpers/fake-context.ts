import type { IncomingMessage } from 'node:http';
import type { RequestContext } from '../../src/pipeline/request-context.js';

/** A RequestContext for step unit tests: no socket, just the fields steps read. */
export function fakeContext(opts: { clientIp?: string; headers?: Record<string, string | string[]>; method?: string; path?: string; proto?: 'http' | 'https' } = {}): RequestContext {
  const clientIp = opts.clientIp ?? '1.1.1.1';
  return {
    req: { headers: opts.headers ?? {}, method: opts.method ?? 'GET', url: opts.path ?? '/' } as unknown as IncomingMessage,
    clientIp,
    peerIp: clientIp,
    requestId: 'r1',
    matchPath: opts.path ?? '/',
    proto: opts.proto ?? 'http',
    startedAt: 0,
    accessLog: true,
    hostLabel: '-',
    routeLabel: '-',
    targetLabel: undefined,
    refundTokens: undefined,
  };
}

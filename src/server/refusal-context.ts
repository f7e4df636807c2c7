import type { IncomingMessage } from 'node:http';
import type { RequestContext } from '../pipeline/request-context.js';
import type { RouteTable } from '../routing/route-table.js';
import { createRequestContext } from './create-request-context.js';

/**
 * The context of a request the listener refused before host or route lookup (405 CONNECT,
 * 431, 505), so that it gets its access line and counts in the metrics like any other.
 */
export function refusalContext(table: RouteTable, req: IncomingMessage, proto: 'http' | 'https', requestId: string): RequestContext {
  return createRequestContext(table, req, proto, requestId, '');
}

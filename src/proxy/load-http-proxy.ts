import { createRequire } from 'node:module';
import type Server from 'http-proxy';

const require = createRequire(import.meta.url);

/**
 * Loads http-proxy 1.18.1 with two guards for that unmaintained release:
 * - it calls `util._extend`, which Node 22+ flags with a DEP0060 runtime warning on every
 *   start. Before the first load `util._extend` points at an equivalent that is not
 *   deprecated (it copies own enumerable properties, exactly what http-proxy needs);
 * - its `urlJoin` collapses repeated slashes in the request path (`/a//b` → `/a/b`), but the
 *   upstream must receive the path as sent (SPEC §3). Portico never prepends a target path
 *   (`prependPath: false`), so for an empty target path the request path passes unchanged.
 */
export function loadHttpProxy(): typeof Server {
  const util = require('node:util') as { _extend?: unknown };
  if (!Object.prototype.hasOwnProperty.call(util, '__porticoExtend')) {
    const extend = (target: object, source: object | null | undefined) => (source ? Object.assign(target, source) : target);
    Object.defineProperty(util, '__porticoExtend', { value: true });
    util._extend = extend;
  }
  const common = require('http-proxy/lib/http-proxy/common') as { urlJoin: (...parts: string[]) => string; __portico?: true };
  if (!common.__portico) {
    const urlJoin = common.urlJoin;
    common.urlJoin = (...parts: string[]) => (parts.length === 2 && parts[0] === '' ? parts[1]! : urlJoin(...parts));
    common.__portico = true;
  }
  return require('http-proxy') as typeof Server;
}

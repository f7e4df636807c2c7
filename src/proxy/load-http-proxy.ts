import { createRequire } from 'node:module';
import type Server from 'http-proxy';

const require = createRequire(import.meta.url);

/**
 * Loads http-proxy 1.18.1. That release calls `util._extend`, which Node 22+ flags with a
 * DEP0060 runtime warning on every start. Before the first load we point `util._extend` at an
 * equivalent that is not deprecated (it copies own enumerable properties, exactly what
 * http-proxy needs), so operators do not see a warning about code they cannot change.
 */
export function loadHttpProxy(): typeof Server {
  const util = require('node:util') as { _extend?: unknown };
  if (!Object.prototype.hasOwnProperty.call(util, '__porticoExtend')) {
    const extend = (target: object, source: object | null | undefined) => (source ? Object.assign(target, source) : target);
    Object.defineProperty(util, '__porticoExtend', { value: true });
    util._extend = extend;
  }
  return require('http-proxy') as typeof Server;
}

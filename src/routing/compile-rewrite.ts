import type { RouteConfig } from '../config/config-types.js';
import { replacePrefix } from './path-match.js';

/**
 * The route's `stripPrefix` or `rewrite` as one function of the request target and its
 * normalised path, or undefined when the path goes upstream as sent. The query is kept.
 */
export function compileRewrite(rc: Pick<RouteConfig, 'path' | 'rewrite' | 'stripPrefix'>): ((url: string, matchPath: string) => string) | undefined {
  const segments = rc.path === '/' ? 0 : rc.path.split('/').length - 1;
  if (rc.rewrite !== undefined) {
    const replacement = rc.rewrite.replace(/\/+$/, '');
    return (url, matchPath) => replacePrefix(url, segments, replacement, matchPath);
  }
  if (rc.stripPrefix && segments > 0) return (url, matchPath) => replacePrefix(url, segments, '', matchPath);
  return undefined;
}

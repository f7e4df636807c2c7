import type { RequestContext } from '../request-context.js';
import type { LocalReply, Step } from '../step.js';

// One frozen reply shared by every request: nothing is allocated on this path.
const ROBOTS_REPLY: LocalReply = Object.freeze({
  status: 200,
  headers: Object.freeze({ 'Content-Type': 'text/plain; charset=utf-8' }),
  body: 'User-agent: *\nDisallow: /\n',
});

/**
 * Answers `GET`/`HEAD /robots.txt` on `noindex` hosts with a disallow-all file (SPEC §3 noindex).
 * It runs before basic-auth, so crawlers can read it without credentials.
 */
export const robotsTxtStep: Step = (ctx: RequestContext) => {
  if (ctx.matchPath !== '/robots.txt') return undefined;
  const method = ctx.req.method;
  return method === 'GET' || method === 'HEAD' ? ROBOTS_REPLY : undefined;
};

import { NOT_FOUND } from '../pipeline/local-replies.js';
import type { RequestContext } from '../pipeline/request-context.js';
import type { LocalReply, Step } from '../pipeline/step.js';
import { robotsTxtStep } from '../pipeline/steps/robots-txt.js';

/**
 * A host's answer for a path no route covers: its allow/deny first (403, so a refused client
 * learns nothing about which paths exist), then robots.txt on a noindex host, else 404.
 * Access and robots steps are synchronous (a memoised lookup, a path test): the reply is there at once.
 */
export function compileUnroutedReply(access: Step | undefined, noindex: boolean): (ctx: RequestContext) => LocalReply {
  if (!access && !noindex) return notFound;
  return (ctx) => (access?.(ctx) as LocalReply | undefined) ?? (noindex ? (robotsTxtStep(ctx) as LocalReply | undefined) : undefined) ?? NOT_FOUND;
}

const notFound = (): LocalReply => NOT_FOUND;

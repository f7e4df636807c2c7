import type { IncomingMessage } from 'node:http';
import t from 'tap';
import type { RequestContext } from '../../../../src/pipeline/request-context.js';
import { robotsTxtStep } from '../../../../src/pipeline/steps/robots-txt.js';

function ctx(method: string, matchPath: string): RequestContext {
  return {
    req: { headers: {}, method } as unknown as IncomingMessage,
    clientIp: '1.1.1.1',
    peerIp: '1.1.1.1',
    requestId: 'r1',
    matchPath,
    proto: 'http',
    startedAt: 0,
    accessLog: true,
    hostLabel: '-',
    routeLabel: '-',
    targetLabel: undefined,
    refundTokens: undefined,
  };
}

t.test('GET and HEAD /robots.txt get a disallow-all file', async (t) => {
  for (const method of ['GET', 'HEAD']) {
    t.match(robotsTxtStep(ctx(method, '/robots.txt')), {
      status: 200,
      headers: { 'Content-Type': /^text\/plain/ },
      body: 'User-agent: *\nDisallow: /\n',
    });
  }
});

t.test('other methods and paths continue', async (t) => {
  t.equal(robotsTxtStep(ctx('POST', '/robots.txt')), undefined);
  t.equal(robotsTxtStep(ctx('GET', '/robots.txt/x')), undefined);
  t.equal(robotsTxtStep(ctx('GET', '/')), undefined);
});

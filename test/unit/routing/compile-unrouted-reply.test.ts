import t from 'tap';
import { NOT_FOUND } from '../../../src/pipeline/local-replies.js';
import { createAccessControlStep } from '../../../src/pipeline/steps/access-control.js';
import { compileUnroutedReply } from '../../../src/routing/compile-unrouted-reply.js';
import { fakeContext } from '../../helpers/fake-context.js';

const robots = fakeContext({ path: '/robots.txt', clientIp: '10.0.0.1' });
const other = fakeContext({ path: '/nowhere', clientIp: '10.0.0.1' });

t.test('a plain host answers 404 for every unrouted path', async (t) => {
  const unrouted = compileUnroutedReply(undefined, false);
  t.equal(unrouted(robots), NOT_FOUND, 'robots.txt is not special without noindex');
  t.equal(unrouted(other), NOT_FOUND);
});

t.test('a noindex host answers /robots.txt itself, 404 elsewhere', async (t) => {
  const unrouted = compileUnroutedReply(undefined, true);
  t.match(unrouted(robots), { status: 200, body: /Disallow: \// });
  t.equal(unrouted(other), NOT_FOUND);
});

t.test('allow/deny comes first: a refused client gets 403 whatever the path, robots.txt included', async (t) => {
  const unrouted = compileUnroutedReply(createAccessControlStep({ allow: undefined, deny: ['10.0.0.0/8'] }), true);
  t.equal(unrouted(robots).status, 403);
  t.equal(unrouted(other).status, 403);
  const allowed = fakeContext({ path: '/robots.txt', clientIp: '192.0.2.1' });
  t.equal(unrouted(allowed).status, 200, 'an admitted client still gets robots.txt');
});

import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import t from 'tap';
import type { RequestContext } from '../../../src/pipeline/request-context.js';
import { runSteps } from '../../../src/pipeline/run-steps.js';
import type { LocalReply, Step } from '../../../src/pipeline/step.js';

function context(): RequestContext {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/';
  return {
    req,
    clientIp: '203.0.113.9',
    peerIp: '203.0.113.9',
    requestId: 'test',
    matchPath: '/',
    proto: 'https',
    startedAt: 0,
    accessLog: true,
    hostLabel: '-',
    routeLabel: '-',
    targetLabel: undefined,
    refundTokens: undefined,
  };
}

const reply = (status: number): LocalReply => ({ status, body: `${status}\n` });

/** Steps that record their name when they run. */
function recorder() {
  const ran: string[] = [];
  const pass = (name: string): Step => () => void ran.push(name);
  const stop = (name: string, r: LocalReply): Step => () => (ran.push(name), r);
  const later = (name: string, r?: LocalReply): Step => () =>
    new Promise((resolve) => setImmediate(() => (ran.push(name), resolve(r))));
  return { ran, pass, stop, later };
}

t.test('sync steps: the result is not a Promise and every step runs in order', async (t) => {
  const { ran, pass } = recorder();
  const result = runSteps([pass('a'), pass('b'), pass('c')], context());
  t.notOk(result instanceof Promise, 'no Promise is allocated when every step is sync');
  t.equal(result, undefined, 'undefined: the request continues to the action');
  t.same(ran, ['a', 'b', 'c']);
});

t.test('no steps: undefined, synchronously', async (t) => {
  t.equal(runSteps([], context()), undefined);
});

t.test('the first reply stops the chain (sync)', async (t) => {
  const { ran, pass, stop } = recorder();
  const r = reply(429);
  const result = runSteps([pass('robots'), stop('rate-limit', r), pass('auth'), pass('body')], context());
  t.equal(result, r);
  t.same(ran, ['robots', 'rate-limit'], 'later steps never run');
});

t.test('an async step, then sync steps: order kept, result is a Promise', async (t) => {
  const { ran, pass, later } = recorder();
  const result = runSteps([pass('a'), later('b'), pass('c'), pass('d')], context());
  t.ok(result instanceof Promise);
  t.same(ran, ['a'], 'the steps after the async one wait for it');
  t.equal(await result, undefined);
  t.same(ran, ['a', 'b', 'c', 'd']);
});

t.test('an async reply stops the chain', async (t) => {
  const { ran, pass, later } = recorder();
  const r = reply(401);
  const result = runSteps([later('auth', r), pass('body')], context());
  t.equal(await result, r);
  t.same(ran, ['auth']);
});

t.test('a sync reply after an async step stops the rest', async (t) => {
  const { ran, later, stop, pass } = recorder();
  const r = reply(413);
  t.equal(await runSteps([later('a'), stop('b', r), pass('c')], context()), r);
  t.same(ran, ['a', 'b']);
});

t.test('several async steps run one after the other', async (t) => {
  const { ran, later } = recorder();
  await runSteps([later('a'), later('b'), later('c')], context());
  t.same(ran, ['a', 'b', 'c']);
});

t.test('a rejected step rejects the run (the caller logs it and answers 500)', async (t) => {
  const failing: Step = () => Promise.reject(new Error('redis down'));
  await t.rejects(Promise.resolve(runSteps([failing], context())), { message: 'redis down' });
});

t.test('the same context object is passed to every step', async (t) => {
  const ctx = context();
  const seen: RequestContext[] = [];
  const s: Step = (c) => void seen.push(c);
  await runSteps([s, () => Promise.resolve(undefined), s], ctx);
  t.equal(seen.length, 2);
  t.ok(seen.every((c) => c === ctx));
});

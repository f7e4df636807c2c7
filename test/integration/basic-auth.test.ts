import { performance } from 'node:perf_hooks';
import bcrypt from 'bcryptjs';
import t from 'tap';
import { WebSocket } from 'ws';
import { eventually } from '../helpers/eventually.js';
import { request, type Reply } from '../helpers/http-request.js';
import { startPortico } from '../helpers/start-portico.js';
import { echoHandler } from '../helpers/start-upstream.js';
import { startWsEchoUpstream, tryWs, type WsAttempt } from '../helpers/streams.js';

// SPEC §3 Basic Auth (and STYLE §2.9), from the outside: HTTP and WebSocket in, through a real
// Portico, to a real upstream. trustedProxies: [127.0.0.1] lets each test pose as its own
// client IP via X-Forwarded-For, so the gateway-wide failure throttle never leaks between tests.

// Cost 4 keeps the suite fast; the schema accepts any `$2[abxy]$NN$` + 53 characters.
const ALICE_PASSWORD = 'correct horse';
const aliceHash = await bcrypt.hash(ALICE_PASSWORD, 4);
const BOB_PASSWORD = 'b0b-secret';
const bobHash = await bcrypt.hash(BOB_PASSWORD, 4);
// One expensive hash, to tell "bcrypt per request" from "cached" without a fragile clock.
const SLOW_PASSWORD = 'slow-and-steady';
const slowHash = await bcrypt.hash(SLOW_PASSWORD, 12);

const upstream = await startWsEchoUpstream(t, echoHandler('guarded'), { greeting: false });

const portico = await startPortico(`
trustedProxies: [127.0.0.1]
hosts:
  a.test:
    tls: off
    basicAuth: { realm: "Staging A", users: { alice: "${aliceHash}", bob: "${bobHash}" } }
    routes: [ { upstream: "${upstream.target}" } ]
  b.test:
    tls: off
    basicAuth: { realm: "Staging B", users: { alice: "${aliceHash}" } }
    routes: [ { upstream: "${upstream.target}" } ]
  slow.test:
    tls: off
    basicAuth: { realm: Slow, users: { carol: "${slowHash}" } }
    routes: [ { upstream: "${upstream.target}" } ]
`);
t.teardown(() => portico.close());

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** One request to a host as client `ip`, optionally with credentials. */
function get(host: string, ip: string, authorization?: string, path = '/'): Promise<Reply> {
  const headers: Record<string, string> = { host, 'x-forwarded-for': ip };
  if (authorization !== undefined) headers.authorization = authorization;
  return request(portico.http, path, { headers });
}

async function authFailures(): Promise<number> {
  const metrics = await request(portico.admin, '/metrics');
  const line = metrics.body.split('\n').find((l) => l.startsWith('portico_auth_failures_total'));
  return Number(line?.split(' ')[1] ?? 'NaN');
}

t.test('no credentials: 401 with a Basic challenge naming the realm, upstream untouched', async (t) => {
  const before = upstream.requests.length;
  const r = await get('a.test', '10.0.0.1');
  t.equal(r.status, 401);
  t.equal(r.headers['www-authenticate'], 'Basic realm="Staging A"');
  const other = await get('b.test', '10.0.0.1');
  t.equal(other.headers['www-authenticate'], 'Basic realm="Staging B"', 'each host has its own realm');
  const malformed = await get('a.test', '10.0.0.1', 'Bearer abc');
  t.equal(malformed.status, 401, 'a non-Basic Authorization is no credential');
  t.equal(upstream.requests.length, before, 'a refused request never reaches the upstream');
});

t.test('a wrong password gets 401 with the challenge', async (t) => {
  const before = await authFailures();
  const r = await get('a.test', '10.0.0.2', basic('alice', 'wrong'));
  t.equal(r.status, 401);
  t.equal(r.headers['www-authenticate'], 'Basic realm="Staging A"');
  t.equal(await authFailures(), before + 1, 'portico_auth_failures_total counts it');
});

t.test('an unknown user gets 401, even with a password that is valid for another user', async (t) => {
  const r = await get('a.test', '10.0.0.3', basic('mallory', ALICE_PASSWORD));
  t.equal(r.status, 401);
  t.equal(r.headers['www-authenticate'], 'Basic realm="Staging A"');
  const crossed = await get('b.test', '10.0.0.3', basic('bob', BOB_PASSWORD));
  t.equal(crossed.status, 401, 'a user of host A is unknown on host B');
});

t.test('the right credentials are proxied: 200 with the upstream body', async (t) => {
  for (const [user, password] of [['alice', ALICE_PASSWORD], ['bob', BOB_PASSWORD]] as const) {
    const r = await get('a.test', '10.0.0.4', basic(user, password), `/hello-${user}?q=1`);
    t.equal(r.status, 200, user);
    const echo = JSON.parse(r.body) as { name: string; url: string };
    t.equal(echo.name, 'guarded');
    t.equal(echo.url, `/hello-${user}?q=1`);
    t.notOk(r.headers['www-authenticate'], 'no challenge on success');
  }
});

t.test('neither the Authorization value nor a password or hash reaches the logs or GET /config', async (t) => {
  const right = basic('alice', ALICE_PASSWORD);
  const wrong = basic('alice', 'not-the-password-xyz');
  t.equal((await get('a.test', '10.0.0.5', right)).status, 200);
  t.equal((await get('a.test', '10.0.0.5', wrong)).status, 401);
  const config = await request(portico.admin, '/config');
  t.equal(config.status, 200);
  t.match(config.body, /Staging A/, 'the config itself is there');
  const secrets = [right, wrong, right.slice('Basic '.length), wrong.slice('Basic '.length), ALICE_PASSWORD, 'not-the-password-xyz', aliceHash, bobHash, slowHash];
  await eventually(() => portico.logs.filter({ event: 'access', clientIp: '10.0.0.5' }).length >= 2, { message: 'access lines written' });
  const logs = portico.logs.text();
  for (const secret of secrets) {
    t.notOk(logs.includes(secret), `logs do not contain ${secret.slice(0, 12)}…`);
    t.notOk(config.body.includes(secret), `GET /config does not contain ${secret.slice(0, 12)}…`);
  }
  // The hash salt alone (characters 7–29) would also be a leak of the hash.
  t.notOk(config.body.includes(aliceHash.slice(7, 29)), 'not even a fragment of a hash');
});

function openWs(host: string, ip: string, authorization?: string): Promise<WsAttempt> {
  const headers: Record<string, string> = { host, 'x-forwarded-for': ip };
  if (authorization !== undefined) headers.authorization = authorization;
  return tryWs(portico.http, headers);
}

t.test('a WebSocket upgrade is refused with 401 without credentials and proxied with them', async (t) => {
  const refused = await openWs('a.test', '10.0.0.6');
  t.equal(refused.status, 401);
  t.equal(refused.headers?.['www-authenticate'], 'Basic realm="Staging A"');
  t.notOk(refused.ws);

  const wrong = await openWs('a.test', '10.0.0.6', basic('alice', 'nope'));
  t.equal(wrong.status, 401, 'a wrong password is refused too');

  const opened = await openWs('a.test', '10.0.0.6', basic('alice', ALICE_PASSWORD));
  const ws = opened.ws;
  if (ws === undefined) throw new Error(`upgrade refused with ${opened.status}`);
  t.teardown(() => ws.terminate());
  const reply = await new Promise<string>((resolve) => {
    ws.once('message', (data) => resolve(data.toString()));
    ws.send('ping');
  });
  t.equal(reply, 'echo:ping', 'messages flow both ways');
});

t.test('10 wrong credentials from one IP: the 11th request gets 429 with Retry-After, even with the right password', async (t) => {
  const ip = '10.0.1.1';
  for (let i = 0; i < 10; i++) {
    const r = await get('a.test', ip, basic('alice', `guess-${i}`));
    t.equal(r.status, 401, `failure ${i + 1} is a 401`);
  }
  const blocked = await get('a.test', ip, basic('alice', ALICE_PASSWORD));
  t.equal(blocked.status, 429);
  const retryAfter = String(blocked.headers['retry-after']);
  t.match(retryAfter, /^\d+$/, 'Retry-After is whole seconds');
  t.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 60, `the window is 60 s (Retry-After ${retryAfter})`);
  t.equal((await get('a.test', ip)).status, 429, 'a request without credentials is blocked as well');
  t.equal((await get('a.test', '10.0.1.2', basic('alice', ALICE_PASSWORD))).status, 200, 'other client IPs are not blocked');
});

t.test('requests without credentials do not count as failures', async (t) => {
  const ip = '10.0.2.1';
  for (let i = 0; i < 15; i++) t.equal((await get('a.test', ip)).status, 401);
  for (let i = 0; i < 9; i++) t.equal((await get('a.test', ip, basic('alice', `guess-${i}`))).status, 401);
  t.equal((await get('a.test', ip, basic('alice', ALICE_PASSWORD))).status, 200, 'after 15 empty + 9 wrong, not yet blocked');
  t.equal((await get('a.test', ip, basic('alice', 'guess-9'))).status, 401, 'the 10th wrong credential');
  t.equal((await get('a.test', ip, basic('alice', ALICE_PASSWORD))).status, 429, 'now blocked');
});

t.test('the failure throttle is across hosts: failures on host A block on host B', async (t) => {
  const ip = '10.0.3.1';
  for (let i = 0; i < 5; i++) t.equal((await get('a.test', ip, basic('alice', `a-${i}`))).status, 401);
  for (let i = 0; i < 5; i++) t.equal((await get('b.test', ip, basic('alice', `b-${i}`))).status, 401);
  t.equal((await get('b.test', ip, basic('alice', ALICE_PASSWORD))).status, 429, 'blocked on B after 5 + 5');
  t.equal((await get('a.test', ip, basic('alice', ALICE_PASSWORD))).status, 429, 'and on A');

  const ip2 = '10.0.3.2';
  for (let i = 0; i < 10; i++) t.equal((await get('a.test', ip2, basic('alice', `x-${i}`))).status, 401);
  const onB = await get('b.test', ip2, basic('alice', ALICE_PASSWORD));
  t.equal(onB.status, 429, 'ten failures on A alone block B');
  t.match(String(onB.headers['retry-after']), /^\d+$/);
});

t.test('authenticated traffic does not pay bcrypt per request (cost-12 hash)', async (t) => {
  // The reference: one cost-12 comparison in this very process, on this very machine.
  const started = performance.now();
  t.ok(await bcrypt.compare(SLOW_PASSWORD, slowHash));
  const oneBcryptMs = performance.now() - started;

  const auth = basic('carol', SLOW_PASSWORD);
  t.equal((await get('slow.test', '10.0.4.1', auth)).status, 200, 'the first request pays bcrypt once');
  const loopStarted = performance.now();
  for (let i = 0; i < 50; i++) {
    const r = await get('slow.test', '10.0.4.1', auth, `/n${i}`);
    if (r.status !== 200) t.fail(`request ${i}: ${r.status}`);
  }
  const fiftyMs = performance.now() - loopStarted;
  // Fifty comparisons would take 50 × oneBcryptMs; cached, fifty requests cost a few ms each.
  t.ok(fiftyMs < 5 * oneBcryptMs, `50 authenticated requests took ${fiftyMs.toFixed(0)} ms; one bcrypt takes ${oneBcryptMs.toFixed(0)} ms`);

  // The cache is keyed by the whole header: a different (wrong) password is checked, not cached.
  t.equal((await get('slow.test', '10.0.4.2', basic('carol', 'not-it'))).status, 401);
});

t.test('an unknown user pays one comparison of the host\'s highest cost', async (t) => {
  const started = performance.now();
  await bcrypt.compare('x', slowHash);
  const oneBcryptMs = performance.now() - started;

  const knownStarted = performance.now();
  t.equal((await get('slow.test', '10.0.5.1', basic('carol', 'wrong-1'))).status, 401);
  const knownMs = performance.now() - knownStarted;
  const unknownStarted = performance.now();
  t.equal((await get('slow.test', '10.0.5.1', basic('nobody', 'wrong-2'))).status, 401);
  const unknownMs = performance.now() - unknownStarted;
  // Only a lower bound: an answer far faster than one cost-12 comparison reveals the user is unknown.
  t.ok(unknownMs > oneBcryptMs / 4, `unknown user took ${unknownMs.toFixed(0)} ms, known ${knownMs.toFixed(0)} ms, bcrypt ${oneBcryptMs.toFixed(0)} ms`);
});

t.test('a hash changed by a reload makes the cached old password fail at once', async (t) => {
  const NEW_PASSWORD = 'brand-new';
  const newHash = await bcrypt.hash(NEW_PASSWORD, 4);
  const config = (hash: string, note: string) => `
hosts:
  r.test:
    tls: off
    basicAuth: { realm: Reload, users: { alice: "${hash}" } }
    routes: [ { upstream: "${upstream.target}" } ]
# ${note}
`;
  const p = await startPortico(config(aliceHash, 'v1'));
  t.teardown(() => p.close());
  const old = basic('alice', ALICE_PASSWORD);
  const send = (auth: string) => request(p.http, '/', { headers: { host: 'r.test', authorization: auth } });
  t.equal((await send(old)).status, 200, 'verified, so now cached');
  t.equal((await send(old)).status, 200, 'served from the cache');

  const reloadsBefore = p.logs.filter({ event: 'reload', result: 'ok' }).length;
  await p.writeConfig(config(newHash, 'v2'));
  await eventually(() => p.logs.filter({ event: 'reload', result: 'ok' }).length > reloadsBefore, { message: 'reload logged' });
  t.equal((await send(old)).status, 401, 'the very first request after the reload refuses the old password');
  t.equal((await send(basic('alice', NEW_PASSWORD))).status, 200, 'the new password works');
  t.equal((await send(old)).status, 401, 'and the old one stays refused');
});

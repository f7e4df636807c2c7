import t from 'tap';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/observability/logger.js';
import { createAccessLogWriter, createIsoClock, jsonString } from '../../../src/observability/access-log.js';
import type { RequestContext } from '../../../src/pipeline/request-context.js';

t.test('jsonString is JSON.stringify for every string', async (t) => {
  const samples = [
    '', '/', '/a/b?c=d&e', '6f1c2a0e-6a3e-4b4e-9f0a-2b7c8d9e0f1a', '::1', 'quote"inside', 'back\\slash',
    'tab\there', 'nul\u0000', '\u001f', '\u007f', 'café', '\u00ff\u00e9', 'emoji \ud83d\ude00', 'lone \ud800 half', 'lone \udfff',
  ];
  for (const s of samples) t.equal(jsonString(s), JSON.stringify(s), JSON.stringify(s));
  for (let c = 0; c < 0x800; c++) {
    const s = `a${String.fromCharCode(c)}b`;
    if (jsonString(s) !== JSON.stringify(s)) t.fail(`code unit ${c}`);
  }
});

t.test('the ISO clock matches Date#toISOString to the millisecond', async (t) => {
  let now = Date.UTC(2026, 10, 23, 20, 41, 25, 0);
  const clock = createIsoClock(() => now);
  for (const step of [0, 1, 8, 90, 900, 1, 1000, 59_000, 3_600_000, 86_400_000, 7]) {
    now += step;
    t.equal(clock(), new Date(now).toISOString(), new Date(now).toISOString());
  }
});

t.test('an access line is valid JSON with the fields of SPEC §3, escaped where needed', async (t) => {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = createLogger('info', dest);
  const write = createAccessLogWriter(logger);
  const ctx = {
    req: { method: 'GET', url: '/say?"hi"\\' },
    requestId: 'id-"1"',
    clientIp: '203.0.113.9',
    hostLabel: 'app.test',
    routeLabel: '/say',
    targetLabel: 'http://127.0.0.1:3000',
  } as unknown as RequestContext;
  write(ctx, 200, 1234, 1.23456);
  write({ ...ctx, targetLabel: undefined, originalUrl: '/before-rewrite' } as RequestContext, 404, 0, 0.5);
  await new Promise((r) => setImmediate(r));
  t.equal(lines.length, 2);
  const first = JSON.parse(lines[0]!);
  t.match(first, {
    level: 'info', event: 'access', requestId: 'id-"1"', clientIp: '203.0.113.9', host: 'app.test', method: 'GET',
    path: '/say?"hi"\\', status: 200, bytes: 1234, durationMs: 1.235, route: '/say', upstream: 'http://127.0.0.1:3000',
  });
  t.ok(Math.abs(Date.parse(first.time) - Date.now()) < 5000, 'time is now');
  const second = JSON.parse(lines[1]!);
  t.equal(second.upstream, null);
  t.equal(second.path, '/before-rewrite', 'the path as the client sent it');
  logger.level = 'warn';
  write(ctx, 200, 1, 1);
  await new Promise((r) => setImmediate(r));
  t.equal(lines.length, 2, 'no access line below info');
});

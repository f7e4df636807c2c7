import t from 'tap';
import { DURATION_PATTERN, parseDuration, parseRate, parseSize, RATE_PATTERN, SIZE_PATTERN } from '../../../src/config/units.js';

t.test('parseDuration: every unit of SPEC §2 in milliseconds', async (t) => {
  t.equal(parseDuration('500ms'), 500);
  t.equal(parseDuration('10s'), 10_000);
  t.equal(parseDuration('5m'), 300_000);
  t.equal(parseDuration('12h'), 43_200_000);
  t.equal(parseDuration('30d'), 2_592_000_000);
  t.equal(parseDuration('1ms'), 1);
  t.equal(parseDuration('0s'), 0, 'zero parses; callers that need > 0 say so with the position');
});

t.test('parseDuration: malformed input is undefined, never NaN or a guess', async (t) => {
  for (const bad of ['', '10', 's', '1.5s', '-1s', ' 10s', '10s ', '10 s', '10S', '10sec', '5min', '1w', '1y', '10ms5', 'ms', '1e3ms', '0x10s', '１０s']) {
    t.equal(parseDuration(bad), undefined, JSON.stringify(bad));
  }
});

t.test('parseSize: every unit, case-insensitive, and plain bytes', async (t) => {
  t.equal(parseSize('512k'), 512 * 1024);
  t.equal(parseSize('10m'), 10 * 1024 * 1024);
  t.equal(parseSize('1g'), 1024 ** 3);
  t.equal(parseSize('10M'), 10 * 1024 * 1024);
  t.equal(parseSize('2K'), 2048);
  t.equal(parseSize('1G'), 1024 ** 3);
  t.equal(parseSize('100b'), 100);
  t.equal(parseSize('2048'), 2048, 'no unit means bytes');
  t.equal(parseSize('0'), 0);
  t.equal(parseSize(4096), 4096, 'a YAML integer is bytes');
  t.equal(parseSize(0), 0);
});

t.test('parseSize: malformed input is undefined', async (t) => {
  for (const bad of ['', 'k', '1.5m', '-1k', '10kb', '10 m', '10t', 'ten', ' 1k', '1k ']) {
    t.equal(parseSize(bad), undefined, JSON.stringify(bad));
  }
  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
    t.equal(parseSize(bad), undefined, String(bad));
  }
});

t.test('parseRate: per second, minute and hour', async (t) => {
  t.same(parseRate('100/s'), { perSecond: 100, count: 100 });
  t.same(parseRate('60/m'), { perSecond: 1, count: 60 });
  t.same(parseRate('3600/h'), { perSecond: 1, count: 3600 });
  const fiveAMinute = parseRate('5/m');
  t.equal(fiveAMinute?.count, 5, 'count is the N users wrote (the default burst)');
  t.ok(Math.abs((fiveAMinute?.perSecond ?? 0) - 5 / 60) < 1e-12);
  t.same(parseRate('0.5/s'), { perSecond: 0.5, count: 0.5 }, 'fractional rates are allowed');
});

t.test('parseRate: zero and malformed rates are undefined', async (t) => {
  for (const bad of ['0/s', '0/m', '0.0/h', '00/s']) t.equal(parseRate(bad), undefined, `${bad} would never admit a request`);
  for (const bad of ['', '10', '10/d', '10/sec', '/s', '-1/s', '10 /s', '10/ s', '10/S', 's/10', '1e2/s', '.5/s', '10/s/m']) {
    t.equal(parseRate(bad), undefined, JSON.stringify(bad));
  }
});

t.test('the exported patterns accept exactly what the parsers accept', async (t) => {
  // The JSON schema is built from these patterns; editors must flag what the loader rejects.
  const duration = new RegExp(DURATION_PATTERN);
  const size = new RegExp(SIZE_PATTERN);
  const rate = new RegExp(RATE_PATTERN);
  for (const s of ['500ms', '10s', '5m', '12h', '30d', '10sec', '1.5s', '10']) {
    t.equal(duration.test(s), parseDuration(s) !== undefined, `duration ${s}`);
  }
  for (const s of ['512k', '10M', '1g', '2048', '10kb', '1.5m']) t.equal(size.test(s), parseSize(s) !== undefined, `size ${s}`);
  for (const s of ['100/s', '5/m', '1000/h', '0.5/s', '10/d', '10']) t.equal(rate.test(s), parseRate(s) !== undefined, `rate ${s}`);
});

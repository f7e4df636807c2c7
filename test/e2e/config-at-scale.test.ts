import t from 'tap';
import { scaleConfig, scaleHostName } from '../../bench/scale-config.js';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { echoHandler, startUpstream } from '../helpers/start-upstream.js';
import { E2E_PREAMBLE, removeDir, startPorticoProcess } from './helpers/portico-process.js';
import { startTraffic } from './helpers/traffic.js';

// A config of 10,000 hosts (two routes each, a rate limit on one) starts, serves its last host,
// reloads an edit of one host under traffic with no failed request, and rejects an invalid
// edit with its position while the running config keeps serving. Correctness only; the
// timings live in `npm run bench:scale`. Deadlines are generous: parsing 1.8 MB of YAML on a
// busy 2-core machine takes seconds, and each edit is one reload (the file watcher's).
const HOSTS = 10_000;
const LAST = HOSTS - 1;
const WITHIN = 90_000;

t.setTimeout(400_000);

t.test('10,000 hosts: start, serve, reload an edit, reject a bad edit, no request fails', async (t) => {
  const upstream = await startUpstream(echoHandler('app'));
  t.teardown(() => upstream.close());
  const config = (override?: { host: number; body: string }) => scaleConfig({ hosts: HOSTS, target: upstream.target, preamble: E2E_PREAMBLE, override });
  const p = await startPorticoProcess({ config: config(), within: WITHIN });
  t.teardown(async () => {
    await p.stop();
    await removeDir(p.dir);
  });
  const get = (host: number, path = '/') => request(p.http, path, { headers: { host: scaleHostName(host) } });

  const first = await get(LAST);
  t.equal(first.status, 200, `host ${LAST} is served`);
  t.equal((JSON.parse(first.body) as { name: string }).name, 'app', 'by its upstream');

  // Traffic on the first and the last host and on a rate-limited route, all through the reloads.
  const traffic = [
    startTraffic({ port: p.http, host: scaleHostName(0), path: '/', concurrency: 1 }),
    // Below the route's limit (100/s), so every answer must be a 200.
    startTraffic({ port: p.http, host: scaleHostName(LAST), path: '/api/items', concurrency: 1, intervalMs: 20 }),
  ];
  t.teardown(() => Promise.all(traffic.map((tr) => tr.stop())));

  // An edit of one host deep in the file: host 9999's "/" now answers itself.
  await p.writeConfig(config({ host: LAST, body: 'edited' }));
  await eventually(async () => (await get(LAST)).body === 'edited', { within: WITHIN, message: 'the edit is served' });
  t.pass('the edit is served');
  const reloaded = await p.waitForLog((l) => l.event === 'reload' && l.result === 'ok' && typeof l.hostsCompiled === 'number', WITHIN);
  t.equal(reloaded.hostsCompiled, 1, 'the edited host alone was compiled again');
  t.equal((JSON.parse((await get(0)).body) as { name: string }).name, 'app', 'the other hosts still reach their upstream');

  // A duplicate key inside one of the 10,000 entries: rejected at its FILE:LINE:COL.
  const lines = config({ host: LAST, body: 'edited' }).split('\n');
  const at = lines.indexOf(`  ${scaleHostName(7000)}:`);
  lines.splice(at + 1, 0, '    tls: off'); // the next line already says `tls: off`
  await p.writeConfig(lines.join('\n'));
  const position = `${p.configFile}:${at + 3}:5: YAML: Map keys must be unique`;
  await p.waitForLog((line) => line.event === 'reload' && JSON.stringify(line).includes(position), WITHIN);
  t.pass(`the invalid edit is rejected at ${position}`);
  t.equal((await get(LAST)).body, 'edited', 'the running config keeps serving');

  const results = await Promise.all(traffic.map((tr) => tr.stop()));
  const total = results.reduce((n, r) => n + r.total, 0);
  t.same(results.flatMap((r) => r.failures), [], `no request failed (${total} sent)`);
  t.ok(total > 20, 'traffic ran through the reloads');
});

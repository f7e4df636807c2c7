import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { chromium, type Page } from 'playwright-core';
import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { request } from '../helpers/http-request.js';
import { startUpstream, type Handler } from '../helpers/start-upstream.js';
import { E2E_PREAMBLE, startOwnedPortico } from './helpers/portico-process.js';

// SPEC §4 Dashboard, in a real browser (Debian's Chromium driven by playwright-core) against
// the built CLI: the page at GET / on the admin listener loads only from the admin origin,
// updates without a reload, drains and enables targets through the admin API, and shows the
// FILE:LINE:COL errors of a rejected reload.

/** An upstream whose health endpoint the test can turn off, as a deploy taking it down would. */
async function switchableUpstream(name: string) {
  const state = { healthy: true };
  const handler: Handler = (req, res) => {
    const status = req.url === '/health' && !state.healthy ? 503 : 200;
    const body = `${name}\n`;
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const upstream = await startUpstream(handler);
  t.teardown(() => upstream.close());
  return Object.assign(upstream, { state });
}

const blue = await switchableUpstream('blue');
const green = await switchableUpstream('green');
const hash = await bcrypt.hash('s3cret', 4);
// 1,000 more hosts: the page must stay usable (paging, filtering) at that size.
const many = Array.from({ length: 1000 }, (_, i) => `  h${String(i).padStart(4, '0')}.test: { tls: off, routes: [ { respond: { body: "x" } } ] }`).join('\n');
const config = (balance: string) => `${E2E_PREAMBLE}log: { access: false }
upstreams:
  app:
    targets: ["${blue.target}", "${green.target}"]
    balance: ${balance}
    healthCheck: { path: /health, interval: 200ms, timeout: 1s, unhealthyAfter: 2, healthyAfter: 1 }
hosts:
  shop.test:
    tls: off
    aliases: [www.shop.test]
    routes:
      - { path: /missing, respond: { status: 404, body: "no" } }
      - { upstream: app }
  staging.test:
    tls: self-signed
    basicAuth: { realm: Staging, users: { alice: "${hash}" } }
    routes: [ { upstream: app } ]
${many}
`;

const portico = await startOwnedPortico(t, { config: config('round_robin'), within: 30_000 });
const origin = `http://127.0.0.1:${portico.admin}`;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
t.teardown(() => browser.close());
const page: Page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
const requested: string[] = [];
const consoleErrors: string[] = [];
page.on('request', (r) => requested.push(r.url()));
page.on('console', (m) => {
  if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`);
});
page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));

/** The text of a cell, polled until `accept` says yes (the page updates every 2 s). */
async function cellText(selector: string, accept: (text: string) => boolean, message: string, within = 15_000): Promise<string> {
  return eventually(
    async () => {
      const text = (await page.locator(selector).first().textContent({ timeout: 1000 })) ?? '';
      return accept(text) ? text : undefined;
    },
    { within, message },
  );
}

const targetRow = (up: { target: string }) => `#upstreams tbody tr[data-key="t:app:${up.target}"]`;
const hostRow = (name: string) => `#hosts tbody tr[data-key="${name}"]`;
const adminGet = async (path: string) => JSON.parse((await request(portico.admin, path, { headers: { host: `127.0.0.1:${portico.admin}` } })).body) as unknown;

t.test('the page loads from the admin origin alone, with no console error and no secret', async (t) => {
  const res = await page.goto(`${origin}/`);
  t.equal(res?.status(), 200);
  t.match(res?.headers()['content-security-policy'] ?? '', /default-src 'none'/, 'a CSP that forbids any other origin');
  await page.locator(hostRow('shop.test')).waitFor({ timeout: 15_000 });
  // Mark the document: if any later step reloaded the page, the mark would be gone.
  await page.evaluate(() => Object.assign(globalThis, { dashboardMark: 42 }));
  t.match(await page.locator('#summary').textContent(), /1,002\s*hosts/);
  const html = await page.content();
  t.notOk(html.includes(hash.slice(7)), 'no password hash on the page');
  const json = JSON.stringify(await adminGet('/dashboard.json'));
  t.notOk(json.includes(hash.slice(7)), 'nor in /dashboard.json');
  t.ok(json.length < 200_000, `one poll stays small at 1,000 hosts (${json.length} bytes)`);
  t.ok(requested.length >= 4, 'the page, its style, script and data were requested');
});

t.test('a target taken down at its upstream turns down on the page without a reload', async (t) => {
  await cellText(`${targetRow(green)} td:nth-child(3)`, (s) => s === 'up', 'green up');
  green.state.healthy = false;
  await cellText(`${targetRow(green)} td:nth-child(3)`, (s) => s === 'down', 'green shown down');
  t.equal(await cellText(`${targetRow(blue)} td:nth-child(3)`, () => true, 'blue'), 'up', 'the other target stays up');
  await cellText('#summary', (s) => s.includes('1/2'), 'the summary counts one target of two up');
  green.state.healthy = true;
  await cellText(`${targetRow(green)} td:nth-child(3)`, (s) => s === 'up', 'green back up');
  t.equal(await page.evaluate(() => (globalThis as { dashboardMark?: number }).dashboardMark), 42, 'the page was not reloaded');
});

t.test('traffic sent to a host shows up in its numbers', async (t) => {
  const statuses: number[] = [];
  for (let i = 0; i < 30; i++) statuses.push((await request(portico.http, '/', { headers: { host: 'shop.test' } })).status);
  for (let i = 0; i < 5; i++) statuses.push((await request(portico.http, '/missing', { headers: { host: 'www.shop.test' } })).status);
  t.same(statuses, [...Array<number>(30).fill(200), ...Array<number>(5).fill(404)]);
  // Columns: host, routes, req/s, sparkline, 2xx, 3xx, 4xx, 5xx, total.
  await cellText(`${hostRow('shop.test')} td:nth-child(9)`, (s) => Number(s.replace(/,/g, '')) >= 35, 'total of shop.test (alias traffic included)');
  await cellText(`${hostRow('shop.test')} td:nth-child(5)`, (s) => Number(s) >= 30, '2xx in the window');
  await cellText(`${hostRow('shop.test')} td:nth-child(7)`, (s) => Number(s) >= 5, '4xx in the window');
  await cellText(`${hostRow('shop.test')} td:nth-child(3)`, (s) => Number(s) > 0, 'requests per second');
  t.equal(await page.locator(`${hostRow('staging.test')} td:nth-child(9)`).textContent(), '0', 'a host without traffic stays at 0');
});

t.test('the drain button drains the target (seen in GET /upstreams) and enable restores it', async (t) => {
  const stateOf = async () => {
    const ups = (await adminGet('/upstreams')) as Record<string, { targets: { url: string; state?: string }[] }>;
    return ups.app?.targets.find((x) => x.url === `http://${blue.target}`)?.state;
  };
  t.equal(await stateOf(), 'active');
  await page.locator(`${targetRow(blue)} button`, { hasText: 'Drain' }).click();
  await eventually(async () => (await stateOf()) === 'draining' || (await stateOf()) === 'drained', { within: 10_000, message: 'blue draining in /upstreams' });
  await cellText(`${targetRow(blue)} td:nth-child(4)`, (s) => s.startsWith('drain'), 'blue shown draining');
  await cellText('#action-result', (s) => s.includes(blue.target), 'the answer of the admin API is shown');
  await page.locator(`${targetRow(blue)} button`, { hasText: 'Enable' }).click();
  await eventually(async () => (await stateOf()) === 'active', { within: 10_000, message: 'blue active again in /upstreams' });
  await cellText(`${targetRow(blue)} td:nth-child(4)`, (s) => s === 'active', 'blue shown active');
});

t.test('an invalid edit of routes.yaml shows its FILE:LINE:COL error', async (t) => {
  const bad = config('round_robbin');
  const line = bad.split('\n').findIndex((l) => l.includes('round_robbin')) + 1;
  await portico.writeConfig(bad);
  const text = await cellText('#reloads tbody tr:first-child', (s) => s.includes('error'), 'the rejected reload listed', 20_000);
  t.match(text, new RegExp(`${portico.configFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:${line}:\\d+: `), `FILE:LINE:COL of line ${line}`);
  t.match(await page.locator(hostRow('shop.test')).count(), 1, 'the old config keeps serving and showing');
  // Fixed, with a real change (the file as it was is already active: nothing to reload).
  await portico.writeConfig(config('least_conn'));
  await cellText('#reloads tbody tr:first-child td:nth-child(2)', (s) => s === 'ok', 'the fixed file reloads');
  t.match(await page.locator('#upstreams tbody tr[data-key="u:app"]').textContent(), /least_conn/, 'and the page shows the new config');
});

t.test('1,000 hosts: paged, and a filter finds one', async (t) => {
  t.match(await page.locator('nav[data-list="hosts"]').textContent(), /page 1 of 41 \(1,002\)/);
  await page.locator('#q').fill('h0987');
  await cellText('#hosts tbody', (s) => s.includes('h0987.test') && !s.includes('shop.test'), 'filtered to one host');
  t.equal(await page.locator('#hosts tbody tr').count(), 1);
  await page.locator('#q').fill('');
  await cellText('#hosts tbody', (s) => s.includes('shop.test'), 'filter cleared');
});

t.test('a screenshot of the page is written', async (t) => {
  const file = join(portico.dir, 'dashboard.png');
  await page.screenshot({ path: file, fullPage: false });
  t.ok((await stat(file)).size > 10_000, `${file} written`);
});

t.test('nothing was requested outside the admin origin, and the console stayed clean', async (t) => {
  const foreign = requested.filter((u) => !u.startsWith(`${origin}/`));
  t.same(foreign, [], 'every request went to the admin listener');
  t.ok(requested.some((u) => u.includes('/upstreams/app/targets/')), 'the buttons posted to the admin API');
  t.same(consoleErrors, [], 'no console error or warning');
});

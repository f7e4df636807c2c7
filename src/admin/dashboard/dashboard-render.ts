// Renders GET /dashboard.json into the page's tables (browser module).

import type { CertificateRow, DashboardState, DashboardTarget, Page } from './dashboard-types.js';
import { byId, doc, el, td, type Elem } from './dashboard-dom.js';

/** Called when the operator picks another page of a list. */
export type OnPage = (param: string, page: number) => void;

function num(n: number): string {
  return n.toLocaleString('en-US');
}

function rate(n: number | null): string {
  if (n === null) return '…';
  return n >= 100 ? num(Math.round(n)) : n.toFixed(1);
}

/** A time of day as HH:MM:SS. */
export function time(ms: number): string {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

function sparkline(series: readonly number[]): Elem {
  const ns = 'http://www.w3.org/2000/svg';
  const w = 120;
  const h = 22;
  const svg = doc.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(h));
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  const max = Math.max(1, ...series);
  const step = series.length > 1 ? w / (series.length - 1) : w;
  const points = series.map((v, i) => `${(i * step).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`).join(' ');
  const line = doc.createElementNS(ns, 'polyline');
  line.setAttribute('points', points || `0,${h - 1} ${w},${h - 1}`);
  svg.append(line);
  return svg;
}

/**
 * Replaces the rows of a table body, keeping rows whose content did not change, so a button
 * under the pointer is not swapped out between two polls.
 */
function renderRows(table: string, rows: readonly { key: string; sig: string; build: () => Elem }[], empty: string): void {
  const body = doc.querySelector(`#${table} tbody`)!;
  if (rows.length === 0) {
    body.replaceChildren(el('tr', 'empty', el('td', '', empty)));
    body.firstElementChild!.firstElementChild!.colSpan = 9;
    return;
  }
  const old = new Map<string, Elem>();
  for (const r of Array.from(body.children)) if (r.dataset.key) old.set(r.dataset.key, r);
  const next = rows.map((r) => {
    const kept = old.get(r.key);
    if (kept && kept.dataset.sig === r.sig) return kept;
    const built = r.build();
    built.dataset.key = r.key;
    built.dataset.sig = r.sig;
    return built;
  });
  const current = Array.from(body.children);
  if (current.length === next.length && next.every((n, i) => current[i] === n)) return;
  body.replaceChildren(...next);
}

function renderPager(list: 'hosts' | 'upstreams' | 'certificates', page: Page<unknown>, onPage: OnPage): void {
  const nav = doc.querySelector(`nav[data-list="${list}"]`)!;
  const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
  const sig = `${page.page}/${pages}/${page.total}`;
  if (nav.dataset.sig === sig) return;
  nav.dataset.sig = sig;
  if (pages <= 1) return nav.replaceChildren();
  const param = nav.dataset.param!;
  const go = (p: number) => onPage(param, p);
  const prev = el('button', '', '‹ Previous');
  prev.disabled = page.page === 0;
  prev.onclick = () => go(page.page - 1);
  const next = el('button', '', 'Next ›');
  next.disabled = page.page >= pages - 1;
  next.onclick = () => go(page.page + 1);
  nav.replaceChildren(prev, `page ${page.page + 1} of ${pages} (${num(page.total)})`, next);
}

function renderSummary(s: DashboardState): void {
  const tile = (value: string, label: string, cls = '') => el('div', 'tile', el('b', cls, value), el('span', '', label));
  const down = s.summary.targets.total - s.summary.targets.healthy;
  byId('summary').replaceChildren(
    tile(num(s.summary.hosts), `hosts, ${num(s.summary.routes)} routes`),
    tile(`${num(s.summary.targets.healthy)}/${num(s.summary.targets.total)}`, `targets up in ${num(s.summary.upstreams)} upstreams`, down > 0 ? 'down' : ''),
    tile(rate(s.summary.rps), 'requests per second'),
    tile(num(s.summary.rateLimited), 'rate-limited requests'),
    tile(num(s.summary.authRefused), 'refused credentials'),
  );
}

function renderHosts(s: DashboardState, onPage: OnPage): void {
  renderRows(
    'hosts',
    s.hosts.items.map((h) => ({
      key: h.name,
      sig: JSON.stringify(h),
      build: () => {
        const name = el('td', '', el('strong', '', h.name));
        if (h.tls !== 'off') name.append(el('span', 'badge', h.tls === 'file' ? 'tls file' : h.tls));
        if (h.auth) name.append(el('span', 'badge', 'basic auth'));
        if (h.noindex) name.append(el('span', 'badge', 'noindex'));
        if (h.rateLimit) name.append(el('span', 'badge', 'rate limit'));
        if (h.aliases.length > 0) name.append(el('div', 'aliases', h.aliases.join(', ')));
        const routes = el('ul', 'routes', ...h.routes.map((r) => el('li', '', el('code', '', r.path), ` ${r.action}`)));
        const cls = ['2xx', '3xx', '4xx', '5xx'].map((c, i) => {
          const n = h.classes[i + 1] ?? 0;
          return td(num(n), `num ${n === 0 ? 'zero' : `c${c}`}`);
        });
        return el('tr', '', name, td(routes), td(rate(h.rps), 'num'), td(sparkline(h.series)), ...cls, td(num(h.total), 'num'));
      },
    })),
    'No host matches the filter.',
  );
  renderPager('hosts', s.hosts, onPage);
}

function targetAddress(t: DashboardTarget): string {
  return t.target ?? new URL(t.url).host;
}

function renderUpstreams(s: DashboardState, onPage: OnPage): void {
  const rows: { key: string; sig: string; build: () => Elem }[] = [];
  for (const u of s.upstreams.items) {
    const detail = [u.balance, u.healthCheck ? `health check ${u.healthCheck}` : 'passive health'].filter(Boolean).join(' · ');
    rows.push({
      key: `u:${u.name}`,
      sig: detail,
      build: () => {
        const cell = td(el('span', 'muted', detail));
        cell.colSpan = 6;
        return el('tr', 'group', td(u.name), cell);
      },
    });
    for (const t of u.targets) {
      const address = targetAddress(t);
      const state = t.state ?? 'active';
      const draining = state === 'draining' || state === 'drained';
      rows.push({
        key: `t:${u.name}:${address}`,
        sig: JSON.stringify(t),
        build: () => {
          const button = el('button', '', draining ? 'Enable' : 'Drain');
          button.dataset.upstream = u.name;
          button.dataset.target = address;
          button.dataset.action = draining ? 'enable' : 'drain';
          button.title = draining ? `Send new requests to ${address} again` : `Stop new requests to ${address}; requests in flight finish`;
          return el(
            'tr',
            '',
            td(''),
            td(el('code', '', t.url)),
            td(t.healthy ? 'up' : 'down', t.healthy ? 'up' : 'down'),
            td(state, `state-${state}`),
            td(t.weight === undefined ? '1' : String(t.weight), 'num'),
            td(num(t.inFlight), 'num'),
            td(button),
          );
        },
      });
    }
  }
  renderRows('upstreams', rows, 'No upstream matches the filter.');
  renderPager('upstreams', s.upstreams, onPage);
}

function renderCertificates(s: DashboardState, onPage: OnPage): void {
  renderRows(
    'certificates',
    s.certificates.items.map((c: CertificateRow) => ({
      key: c.host,
      sig: JSON.stringify(c),
      build: () => {
        const days = td(num(c.daysLeft), `num ${c.daysLeft < 0 ? 'expired' : c.daysLeft < 21 ? 'expiring' : ''}`);
        days.title = `expires ${c.notAfter}`;
        return el('tr', '', td(c.host), td(c.temporary ? `${c.source} (temporary)` : c.source), td(c.issuer), days);
      },
    })),
    'No TLS host.',
  );
  renderPager('certificates', s.certificates, onPage);
}

function renderRefusals(s: DashboardState): void {
  const limited = s.rateLimited.length === 0 ? [{ key: 'rl', sig: '0', build: () => el('tr', '', td('Rate limits'), td('0', 'num zero')) }] : [];
  const rows = [
    ...limited,
    { key: 'auth', sig: String(s.summary.authRefused), build: () => el('tr', '', td('Basic Auth: wrong credentials'), td(num(s.summary.authRefused), 'num')) },
    ...(s.summary.authBusy > 0 ? [{ key: 'busy', sig: String(s.summary.authBusy), build: () => el('tr', '', td('Basic Auth: checks queue full (503)'), td(num(s.summary.authBusy), 'num')) }] : []),
    ...s.rateLimited.map((r) => ({ key: `rl:${r.scope}`, sig: String(r.count), build: () => el('tr', '', td(`rate limit ${r.scope}`), td(num(r.count), 'num')) })),
  ];
  renderRows('refusals', rows, '');
}

function renderReloads(s: DashboardState): void {
  renderRows(
    'reloads',
    s.reloads.map((r) => ({
      key: `${r.at}:${r.result}:${r.version}`,
      sig: `${r.count}:${r.errors.join('\n')}`,
      build: () =>
        el('tr', '', td(time(r.at)), td(r.count > 1 ? `${r.result} ×${r.count}` : r.result, r.result === 'ok' ? 'up' : 'down'), td(r.unchanged ? 'unchanged' : r.version === null ? '—' : String(r.version)), td(r.errors.length > 0 ? el('pre', 'errors', r.errors.join('\n')) : '')),
    })),
    'No reload since start.',
  );
}

/** Renders the whole state; rows that did not change are kept as they are. */
export function render(s: DashboardState, onPage: OnPage): void {
  renderSummary(s);
  renderHosts(s, onPage);
  renderUpstreams(s, onPage);
  renderCertificates(s, onPage);
  renderRefusals(s);
  renderReloads(s);
}

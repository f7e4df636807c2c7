// The dashboard's browser script (served as /dashboard/dashboard.js), compiled by the same tsc
// run as the gateway. It polls /dashboard.json every 2 s while the tab is visible and renders
// plain tables; every string from the gateway goes in as text, never as HTML.

export {};

// The few DOM members this script uses, declared here rather than adding the DOM lib to the
// whole program: that lib would change types for the Node code too (e.g. WebCrypto overloads)
// and let server modules use `document` unnoticed.
interface Elem {
  className: string;
  textContent: string | null;
  title: string;
  colSpan: number;
  disabled: boolean;
  value: string;
  onclick: (() => void) | null;
  readonly dataset: Record<string, string | undefined>;
  readonly children: ArrayLike<Elem>;
  readonly firstElementChild: Elem | null;
  append(...nodes: (Elem | string)[]): void;
  replaceChildren(...nodes: (Elem | string)[]): void;
  setAttribute(name: string, value: string): void;
  closest(selector: string): Elem | null;
  addEventListener(type: string, listener: (event: { readonly target: Elem }) => void): void;
}
declare const document: {
  readonly hidden: boolean;
  createElement(tag: string): Elem;
  createElementNS(ns: string, tag: string): Elem;
  querySelector(selector: string): Elem | null;
  getElementById(id: string): Elem | null;
  addEventListener(type: string, listener: () => void): void;
};
declare const window: { setTimeout(fn: () => void, ms: number): number; clearTimeout(id: number | undefined): void };

interface Target {
  readonly target?: string;
  readonly url: string;
  readonly healthy: boolean;
  readonly inFlight: number;
  readonly weight?: number;
  readonly state?: string;
}
interface Page<T> {
  readonly total: number;
  readonly page: number;
  readonly pageSize: number;
  readonly items: readonly T[];
}
interface HostRow {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly tls: string;
  readonly auth: boolean;
  readonly noindex: boolean;
  readonly rateLimit: boolean;
  readonly routes: readonly { readonly path: string; readonly action: string }[];
  readonly rps: number | null;
  readonly series: readonly number[];
  readonly classes: readonly number[];
  readonly total: number;
}
interface UpstreamRow {
  readonly name: string;
  readonly balance: string | null;
  readonly healthCheck: string | null;
  readonly targets: readonly Target[];
}
interface CertRow {
  readonly host: string;
  readonly source: string;
  readonly temporary: boolean;
  readonly issuer: string;
  readonly notAfter: string;
  readonly daysLeft: number;
}
interface State {
  readonly now: number;
  readonly since: number;
  readonly summary: {
    readonly hosts: number;
    readonly routes: number;
    readonly upstreams: number;
    readonly targets: { readonly total: number; readonly healthy: number };
    readonly rps: number | null;
    readonly rateLimited: number;
    readonly authRefused: number;
  };
  readonly hosts: Page<HostRow>;
  readonly upstreams: Page<UpstreamRow>;
  readonly certificates: Page<CertRow>;
  readonly rateLimited: readonly { readonly scope: string; readonly count: number }[];
  readonly reloads: readonly { readonly at: number; readonly result: string; readonly version: number | null; readonly errors: readonly string[]; readonly count: number }[];
}

const POLL_MS = 2000;
const params = new URLSearchParams({ q: '', sort: 'name', page: '0', upage: '0', cpage: '0' });
let timer: number | undefined;
let inFlight = false;

/** Builds an element with a class and children (strings become text nodes). */
function el(tag: string, className = '', ...children: (Elem | string)[]): Elem {
  const e = document.createElement(tag);
  if (className) e.className = className;
  e.append(...children);
  return e;
}

function td(content: Elem | string, className = ''): Elem {
  return el('td', className, content);
}

function num(n: number): string {
  return n.toLocaleString('en-US');
}

function rate(n: number | null): string {
  if (n === null) return '…';
  return n >= 100 ? num(Math.round(n)) : n.toFixed(1);
}

function time(ms: number): string {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

function sparkline(series: readonly number[]): Elem {
  const ns = 'http://www.w3.org/2000/svg';
  const w = 120;
  const h = 22;
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(h));
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  const max = Math.max(1, ...series);
  const step = series.length > 1 ? w / (series.length - 1) : w;
  const points = series.map((v, i) => `${(i * step).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`).join(' ');
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', points || `0,${h - 1} ${w},${h - 1}`);
  svg.append(line);
  return svg;
}

/**
 * Replaces the rows of a table body, keeping rows whose content did not change, so a button
 * under the pointer is not swapped out between two polls.
 */
function renderRows(table: string, rows: readonly { key: string; sig: string; build: () => Elem }[], empty: string): void {
  const body = document.querySelector(`#${table} tbody`)!;
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

function renderPager(list: 'hosts' | 'upstreams' | 'certificates', page: Page<unknown>): void {
  const nav = document.querySelector(`nav[data-list="${list}"]`)!;
  const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
  const sig = `${page.page}/${pages}/${page.total}`;
  if (nav.dataset.sig === sig) return;
  nav.dataset.sig = sig;
  if (pages <= 1) return nav.replaceChildren();
  const param = nav.dataset.param!;
  const go = (p: number) => {
    params.set(param, String(p));
    void refresh();
  };
  const prev = el('button', '', '‹ Previous');
  prev.disabled = page.page === 0;
  prev.onclick = () => go(page.page - 1);
  const next = el('button', '', 'Next ›');
  next.disabled = page.page >= pages - 1;
  next.onclick = () => go(page.page + 1);
  nav.replaceChildren(prev, `page ${page.page + 1} of ${pages} (${num(page.total)})`, next);
}

function renderSummary(s: State): void {
  const tile = (value: string, label: string, cls = '') => el('div', 'tile', el('b', cls, value), el('span', '', label));
  const down = s.summary.targets.total - s.summary.targets.healthy;
  document.getElementById('summary')!.replaceChildren(
    tile(num(s.summary.hosts), `hosts, ${num(s.summary.routes)} routes`),
    tile(`${num(s.summary.targets.healthy)}/${num(s.summary.targets.total)}`, `targets up in ${num(s.summary.upstreams)} upstreams`, down > 0 ? 'down' : ''),
    tile(rate(s.summary.rps), 'requests per second'),
    tile(num(s.summary.rateLimited), 'rate-limited requests'),
    tile(num(s.summary.authRefused), 'refused credentials'),
  );
}

function renderHosts(s: State): void {
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
  renderPager('hosts', s.hosts);
}

function targetAddress(t: Target): string {
  return t.target ?? new URL(t.url).host;
}

function renderUpstreams(s: State): void {
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
  renderPager('upstreams', s.upstreams);
}

function renderCertificates(s: State): void {
  renderRows(
    'certificates',
    s.certificates.items.map((c) => ({
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
  renderPager('certificates', s.certificates);
}

function renderRefusals(s: State): void {
  const limited = s.rateLimited.length === 0 ? [{ key: 'rl', sig: '0', build: () => el('tr', '', td('Rate limits'), td('0', 'num zero')) }] : [];
  const rows = [
    ...limited,
    { key: 'auth', sig: String(s.summary.authRefused), build: () => el('tr', '', td('Basic Auth: wrong credentials'), td(num(s.summary.authRefused), 'num')) },
    ...s.rateLimited.map((r) => ({ key: `rl:${r.scope}`, sig: String(r.count), build: () => el('tr', '', td(`rate limit ${r.scope}`), td(num(r.count), 'num')) })),
  ];
  renderRows('refusals', rows, '');
}

function renderReloads(s: State): void {
  renderRows(
    'reloads',
    s.reloads.map((r) => ({
      key: `${r.at}:${r.result}:${r.version}`,
      sig: `${r.count}:${r.errors.join('\n')}`,
      build: () =>
        el('tr', '', td(time(r.at)), td(r.count > 1 ? `${r.result} ×${r.count}` : r.result, r.result === 'ok' ? 'up' : 'down'), td(r.version === null ? '—' : String(r.version)), td(r.errors.length > 0 ? el('pre', 'errors', r.errors.join('\n')) : '')),
    })),
    'No reload since start.',
  );
}

function render(s: State): void {
  renderSummary(s);
  renderHosts(s);
  renderUpstreams(s);
  renderCertificates(s);
  renderRefusals(s);
  renderReloads(s);
}

function setLive(ok: boolean, text: string): void {
  const live = document.getElementById('live')!;
  live.className = `live ${ok ? 'ok' : 'stale'}`;
  live.textContent = text;
}

/** Fetches the state once and schedules the next poll while the page is visible. */
async function refresh(): Promise<void> {
  window.clearTimeout(timer);
  if (inFlight) return;
  inFlight = true;
  try {
    const res = await fetch(`/dashboard.json?${params}`); // the answer says no-store
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const state = (await res.json()) as State;
    render(state);
    setLive(true, `live · ${time(state.now)}`);
  } catch (err) {
    setLive(false, `admin API unreachable (${(err as Error).message}); retrying`);
  } finally {
    inFlight = false;
    if (!document.hidden) timer = window.setTimeout(() => void refresh(), POLL_MS);
  }
}

/** Drain or enable through the admin API, as `curl -X POST` would. */
async function targetAction(button: Elem): Promise<void> {
  const { upstream, target, action } = button.dataset;
  const result = document.getElementById('action-result')!;
  button.disabled = true;
  try {
    const res = await fetch(`/upstreams/${encodeURIComponent(upstream!)}/targets/${encodeURIComponent(target!)}/${action}`, { method: 'POST' });
    const body = (await res.json().catch(() => ({}))) as { state?: string; inFlight?: number; error?: string };
    result.textContent = res.ok ? `${upstream} ${target}: ${body.state} (${body.inFlight ?? 0} in flight)` : `${upstream} ${target}: ${action} failed: ${body.error ?? `HTTP ${res.status}`}`;
  } catch (err) {
    result.textContent = `${action} failed: ${(err as Error).message}`;
  }
  await refresh();
}

document.getElementById('upstreams')!.addEventListener('click', (e) => {
  const button = e.target.closest('button');
  if (button?.dataset.action) void targetAction(button);
});

let typing: number | undefined;
document.getElementById('q')!.addEventListener('input', (e) => {
  window.clearTimeout(typing);
  typing = window.setTimeout(() => {
    params.set('q', e.target.value);
    for (const p of ['page', 'upage', 'cpage']) params.set(p, '0');
    void refresh();
  }, 200);
});
document.getElementById('sort')!.addEventListener('change', (e) => {
  params.set('sort', e.target.value);
  params.set('page', '0');
  void refresh();
});
// A hidden tab does not poll: a dashboard nobody looks at costs the gateway nothing.
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) void refresh();
});
void refresh();

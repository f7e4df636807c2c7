// The dashboard's browser entry (served as /dashboard/dashboard-client.js), compiled by the
// same tsc run as the gateway. It polls /dashboard.json every 2 s while the tab is visible
// and posts drain/enable to the admin API, as `curl -X POST` would.

import type { DashboardState } from './dashboard-types.js';
import { byId, doc, timers, type Elem } from './dashboard-dom.js';
import { render, time } from './dashboard-render.js';

const POLL_MS = 2000;
const params = new URLSearchParams({ q: '', sort: 'name', page: '0', upage: '0', cpage: '0' });
let timer: number | undefined;
let polling = false;

function setLive(ok: boolean, text: string): void {
  const live = byId('live');
  live.className = `live ${ok ? 'ok' : 'stale'}`;
  live.textContent = text;
}

function showPage(param: string, page: number): void {
  params.set(param, String(page));
  void refresh();
}

/** Fetches the state once and schedules the next poll while the page is visible. */
async function refresh(): Promise<void> {
  timers.clearTimeout(timer);
  if (polling) return;
  polling = true;
  try {
    const res = await fetch(`/dashboard.json?${params}`); // the answer says no-store
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const state = (await res.json()) as DashboardState;
    render(state, showPage);
    setLive(true, `live · ${time(state.now)}`);
  } catch (err) {
    setLive(false, `admin API unreachable (${(err as Error).message}); retrying`);
  } finally {
    polling = false;
    // A hidden tab does not poll: a dashboard nobody looks at costs the gateway nothing.
    if (!doc.hidden) timer = timers.setTimeout(() => void refresh(), POLL_MS);
  }
}

/** Drain or enable one target through the admin API and show its answer. */
async function targetAction(button: Elem): Promise<void> {
  const { upstream, target, action } = button.dataset;
  const result = byId('action-result');
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

byId('upstreams').addEventListener('click', (e) => {
  const button = e.target.closest('button');
  if (button?.dataset.action) void targetAction(button);
});
let typing: number | undefined;
byId('q').addEventListener('input', (e) => {
  timers.clearTimeout(typing);
  typing = timers.setTimeout(() => {
    params.set('q', e.target.value);
    for (const p of ['page', 'upage', 'cpage']) params.set(p, '0');
    void refresh();
  }, 200);
});
byId('sort').addEventListener('change', (e) => {
  params.set('sort', e.target.value);
  params.set('page', '0');
  void refresh();
});
doc.addEventListener('visibilitychange', () => {
  if (!doc.hidden) void refresh();
});
void refresh();

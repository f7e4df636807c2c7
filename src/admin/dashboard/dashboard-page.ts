import { readFileSync } from 'node:fs';

/** A file of the dashboard: its media type and bytes. */
export interface DashboardAsset {
  readonly type: string;
  readonly body: string;
}

/**
 * Everything the page loads comes from the admin listener itself, and nothing else may be
 * loaded: operators reach it through an SSH tunnel from machines that may have no internet,
 * and the page carries drain buttons, so it must not be framed (clickjacking).
 */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Portico dashboard</title>
<link rel="icon" href="/dashboard/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard/dashboard.css">
<script type="module" src="/dashboard/dashboard-client.js"></script>
</head>
<body>
<header>
  <h1>Portico</h1>
  <span id="live" class="live">connecting…</span>
  <label class="filter">Filter <input id="q" type="search" placeholder="host, upstream or target" autocomplete="off"></label>
  <label>Sort hosts <select id="sort"><option value="name">as configured</option><option value="traffic">by traffic</option></select></label>
</header>
<main>
  <section id="summary" class="tiles" aria-label="Summary"></section>
  <section>
    <h2>Hosts and routes</h2>
    <table id="hosts"><thead><tr><th>Host</th><th>Routes</th><th class="num">req/s</th><th>Last minutes</th><th class="num">2xx</th><th class="num">3xx</th><th class="num">4xx</th><th class="num">5xx</th><th class="num">Total</th></tr></thead><tbody></tbody></table>
    <nav class="pager" data-list="hosts" data-param="page"></nav>
  </section>
  <section>
    <h2>Upstream targets</h2>
    <table id="upstreams"><thead><tr><th>Upstream</th><th>Target</th><th>Health</th><th>State</th><th class="num">Weight</th><th class="num">In flight</th><th></th></tr></thead><tbody></tbody></table>
    <nav class="pager" data-list="upstreams" data-param="upage"></nav>
    <p id="action-result" class="note" role="status"></p>
  </section>
  <div class="columns">
    <section>
      <h2>Certificates</h2>
      <table id="certificates"><thead><tr><th>Host</th><th>Source</th><th>Issuer</th><th class="num">Days left</th></tr></thead><tbody></tbody></table>
      <nav class="pager" data-list="certificates" data-param="cpage"></nav>
    </section>
    <section>
      <h2>Refused requests</h2>
      <table id="refusals"><thead><tr><th>Refused by</th><th class="num">Requests</th></tr></thead><tbody></tbody></table>
    </section>
  </div>
  <section>
    <h2>Last reloads</h2>
    <table id="reloads"><thead><tr><th>Time</th><th>Result</th><th>Version</th><th>Errors</th></tr></thead><tbody></tbody></table>
  </section>
</main>
</body>
</html>
`;

const CSS = `
:root { --fg: #1d232b; --muted: #5d6875; --line: #dde2e8; --bg: #f6f8fa; --card: #fff; --ok: #1a7f37; --warn: #9a6700; --bad: #c62828; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: 16px; align-items: center; padding: 10px 20px; background: #17202b; color: #fff; }
header h1 { margin: 0; font-size: 18px; letter-spacing: .02em; }
header label { color: #c9d1da; font-size: 13px; }
header input, header select { margin-left: 6px; padding: 4px 8px; border: 1px solid #3b4754; border-radius: 4px; background: #222d39; color: #fff; font: inherit; }
header input { width: 240px; }
.filter { margin-left: auto; }
.live { font-size: 12px; color: #9fb0c0; }
.live.ok::before { content: "●"; color: #3fb950; margin-right: 5px; }
.live.stale::before { content: "●"; color: #f85149; margin-right: 5px; }
main { padding: 16px 20px 40px; max-width: 1400px; }
section { margin-bottom: 22px; }
h2 { font-size: 15px; margin: 0 0 8px; }
.columns { display: grid; grid-template-columns: 2fr 1fr; gap: 20px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.tile b { display: block; font-size: 20px; font-variant-numeric: tabular-nums; }
.tile span { color: var(--muted); font-size: 12px; }
table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; font-weight: 600; color: var(--muted); background: #eef1f4; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.group td { background: #f3f5f8; font-weight: 600; }
.muted, .aliases { color: var(--muted); font-size: 12px; }
.badge { display: inline-block; padding: 0 6px; margin-left: 4px; border-radius: 9px; font-size: 11px; line-height: 17px; border: 1px solid var(--line); color: var(--muted); }
.up { color: var(--ok); font-weight: 600; }
.down { color: var(--bad); font-weight: 600; }
.state-draining, .state-drained, .state-standby { color: var(--warn); font-weight: 600; }
.c4xx { color: var(--warn); }
.c5xx { color: var(--bad); }
.zero { color: #aab3bd; }
.expiring { color: var(--warn); font-weight: 600; }
.expired { color: var(--bad); font-weight: 600; }
.routes { margin: 0; padding: 0; list-style: none; font-size: 12px; }
.routes code { background: #eef1f4; padding: 0 4px; border-radius: 3px; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
pre.errors { margin: 0; white-space: pre-wrap; color: var(--bad); }
svg.spark { display: block; }
svg.spark polyline { fill: none; stroke: var(--accent); stroke-width: 1.5; }
button { font: inherit; font-size: 12px; padding: 2px 10px; border-radius: 4px; border: 1px solid #b9c2cc; background: #fff; cursor: pointer; }
button:hover { background: #eef1f4; }
button:disabled { opacity: .5; cursor: default; }
.pager { display: flex; gap: 10px; align-items: center; margin-top: 6px; color: var(--muted); font-size: 12px; }
.pager:empty { display: none; }
.note { min-height: 1em; color: var(--muted); font-size: 12px; margin: 6px 0 0; }
.empty td { color: var(--muted); font-style: italic; }
@media (max-width: 900px) { .columns { grid-template-columns: 1fr; } .filter { margin-left: 0; } }
`;

const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#17202b"/><path d="M4 13V3h5a3 3 0 0 1 0 6H4" fill="none" stroke="#3fb950" stroke-width="2"/></svg>`;

/** The browser modules, compiled by tsc next to this one; read once, without their source map links. */
const SCRIPTS = ['dashboard-client.js', 'dashboard-render.js', 'dashboard-dom.js'].map(
  (name) => [`/dashboard/${name}`, { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL(`./${name}`, import.meta.url), 'utf8').replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n') }] as const,
);

/** The page and its files by request path; GET / is the page. */
export const DASHBOARD_ASSETS: ReadonlyMap<string, DashboardAsset> = new Map([
  ['/', { type: 'text/html; charset=utf-8', body: HTML }],
  ['/dashboard/dashboard.css', { type: 'text/css; charset=utf-8', body: CSS }],
  ...SCRIPTS,
  ['/dashboard/favicon.svg', { type: 'image/svg+xml', body: FAVICON }],
  ['/favicon.ico', { type: 'image/svg+xml', body: FAVICON }],
]);

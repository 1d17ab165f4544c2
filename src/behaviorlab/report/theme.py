"""The page's stylesheet and scripts, inlined so the report opens anywhere without a network."""

from __future__ import annotations

CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d8dee4; --bg:#f6f8fa; --card:#fff;
  --accent:#0072B2;
        --ood:#D55E00; --ok:#1a7f37; --bad:#cf222e; }
* { box-sizing: border-box; }
body { margin:0; color:var(--fg); background:var(--bg); line-height:1.5;
       font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; }
.wrap { max-width:1240px; margin:0 auto; padding:0 24px; }
header.top { background:#0d1b2a; color:#fff; padding:28px 0 22px; }
header.top .kicker { text-transform:uppercase; letter-spacing:.12em; font-size:12px; opacity:.7; }
header.top h1 { margin:4px 0 6px; font-size:28px; font-weight:650; }
header.top .sub { margin:0; opacity:.75; font-size:13px; word-break:break-all; }
nav.toc { position:sticky; top:0; z-index:5; background:rgba(246,248,250,.95);
  border-bottom:1px solid var(--line);
          padding:10px 24px; display:flex; flex-wrap:wrap; gap:6px 16px; font-size:13px;
  max-width:none; }
nav.toc a { color:var(--accent); text-decoration:none; }
td a { color:var(--accent); }
nav.toc a:hover { text-decoration:underline; }
main { padding-bottom:48px; }
section { background:var(--card); border:1px solid var(--line); border-radius:10px;
  padding:18px 22px;
          margin:22px 0; }
section h2 { margin:0 0 12px; font-size:19px; }
h3 { font-size:15px; margin:18px 0 8px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(150px,1fr)); gap:10px;
  margin:10px 0; }
.cards.big { grid-template-columns:repeat(auto-fill,minmax(240px,1fr)); }
.card { border:1px solid var(--line); border-radius:8px; padding:8px 12px; background:#fbfcfd; }
.card .label { font-size:12px; color:var(--muted); text-transform:uppercase;
  letter-spacing:.04em; }
.card .value { font-size:15px; font-weight:600; word-break:break-word; }
.cards.big .value { font-size:30px; font-weight:700; color:var(--accent); }
.cards.big .card:nth-child(2) .value { color:var(--ood); }
.status { padding:1px 8px; border-radius:999px; background:#eaeef2; font-size:13px; white-space:nowrap; }
.status-complete, .status-trained { background:#dafbe1; color:var(--ok); }
.status-failed { background:#ffebe9; color:var(--bad); }
.status-running, .status-stopped { background:#fff8c5; color:#7d4e00; }
.table-wrap { overflow:auto; max-height:560px; border:1px solid var(--line); border-radius:8px;
  margin:8px 0; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { padding:5px 10px; text-align:left; border-bottom:1px solid #eef1f4; vertical-align:top; }
th { position:sticky; top:0; background:#f0f3f6; font-weight:600; white-space:nowrap; }
tbody tr:nth-child(even) { background:#fafbfc; }
td { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12.5px;
  word-break:break-word; }
td.num { text-align:right; white-space:nowrap; }
td:first-child { white-space:nowrap; }
mark { background:#ffd8b5; color:#7a2e00; padding:0 3px; border-radius:3px; }
pre { background:#f6f8fa; border:1px solid var(--line); border-radius:8px; padding:10px 12px;
  overflow:auto;
      font-size:12.5px; max-height:420px; }
pre.program { background:#0d1b2a; color:#e6edf3; font-size:13.5px; }
details { margin:10px 0; }
details > summary { cursor:pointer; color:var(--accent); font-weight:600; }
details.run { border:1px solid var(--line); border-radius:10px; background:#fff;
  padding:10px 16px; margin:16px 0; }
details.run > summary { font-size:17px; color:var(--fg); }
details.run section { border:none; padding:8px 0; margin:8px 0;
  border-top:1px solid var(--line); border-radius:0; }
.fig-grid { display:grid; grid-template-columns:repeat(auto-fill,minmax(520px,1fr)); gap:14px; }
figure { margin:0; border:1px solid #eef1f4; border-radius:8px; padding:4px; background:#fff;
  min-width:0; }
figure.wide { grid-column:1 / -1; }
figcaption { text-align:right; font-size:11px; padding:0 6px 2px; }
figcaption a { color:var(--muted); }
.muted, .source { color:var(--muted); font-size:13px; margin:4px 0 8px; }
.warn { color:var(--bad); background:#ffebe9; border-radius:6px; padding:6px 10px;
  font-size:13px; }
code { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12.5px; }
footer { color:var(--muted); font-size:12px; padding:16px 24px 32px; text-align:center; }
@media (max-width:640px) { .fig-grid { grid-template-columns:1fr; } }
"""

# Draws every figure from the embedded JSON. Plots inside a closed <details> were laid out at zero
# width, so they are resized when it opens.
PAGE_JS = """
(function () {
  var figs = JSON.parse(document.getElementById('bl-figdata').textContent);
  var config = {responsive: true, displaylogo: false, showLink: false, showSendToCloud: false};
  var jobs = [];
  Object.keys(figs).forEach(function (id) {
    var el = document.getElementById(id);
    if (el) { jobs.push(Plotly.newPlot(el, figs[id].data, figs[id].layout, config)); }
  });
  Promise.all(jobs).then(function () {
    document.documentElement.setAttribute('data-bl-plotted', String(jobs.length));
  });
  document.querySelectorAll('details').forEach(function (d) {
    d.addEventListener('toggle', function () {
      if (!d.open) { return; }
      d.querySelectorAll('.js-plotly-plot').forEach(function (p) { Plotly.Plots.resize(p); });
    });
  });
})();
"""

# Test mode only: records uncaught errors, rejected promises and console.error calls on the <html>
# element, where a headless browser's DOM dump shows them. Loaded before plotly.js.
CAPTURE_JS = """
(function () {
  var errors = [];
  var root = document.documentElement;
  function record(msg) {
    errors.push(String(msg));
    root.setAttribute('data-bl-errors', JSON.stringify(errors));
  }
  root.setAttribute('data-bl-errors', '[]');
  window.addEventListener('error', function (e) {
    record('error: ' + (e.message || e.type));
  }, true);
  window.addEventListener('unhandledrejection', function (e) {
    record('unhandled rejection: ' + e.reason);
  });
  var original = console.error;
  console.error = function () {
    record('console.error: ' + Array.prototype.map.call(arguments, String).join(' '));
    return original.apply(console, arguments);
  };
})();
"""

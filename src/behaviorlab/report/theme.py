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
/* A value wraps between its name parts (the <wbr> after / @ + _), never inside a word that fits. */
.card .value { font-size:15px; font-weight:600; overflow-wrap:break-word; }
.cards.big .value { font-size:30px; font-weight:700; color:var(--accent); }
.cards.big .card:nth-child(2) .value { color:var(--ood); }
.status { padding:1px 8px; border-radius:999px; background:#eaeef2; font-size:13px; white-space:nowrap; }
.status-complete, .status-trained { background:#dafbe1; color:var(--ok); }
.status-failed { background:#ffebe9; color:var(--bad); }
.status-running, .status-stopped { background:#fff8c5; color:#7d4e00; }
/* Only a long table scrolls in its own box: a short one with tall cells (the probe headlines)
   had its last row cut off at the box's edge. */
.table-wrap.long { max-height:560px; }
.table-wrap { overflow:auto; border:1px solid var(--line); border-radius:8px;
  margin:8px 0; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { padding:5px 10px; text-align:left; border-bottom:1px solid #eef1f4; vertical-align:top; }
th { position:sticky; top:0; background:#f0f3f6; font-weight:600; }
tbody tr:nth-child(even) { background:#fafbfc; }
/* Cells wrap between words and at the <wbr> the table puts after name separators (/ @ + _);
   a word is broken only when it cannot fit a line of its own. */
td { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12.5px;
  overflow-wrap:break-word; }
th.num, td.num { text-align:right; white-space:nowrap; }
mark { background:#ffd8b5; color:#7a2e00; padding:0 3px; border-radius:3px; }
/* Code wraps at the box's edge instead of running off the right side of the page. */
pre { background:#f6f8fa; border:1px solid var(--line); border-radius:8px; padding:10px 12px;
  overflow:auto; white-space:pre-wrap; overflow-wrap:anywhere;
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
.fig-title { font-size:14.5px; font-weight:600; padding:6px 8px 0; line-height:1.35; }
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

# Test mode only: once every figure is drawn, opens every <details> and measures the page as a
# person at this window size sees it; writes what it found to <html data-bl-layout> as JSON:
# tables and code blocks wider than their box (horizontal overflow: a clipped last column, code
# running off the edge), a page wider than the window, and figure texts (axis titles, chart
# title, legend) outside their figure's drawing or overlapping each other or the toolbar.
LAYOUT_JS = """
(function () {
  var root = document.documentElement;
  function box(el) {
    var r = el.getBoundingClientRect();
    return {l: r.left, t: r.top, r: r.right, b: r.bottom};
  }
  function overlap(a, b) { return a.l < b.r - 1 && b.l < a.r - 1 && a.t < b.b - 1 && b.t < a.b - 1; }
  function inside(a, b) { return a.l >= b.l - 1 && a.r <= b.r + 1 && a.t >= b.t - 1 && a.b <= b.b + 1; }
  function name(el) {
    var fig = el.closest('figure') ? el.closest('figure').querySelector('.bl-fig') : el.closest('section');
    return (fig && fig.id ? fig.id : '?') + ': ' + (el.textContent || '').trim().slice(0, 60);
  }
  function measure() {
    var found = {overflow: [], clipped: [], overlaps: [], page: null, tables: 0, code: 0, figures: 0};
    document.querySelectorAll('.table-wrap, pre').forEach(function (el) {
      if (el.tagName === 'PRE') { found.code += 1; } else { found.tables += 1; }
      if (el.scrollWidth > el.clientWidth + 1) {
        var what = el.tagName.toLowerCase() + ' ' + el.scrollWidth + '>' + el.clientWidth;
        found.overflow.push(what + ' ' + name(el));
      }
      // A short table shows every row; only a long one (class "long") scrolls in its box.
      if (el.tagName !== 'PRE' && !el.classList.contains('long') && el.scrollHeight > el.clientHeight + 1) {
        found.overflow.push('rows cut ' + el.scrollHeight + '>' + el.clientHeight + ' ' + name(el));
      }
    });
    if (root.scrollWidth > window.innerWidth + 1) { found.page = root.scrollWidth + '>' + window.innerWidth; }
    document.querySelectorAll('.js-plotly-plot').forEach(function (plot) {
      found.figures += 1;
      var frame = box(plot.querySelector('.main-svg'));
      var texts = plot.querySelectorAll('.g-xtitle text, .g-ytitle text, .legend');
      var parts = [];
      texts.forEach(function (t) {
        var b = box(t);
        if (b.r - b.l < 1) { return; }
        if (!inside(b, frame)) { found.clipped.push(name(t) + ' ' + JSON.stringify([b, frame])); }
        parts.push([t, b]);
      });
      var bar = plot.querySelector('.modebar');
      var title = plot.closest('figure').querySelector('.fig-title') || plot.querySelector('.g-gtitle text');
      if (bar && title && overlap(box(bar), box(title))) {
        found.overlaps.push('toolbar over ' + name(title));
      }
      if (title && title.scrollWidth > title.clientWidth + 1) {
        found.overflow.push('title ' + name(title));
      }
      for (var i = 0; i < parts.length; i++) {
        for (var j = i + 1; j < parts.length; j++) {
          if (overlap(parts[i][1], parts[j][1])) {
            found.overlaps.push(name(parts[i][0]) + ' / ' + name(parts[j][0]));
          }
        }
      }
    });
    found.split = splitWords();
    root.setAttribute('data-bl-layout', JSON.stringify(found));
  }
  // Words of table cells, card values and figure titles broken across two lines inside the word
  // (not at a space, a hyphen or dash, or the <wbr> after a name part, which splits text nodes).
  function splitWords() {
    var out = [];
    document.querySelectorAll('td, th, .card .value, .fig-title').forEach(function (el) {
      var walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (var node = walk.nextNode(); node; node = walk.nextNode()) {
        var re = /[^\\s\u2010-\u2014-]+[\u2010-\u2014-]?/g, m;  // hyphens and dashes may end a line
        while ((m = re.exec(node.data)) !== null) {
          var range = document.createRange();
          range.setStart(node, m.index);
          range.setEnd(node, m.index + m[0].length);
          var tops = {};
          Array.prototype.forEach.call(range.getClientRects(), function (r) {
            if (r.width > 0) { tops[Math.round(r.top)] = true; }
          });
          if (Object.keys(tops).length > 1 && out.length < 20) { out.push(m[0] + ' in ' + name(el)); }
        }
      }
    });
    return out;
  }
  function openAll() {
    document.querySelectorAll('details').forEach(function (d) { d.open = true; });
    var plots = Array.prototype.slice.call(document.querySelectorAll('.js-plotly-plot'));
    var resized = plots.map(function (p) { return Plotly.Plots.resize(p); });
    Promise.all(resized).then(function () { setTimeout(measure, 50); });
  }
  function wait() {
    var figs = document.getElementById('bl-figdata');
    if (!figs) {
      document.querySelectorAll('details').forEach(function (d) { d.open = true; });
      measure();
      return;
    }
    if (root.getAttribute('data-bl-plotted') === null) { setTimeout(wait, 50); return; }
    openAll();
  }
  window.addEventListener('load', function () { setTimeout(wait, 0); });
})();
"""

"""The step-through HTML page: one figure, each step a restyle by the page's script.

Self-contained (no network). The bar holds the step buttons (and arrow keys, Home/End), the
step's formula, a search box (jump to a node by name: opens the boxes around it, scrolls to
it, and goes to its step for a gradient node) and the module toggles (open or close a
folded module's box; clicking the box does the same). Opened boxes show their inside over
the figure, where the box is.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from string import Template
from typing import Any

from .frames import CURRENT, CURRENT_WIDTH, PENDING

# $names: the pending and current looks of the frame files (frames.py), filled in below
_STYLE = """
 html, body { height: 100%; margin: 0; }
 body { font-family: Helvetica, Arial, sans-serif; display: flex; flex-direction: column; }
 #bar { padding: 8px 12px; border-bottom: 1px solid #ddd; flex: none; }
 #view { flex: 1; overflow: auto; padding: 8px 12px; position: relative; }
 button { font-size: 15px; margin-right: 4px; }
 #counter { font-weight: bold; margin: 0 10px; }
 #caption { font-family: Courier, monospace; font-size: 15px; margin-top: 6px;
            white-space: pre-wrap; }
 #find { margin-left: 18px; } #search { font-size: 14px; width: 16em; }
 #found { color: #555; margin-left: 6px; }
 #modules { display: inline-block; margin-left: 18px; vertical-align: top; }
 #modules[hidden] { display: none; }
 #toggles { max-height: 40vh; overflow: auto; background: #fff; border: 1px solid #ccc;
            padding: 4px 8px; position: absolute; z-index: 100000; }
 #toggles label { display: block; white-space: nowrap; font-size: 13px; }
 #main svg { max-width: 100%; height: auto; }
 .detail { position: absolute; background: #fff; border: 2px solid #7e57c2;
           border-radius: 6px; box-shadow: 0 4px 18px rgba(0,0,0,.3); }
 .detail .dhead { background: #ece7f6; padding: 3px 8px; font-size: 13px;
                  cursor: pointer; white-space: nowrap; }
 .opens { cursor: pointer; }
 .opens:hover > polygon:first-of-type { stroke-width: 2.5; }
 .q { display: none; }
 .pending .v { display: none; } .pending .q { display: inline; }
 g.pending[id^="s"] > path:first-of-type { fill: $pending_fill; stroke: $pending_stroke; }
 .cur > path:first-of-type, .cur > polygon:first-of-type { stroke: $current_stroke;
                                                          stroke-width: $current_width; }
 g.cur[id^="s"] > path:first-of-type { fill: $current_fill; }
 .flash > path:first-of-type, .flash > polygon:first-of-type { stroke: #d400d4; stroke-width: 5; }
"""
STYLE = Template(_STYLE).substitute(
    pending_fill=PENDING["fill"], pending_stroke=PENDING["stroke"],
    current_fill=CURRENT["fill"], current_stroke=CURRENT["stroke"], current_width=CURRENT_WIDTH)

SCRIPT = r"""
const data = JSON.parse(document.getElementById("data").textContent);
const captions = data.captions, total = captions.length;
const view = document.getElementById("view");
const byId = (id) => document.getElementById(id);
let current = 0, marked = [], z = 10;
const pendables = [];
for (let k = 0; k < total; k++) {
  const el = byId("s" + (k + 1)); if (el) pendables.push([el, k]);
}
for (const [id, k] of Object.entries(data.grads)) {
  const el = byId(id); if (el) pendables.push([el, k]);
}
function hiddenIn(el) { return el.closest(".detail[hidden]") !== null; }
function deepest(path) {
  for (let i = path.length - 1; i >= 0; i--) {
    const el = byId(path[i]); if (el && !hiddenIn(el)) return el;
  }
  return null;
}
function reveal(el) {
  if (!el) return;
  const box = el.getBoundingClientRect(), pane = view.getBoundingClientRect();
  view.scrollTop += box.top - pane.top - (view.clientHeight - box.height) / 2;
  view.scrollLeft += box.left - pane.left - (view.clientWidth - box.width) / 2;
}
function highlight() {
  marked.forEach((el) => el.classList.remove("cur"));
  marked = (data.steps[current] || []).map(byId).filter((el) => el);
  marked.forEach((el) => el.classList.add("cur"));
}
function show(k) {
  current = Math.max(0, Math.min(total - 1, k));
  for (const [el, j] of pendables) el.classList.toggle("pending", j > current);
  highlight();
  byId("counter").textContent = "step " + (current + 1) + " / " + total;
  byId("caption").textContent = captions[current];
  history.replaceState(null, "", "#step=" + (current + 1));
  reveal(deepest(data.steps[current] || []));
}
// ---------------------------------------------------------------- opening boxes
function place(key) {
  const div = byId("detail-" + key), info = data.details[key];
  const anchor = info.anchors.map(byId).find((el) => el && !hiddenIn(el));
  if (anchor) {
    const r = anchor.getBoundingClientRect(), v = view.getBoundingClientRect();
    div.style.left = (r.left - v.left + view.scrollLeft) + "px";
    div.style.top = (r.top - v.top + view.scrollTop) + "px";
  }
  div.style.zIndex = ++z;
}
function setToggle(key, on) {
  const box = document.querySelector('.toggle[data-key="' + key + '"]');
  if (box) box.checked = on;
}
function openDetail(key) {
  const info = data.details[key];
  if (info.parent && byId("detail-" + info.parent).hidden) openDetail(info.parent);
  const div = byId("detail-" + key);
  if (div.hidden) { div.hidden = false; place(key); setToggle(key, true); }
}
function closeDetail(key) {
  byId("detail-" + key).hidden = true; setToggle(key, false);
  for (const [other, info] of Object.entries(data.details))
    if (info.parent === key && !byId("detail-" + other).hidden) closeDetail(other);
}
function toggleDetail(key) {
  if (byId("detail-" + key).hidden) openDetail(key); else closeDetail(key);
  highlight();
}
const toggles = byId("toggles");
const depth = (key) => data.details[key].parent ? 1 + depth(data.details[key].parent) : 0;
for (const [key, info] of Object.entries(data.details)) {
  for (const id of info.anchors) {
    const el = byId(id);
    if (el) { el.classList.add("opens"); el.addEventListener("click", () => toggleDetail(key)); }
  }
  const label = document.createElement("label");
  label.style.paddingLeft = (1.2 * depth(key)) + "em";
  const box = document.createElement("input");
  box.type = "checkbox"; box.className = "toggle"; box.dataset.key = key;
  box.addEventListener("change", () => box.checked ? openDetail(key) : closeDetail(key));
  label.append(box, " " + info.title);
  toggles.append(label);
  byId("detail-" + key).querySelector(".dhead").addEventListener(
    "click", () => closeDetail(key));
}
byId("modules").hidden = toggles.children.length === 0;
// ------------------------------------------------------------------- searching
const names = byId("names");
for (const name of [...new Set(data.names.map((n) => n[0]))].sort()) {
  const option = document.createElement("option"); option.value = name; names.append(option);
}
let lastQuery = "", hits = [], hit = -1;
function find(query) {
  const q = query.trim().toLowerCase();
  if (!q) return null;
  if (q !== lastQuery) {
    const exact = data.names.filter((n) => n[0].toLowerCase() === q);
    const start = data.names.filter((n) => n[0].toLowerCase().startsWith(q) && !exact.includes(n));
    const inner = data.names.filter((n) => n[0].toLowerCase().includes(q) &&
                                     !exact.includes(n) && !start.includes(n));
    hits = [...exact, ...start, ...inner]; hit = -1; lastQuery = q;
  }
  if (!hits.length) { byId("found").textContent = "no node named " + query; return null; }
  hit = (hit + 1) % hits.length;
  const [name, step, path] = hits[hit];
  path.slice(0, -1).forEach((id) => {
    const key = Object.keys(data.details).find((k) => data.details[k].anchors.includes(id));
    if (key) openDetail(key);
  });
  if (step >= 0) show(step);
  const el = deepest(path);
  document.querySelectorAll(".flash").forEach((e) => e.classList.remove("flash"));
  if (el) { el.classList.add("flash"); reveal(el); }
  byId("found").textContent = name + " (" + (hit + 1) + " of " + hits.length + ")";
  return el;
}
byId("search").addEventListener("keydown", (e) => {
  if (e.key === "Enter") { find(e.target.value); e.preventDefault(); }
  e.stopPropagation();
});
byId("go").onclick = () => find(byId("search").value);
// --------------------------------------------------------------------- stepping
byId("first").onclick = () => show(0);
byId("prev").onclick = () => show(current - 1);
byId("next").onclick = () => show(current + 1);
byId("last").onclick = () => show(total - 1);
document.addEventListener("keydown", (e) => {
  if (e.target.tagName === "INPUT") return;
  const moves = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1};
  if (e.key in moves) { show(current + moves[e.key]); e.preventDefault(); }
  if (e.key === "Home") show(0);
  if (e.key === "End") show(total - 1);
});
const hash = decodeURIComponent(location.hash);
const start = /step=(\d+)/.exec(hash);
show(start ? parseInt(start[1], 10) - 1 : 0);
const opening = /open=([^&]*)/.exec(hash);
if (opening) opening[1].split("|").forEach((title) => {
  const keys = Object.keys(data.details);
  const key = keys.find((k) => data.details[k].title === title) ||
              keys.find((k) => data.details[k].title.startsWith(title));
  if (key) { openDetail(key); highlight(); }
});
const finding = /find=([^&]*)/.exec(hash);
if (finding) find(finding[1]);
if (/modules/.test(hash)) byId("modules").open = true;
if (hash.includes("selftest")) {
  const shown = {step: current + 1, loadMs: Math.round(performance.now())};
  const seen = [current + 1];
  const key = (k) => document.dispatchEvent(new KeyboardEvent("keydown", {key: k}));
  key("ArrowRight"); seen.push(current + 1);
  key("ArrowRight"); seen.push(current + 1);
  key("ArrowLeft"); seen.push(current + 1);
  byId("next").click(); seen.push(current + 1);
  key("End"); seen.push(current + 1);
  byId("prev").click(); seen.push(current + 1);
  key("Home"); seen.push(current + 1);
  const open = [...document.querySelectorAll(".detail")].filter((d) => !d.hidden);
  byId("selftest").textContent = JSON.stringify({
    seen: seen, frames: total, caption: captions[current], shown: shown,
    search: byId("search") !== null, toggles: document.querySelectorAll(".toggle").length,
    opened: open.map((d) => d.querySelector(".dhead").textContent),
    openedTitles: open.map((d) => [...d.querySelectorAll("g.node text")].map(
      (t) => t.textContent)),
    flashed: [...document.querySelectorAll(".flash")].map((e) => e.id),
    found: byId("found").textContent,
    pending: document.querySelectorAll(".pending").length});
}
"""

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title}</title>
<style>{style}</style></head>
<body>
<div id="bar">
 <b>{title}</b><br>
 <button id="first" title="Home">&laquo; first</button>
 <button id="prev" title="left arrow">&#x25C0; previous</button>
 <span id="counter"></span>
 <button id="next" title="right arrow">next &#x25B6;</button>
 <button id="last" title="End">last &raquo;</button>
 <span style="color:#777">(or use the arrow keys)</span>
 <span id="find"><input id="search" list="names" placeholder="jump to a node by name"
   aria-label="jump to a node by name"><button id="go">find</button><span id="found"></span>
 <datalist id="names"></datalist></span>
 <details id="modules"><summary>modules: click a box to open it, or tick it here</summary>
 <div id="toggles"></div></details>
 <div id="caption"></div>
</div>
<div id="view">
<div id="main">{main}</div>
{details}
<pre id="selftest"></pre>
</div>
<script type="application/json" id="data">{data}</script>
<script>{script}</script>
</body></html>
"""


def script_json(value: Any) -> str:
    """``value`` as JSON safe inside an HTML <script>: no ``</`` (would close it) and no
    ``<!--`` (would switch the script to HTML's "double escaped" state)."""
    return json.dumps(value).replace("</", "<\\/").replace("<!--", "\\u003c!--")


def inline_svg(svg: str) -> str:
    """The <svg> element of a Graphviz SVG document (XML prolog and doctype dropped)."""
    return svg[svg.index("<svg"):]


def write_page(path: Path, main: str, details: list[tuple[str, str, str]],
               data: dict[str, Any], title: str) -> Path:
    """The self-contained page: the ``main`` SVG, the insides of boxes (``details``: key,
    title, SVG) and the script's ``data`` (captions, ids of each step, names, details)."""
    blocks = "\n".join(
        f'<div class="detail" id="detail-{key}" hidden><div class="dhead">&#x25BC; '
        f'{html.escape(head)} <small>(click to close)</small></div>{inline_svg(svg)}</div>'
        for key, head, svg in details)
    text = PAGE.format(title=html.escape(title), style=STYLE, main=inline_svg(main),
                       details=blocks, data=script_json(data), script=SCRIPT)
    path.write_text(text, encoding="utf-8")
    return path

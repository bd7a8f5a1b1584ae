"""``steps``: the derivation as frames - one SVG per backward step - and an HTML page.

Frame k highlights the gradient node computed at step k; values of earlier steps are shown,
later ones are still "?". The page embeds every frame (self-contained, no network), with
buttons, arrow keys (and Home/End), and the step's formula under the figure.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from .dot import Options, build_dot
from .model import Model, Step, build_model
from .render import render
from .text import value_lines


def step_caption(step: Step, total: int) -> str:
    """``Step 3 of 14: dxmu2 = 2 * xmu * dsq   (seed step 3)   value [0.5, -0.5]``."""
    parts = [f"Step {step.index + 1} of {total}: {step.formula}"]
    if step.seed_step is not None:
        parts.append(f"(seed step {step.seed_step})")
    parts.append("value " + " ".join(value_lines(step.tensor.data)))
    if step.callout:
        parts.append("- " + step.callout)
    elif step.zero:
        parts.append("- zero gradient")
    return "   ".join(parts)


def frame_sources(model: Model, view: str = "backward", title: str | None = None,
                  collapse: Any = None) -> list[str]:
    """The DOT source of every frame: frame k knows steps 0..k and highlights step k."""
    sources = []
    for step in model.steps:
        opts = Options(view=view, collapse=collapse, title=title,
                       known=set(range(step.index + 1)), current=step.index)
        sources.append(build_dot(model, opts))
    return sources


def _inline_svg(svg: str) -> str:
    """The <svg> element of a Graphviz SVG document (XML prolog and doctype dropped)."""
    return svg[svg.index("<svg"):]


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title}</title>
<style>
 html, body {{ height: 100%; margin: 0; }}
 body {{ font-family: Helvetica, Arial, sans-serif; display: flex; flex-direction: column; }}
 #bar {{ padding: 8px 12px; border-bottom: 1px solid #ddd; flex: none; }}
 #view {{ flex: 1; overflow: auto; padding: 8px 12px; }}
 button {{ font-size: 15px; margin-right: 4px; }}
 #counter {{ font-weight: bold; margin: 0 10px; }}
 #caption {{ font-family: Courier, monospace; font-size: 15px; margin-top: 6px;
            white-space: pre-wrap; }}
 .frame {{ display: none; }} .frame.shown {{ display: block; }}
 .frame svg {{ max-width: 100%; height: auto; }}
</style></head>
<body>
<div id="bar">
 <b>{title}</b><br>
 <button id="first" title="Home">&laquo; first</button>
 <button id="prev" title="left arrow">&#x25C0; previous</button>
 <span id="counter"></span>
 <button id="next" title="right arrow">next &#x25B6;</button>
 <button id="last" title="End">last &raquo;</button>
 <span style="color:#777">(or use the arrow keys)</span>
 <div id="caption"></div>
</div>
<div id="view">
{frames}
<pre id="selftest"></pre>
</div>
<script>
const captions = {captions};
const frames = document.querySelectorAll(".frame");
let current = 0;
function show(k) {{
  current = Math.max(0, Math.min(frames.length - 1, k));
  frames.forEach((f, i) => f.classList.toggle("shown", i === current));
  document.getElementById("counter").textContent =
    "step " + (current + 1) + " / " + frames.length;
  document.getElementById("caption").textContent = captions[current];
  history.replaceState(null, "", "#step=" + (current + 1));
  const node = document.getElementById("current" + (current + 1));
  const view = document.getElementById("view");
  if (node) {{
    const box = node.getBoundingClientRect(), pane = view.getBoundingClientRect();
    view.scrollTop += box.top - pane.top - (view.clientHeight - box.height) / 2;
    view.scrollLeft += box.left - pane.left - (view.clientWidth - box.width) / 2;
  }}
}}
document.getElementById("first").onclick = () => show(0);
document.getElementById("prev").onclick = () => show(current - 1);
document.getElementById("next").onclick = () => show(current + 1);
document.getElementById("last").onclick = () => show(frames.length - 1);
document.addEventListener("keydown", (e) => {{
  const moves = {{ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1}};
  if (e.key in moves) {{ show(current + moves[e.key]); e.preventDefault(); }}
  if (e.key === "Home") show(0);
  if (e.key === "End") show(frames.length - 1);
}});
const hash = location.hash;
const start = /step=(\\d+)/.exec(hash);
show(start ? parseInt(start[1], 10) - 1 : 0);
if (hash.includes("selftest")) {{
  const seen = [current + 1];
  const key = (k) => document.dispatchEvent(new KeyboardEvent("keydown", {{key: k}}));
  key("ArrowRight"); seen.push(current + 1);
  key("ArrowRight"); seen.push(current + 1);
  key("ArrowLeft"); seen.push(current + 1);
  document.getElementById("next").click(); seen.push(current + 1);
  key("End"); seen.push(current + 1);
  document.getElementById("prev").click(); seen.push(current + 1);
  key("Home"); seen.push(current + 1);
  document.getElementById("selftest").textContent = JSON.stringify(
    {{seen: seen, frames: frames.length, caption: captions[current]}});
}}
</script>
</body></html>
"""


def script_json(value: Any) -> str:
    """``value`` as JSON safe inside an HTML <script>: no ``</`` (would close it) and no
    ``<!--`` (would switch the script to HTML's "double escaped" state)."""
    return json.dumps(value).replace("</", "<\\/").replace("<!--", "\\u003c!--")


def write_page(path: Path, svgs: list[str], captions: list[str], title: str) -> Path:
    """The self-contained HTML page stepping through ``svgs`` (inline) with ``captions``."""
    frames = "\n".join(
        f'<div class="frame" id="frame{k + 1}">{_inline_svg(svg)}</div>'
        for k, svg in enumerate(svgs))
    text = PAGE.format(title=html.escape(title), frames=frames,
                       captions=script_json(captions))
    path.write_text(text, encoding="utf-8")
    return path


def steps(root: Any, out_dir: str | Path, view: str = "backward", title: str | None = None,
          collapse: Any = None, prefix: str = "step") -> list[Path]:
    """Write one SVG frame per backward step of ``root`` and an HTML page stepping through
    them (buttons and arrow keys, each step's formula). Returns the written paths, frames
    first, the page (``<prefix>s.html``) last."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = build_model(root)
    if not model.steps:
        raise ValueError("steps: the graph has no backward steps (nothing requires grad)")
    title = title or "Backward pass, step by step"
    paths: list[Path] = []
    svgs: list[str] = []
    for k, source in enumerate(frame_sources(model, view, title, collapse), start=1):
        svg = render(source, "svg").decode("utf-8")
        path = out / f"{prefix}_{k:03d}.svg"
        path.write_text(svg, encoding="utf-8")
        paths.append(path)
        svgs.append(svg)
    captions = [step_caption(step, len(model.steps)) for step in model.steps]
    paths.append(write_page(out / f"{prefix}s.html", svgs, captions, title))
    return paths

"""Benchmark 4: drawing times of forward + backward graphs of 100, 1,000 and 5,000 nodes.

The graphs are BN MLPs (``Linear -> BatchNorm1d -> ReLU`` blocks, width 4, batch 8, mean of
squares), deep enough that forward nodes + gradient steps reach the size. Timed, each from
the root tensor (the backward graph built inside): ``draw(root, view="both").svg`` (figure
as SVG, modules folded by default past 400 nodes), and ``viz.steps(root, dir)`` (the
step-through page, frames included up to 200 steps). The page is then loaded in headless
Chromium (when installed): "load" is the page's own clock (``performance.now()`` once its
script has run: HTML and SVG parsed, first step shown), "chromium" the whole process.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from . import env

SIZES = (100, 1000, 5000)
QUICK_SIZES = (100, 300)
TARGETS = {5000: {"draw_s": 10.0, "load_s": 3.0}}
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def bn_mlp(blocks: int) -> Any:
    """The loss of a ``blocks``-block BN MLP (its graph, before backward)."""
    import numpy as np

    import minigrad as mg

    layers: list = []
    for _ in range(blocks):
        layers += [mg.nn.Linear(4, 4), mg.nn.BatchNorm1d(4), mg.nn.ReLU()]
    x = mg.tensor(np.random.default_rng(0).normal(size=(8, 4)), dtype="float32",
                  requires_grad=True, name="x")
    return (mg.nn.Sequential(*layers)(x) ** 2).mean()


def graph_size(root: Any) -> tuple[int, int]:
    """(forward nodes drawn, gradient steps) of ``root``."""
    from minigrad.viz import build_model

    model = build_model(root)
    return sum(1 for n in model.forward if id(n) not in model.hidden), len(model.steps)


def graph_of_size(nodes: int) -> tuple[Any, tuple[int, int]]:
    """The smallest BN MLP whose forward nodes + gradient steps reach ``nodes`` (a few
    blocks' worth over at most), and its ``graph_size``."""
    blocks = 1
    while True:
        root = bn_mlp(blocks)
        size = graph_size(root)
        if sum(size) >= nodes:
            return root, size
        blocks = max(blocks + 1, blocks * nodes // sum(size))


def _chromium() -> str | None:
    return next((shutil.which(n) for n in CHROMIUM if shutil.which(n)), None)


def load_page(page: Path) -> dict[str, Any]:
    """Open ``page`` in headless Chromium: the page's clock at load, the process time."""
    browser = _chromium()
    if browser is None:
        return {"load_status": "no chromium"}
    with tempfile.TemporaryDirectory() as profile:
        start = time.perf_counter()
        done = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             f"--user-data-dir={profile}", "--dump-dom", f"{page.as_uri()}#selftest"],
            capture_output=True, text=True, timeout=300, check=False)
        wall = time.perf_counter() - start
    found = re.search(r'<pre id="selftest">(.*?)</pre>', done.stdout, re.S)
    if not found:
        return {"load_status": "no report", "chromium_s": wall}
    report = json.loads(found[1].replace("&quot;", '"').replace("&amp;", "&")
                        .replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", " "))
    return {"load_status": "ok", "load_s": report["shown"]["loadMs"] / 1000,
            "chromium_s": wall}


def measure(nodes: int, folder: Path) -> dict[str, Any]:
    """One row: the graph's size, the figure's and the page's times and sizes."""
    from minigrad.viz import draw, steps

    root, (forward, grads) = graph_of_size(nodes)
    start = time.perf_counter()
    svg = draw(root, view="both").svg
    draw_s = time.perf_counter() - start
    start = time.perf_counter()
    written = steps(root, folder / f"n{nodes}")
    steps_s = time.perf_counter() - start
    page = written[-1]
    details = page.read_text(encoding="utf-8").count('<div class="detail"')
    boxes = len(re.findall(r'<g id="[^"]*" class="node', svg))
    row = {"nodes": forward + grads, "forward": forward, "steps": grads,
           "boxes": boxes, "draw_s": draw_s, "steps_s": steps_s,
           "frames": len(written) - 1, "details": details,
           "page_mb": page.stat().st_size / 2**20, **load_page(page)}
    return row


def format_table(rows: list[dict[str, Any]]) -> str:
    """One line per size."""
    header = (f"{'nodes (fwd+grad)':>21} {'boxes':>6} {'draw svg s':>11} {'steps page s':>13}"
              f" {'frames':>7} {'opened':>7} {'page MB':>8} {'load s':>7} {'chromium s':>11}"
              f" {'target':>18}")
    lines = [header, "-" * len(header)]
    for row in rows:
        target = TARGETS.get(row["requested"])
        aim = f"draw<{target['draw_s']:.0f} load<{target['load_s']:.0f}" if target else ""
        load = f"{row['load_s']:>7.2f}" if "load_s" in row else f"{row['load_status']:>7}"
        chromium = f"{row['chromium_s']:>11.2f}" if "chromium_s" in row else f"{'-':>11}"
        lines.append(
            f"{row['nodes']:>7,} ({row['forward']:,}+{row['steps']:,})".rjust(21)
            + f" {row['boxes']:>6} {row['draw_s']:>11.2f} {row['steps_s']:>13.2f}"
            f" {row['frames']:>7} {row['details']:>7} {row['page_mb']:>8.2f} {load}"
            f" {chromium} {aim:>18}")
    lines.append("(boxes: nodes drawn in the figure; opened: boxes whose inside the page can "
                 "show; load: the page's clock when its script has run; chromium: whole "
                 "headless process, start-up included)")
    return "\n".join(lines)


def run(quick: bool = False, out_dir: Path = env.RESULTS) -> dict[str, Any]:
    """Run benchmark 4, print its table, write draw.json; return the payload."""
    from minigrad.viz.render import system_dot, uses_system_dot

    info = env.machine_info(peers=False)
    renderer = f"system dot ({system_dot()})" if uses_system_dot() else "WebAssembly Graphviz"
    print(env.format_header(f"drawing: BN MLP forward + backward graphs, {renderer}", info))
    rows = []
    with tempfile.TemporaryDirectory(prefix="mg-draw-") as tmp:
        for nodes in QUICK_SIZES if quick else SIZES:
            rows.append({"requested": nodes, **measure(nodes, Path(tmp))})
    print(format_table(rows))
    payload = {"benchmark": "draw", "quick": quick, "renderer": renderer, "info": info,
               "rows": rows}
    print(f"wrote {env.write_json('draw', payload, out_dir)}")
    return payload

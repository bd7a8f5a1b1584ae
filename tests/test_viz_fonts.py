"""Labels fit their boxes in any viewer: every text of the drawn SVGs, measured with DejaVu
Sans (the widest common sans-serif fallback) independently of the renderer, stays inside
its node or cluster box and inside the picture, under whichever renderer is in use
(``MINIGRAD_RENDERER``: the system Graphviz or the WebAssembly one)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

import minigrad as mg
from minigrad.viz import draw
from minigrad.viz import render as render_module
from minigrad.viz.figures import write_demo_figures
from tests.svg_fit import overflows, text_width

SVG_HEAD = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 60">'
            '<g class="graph" transform="translate(0 60)">')


@pytest.fixture(scope="module")
def renderer() -> str:
    """The renderer in use; skipped when there is none, or when the system Graphviz cannot
    find DejaVu Sans (it would size the labels with another font)."""
    try:
        system = render_module.uses_system_dot()
        render_module.render("digraph { a }", "svg")
    except Exception as error:
        pytest.skip(f"no Graphviz renderer: {error}")
    if system and shutil.which("fc-match"):
        found = subprocess.run(["fc-match", "-f", "%{family}", "DejaVu Sans"],
                               capture_output=True, text=True, check=False).stdout
        if "DejaVu Sans" not in found:
            pytest.skip(f"the system Graphviz has no DejaVu Sans (fontconfig gives {found!r})")
    return "system" if system else "wasm"


def _assert_fits(svg: str, what: str) -> int:
    found, checked = overflows(svg)
    assert checked > 0, what
    assert not found, f"{what}: " + "; ".join(
        f"{o.where}: {o.text[:60]!r} over by {o.by:.1f} pt" for o in found[:8])
    return checked


def test_width_measure_is_dejavu() -> None:
    """The measure itself: DejaVu Sans advance widths (W 1021/2048 em... checked against the
    font's published widths: 'M' is 1767 units, space 651, of 2048)."""
    assert text_width("M", 2048) == pytest.approx(1767)
    assert text_width(" ", 2048) == pytest.approx(651)
    assert text_width("M", 10, bold=True) > text_width("M", 10)
    assert text_width("x" * 10, 10, "Courier,monospace") == pytest.approx(10 * 1233 / 2048 * 10)


def test_the_check_finds_text_over_its_box() -> None:
    wide = "a label much wider than its box"
    node = ('<g class="node"><title>n1</title><polygon points="50,-40 110,-40 110,-10 50,-10"/>'
            f'<text text-anchor="middle" x="80" y="-20" font-family="DejaVu Sans" '
            f'font-size="11">{wide}</text></g>')
    found, checked = overflows(SVG_HEAD + node + "</g></svg>")
    assert checked == 1 and found and found[0].where == "n1"
    fitting = node.replace(wide, "ok")
    assert overflows(SVG_HEAD + fitting + "</g></svg>")[0] == []
    clash = ('<g class="node"><title>n2</title><polygon points="0,-40 190,-40 190,-10 0,-10"/>'
             '<text x="20" y="-20" font-size="11" font-weight="bold">dxmu</text>'
             '<text x="40" y="-20" font-size="11"> = dx1</text></g>')
    assert [o.where for o in overflows(SVG_HEAD + clash + "</g></svg>")[0]] == ["n2"]


def test_demo_figures_fit(renderer, tmp_path) -> None:
    """Every SVG the demo writes (figures and step-through frames)."""
    written = write_demo_figures(tmp_path)
    svgs = sorted(tmp_path.rglob("*.svg"))
    assert len(svgs) >= 9 + 14, [str(p) for _, p in written]
    for path in svgs:
        _assert_fits(path.read_text(encoding="utf-8"), f"{renderer}: {path.name}")


def _wide_graph() -> mg.Tensor:
    """Wide names, a unicode name, a large value (histogram row) and a module cluster."""
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((16, 3)), requires_grad=True, name="W" * 30)
    w = mg.tensor(rng.standard_normal(3), requires_grad=True, name="é∑😀 mmm wide — ✓ ∂x")
    h = (x * w).named("MMMMMMMMMM" * 3)
    net = mg.nn.Sequential(mg.nn.Linear(3, 2, dtype="float64"), mg.nn.Tanh()) \
        if hasattr(mg.nn, "Tanh") else mg.nn.Sequential(mg.nn.Linear(3, 2, dtype="float64"))
    return net(h).sum().named("total & <loss>")


@pytest.mark.parametrize("view", ["forward", "backward", "both"])
def test_wide_and_unicode_labels_fit(renderer, view) -> None:
    drawing = draw(_wide_graph(), view=view,
                   title="A title wider than the graph under it: " + "mmmm " * 12)
    _assert_fits(drawing.svg, f"{renderer}, {view}")


def test_every_svg_keeps_spaces_and_asks_for_dejavu_first(renderer) -> None:
    """Every text of every document of a multi-graph run (as viz.steps renders frames)
    keeps its spaces; the label font is the DejaVu-first stack, never a bare Helvetica."""
    svg = render_module.render('digraph { a [label=" x"] } digraph { b }', "svg").decode()
    texts = [part[:part.index(">")] for part in svg.split("<text")[1:]]
    assert len(texts) == (2 if renderer == "system" else 1)  # WebAssembly: the first graph
    assert all('xml:space="preserve"' in text for text in texts)
    figure = draw(_wide_graph(), view="both").svg
    assert render_module.FONT_STACK in figure and '"Helvetica' not in figure


def test_docs_figures_fit() -> None:
    """The copies of the demo's figures in docs/img (what a reader of the docs sees)."""
    from pathlib import Path

    figures = sorted((Path(__file__).parent.parent / "docs" / "img").glob("*.svg"))
    assert figures
    for path in figures:
        _assert_fits(path.read_text(encoding="utf-8"), f"docs/img/{path.name}")

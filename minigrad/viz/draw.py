"""``draw``: one figure of a graph - forward, backward (the gradient graph) or both."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from .dot import Options, build_dot
from .model import Model, build_model
from .render import render, save


class Drawing:
    """A rendered-on-demand figure: ``.source`` is the DOT text; ``.save(path)`` writes
    .svg/.png/.pdf/.dot by suffix; Jupyter shows it as SVG."""

    def __init__(self, source: str, model: Model | None = None,
                 alternative: Callable[[], str] | None = None) -> None:
        self.source = source
        self.model = model
        self._alternative = alternative

    @cached_property
    def svg(self) -> str:
        """The figure as SVG text (system dot, else the WebAssembly fallback).

        A side-by-side figure has an alternative source with its parts in the other order;
        whichever puts the forward graph on the left is kept (Graphviz's cluster order is
        not under our control).
        """
        svg = render(self.source, "svg").decode("utf-8")
        if self._alternative is not None and not forward_on_left(svg):
            other_source = self._alternative()
            other = render(other_source, "svg").decode("utf-8")
            if forward_on_left(other):
                self.source, svg = other_source, other
        self._alternative = None
        return svg

    def save(self, path: str | Path) -> Path:
        """Write the figure; the format comes from the suffix (.svg, .png, .pdf, .dot)."""
        if Path(path).suffix.lower() == ".svg":
            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(self.svg, encoding="utf-8")
            return target
        if self._alternative is not None:
            _ = self.svg  # settles which source is used
        return save(self.source, path)

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"image/svg+xml": self.svg, "text/plain": repr(self)}

    def __repr__(self) -> str:
        lines = self.source.count("\n")
        return f"<minigrad.viz.Drawing: {lines} lines of DOT; .save('fig.svg') to write it>"


def _left_edges(svg: str, role: str) -> list[float]:
    pattern = (rf'<g id="({role}_[^"]*)" class="cluster">\s*<title>[^<]*</title>\s*'
               r'<(?:path|polygon)[^>]*(?:d="M|points=")(-?[\d.]+),')
    found = dict(re.findall(pattern, svg))
    return [float(x) for x in found.values()]


def forward_on_left(svg: str) -> bool:
    """Whether every forward part of a side-by-side SVG lies left of its backward part."""
    forward, backward = _left_edges(svg, "sideforward"), _left_edges(svg, "sidebackward")
    return all(f < b for f, b in zip(forward, backward, strict=False))


def draw(root: Any, view: str = "forward", values: bool = True, grads: bool = True,
         collapse: Any = None, *, max_nodes: int = 400, title: str | None = None,
         grad_outputs: Any = None, expand: Any = None) -> Drawing:
    """Draw the graph of ``root`` as the forward graph, the gradient graph, or both.

    ``root``: a Tensor (before or after ``backward``), a sequence of them, a ``GradGraph``,
    any object with a ``graph_outputs`` attribute (tensors, or a callable returning them),
    or a JIT-traced graph (an ``mg.jit`` function after its first call: ops and shapes).
    ``view``: "forward" (name, expression, shape, value, gradient when known),
    "backward" (each gradient node ``d<name>`` with its local rule, the seed's step number
    for BatchNorm, its value; partial contributions and their sums) or "both" (side by
    side, each gradient linked by a dashed line to its forward node).
    ``values`` / ``grads``: show values / compute and show gradients.
    ``collapse``: None (fold modules automatically past ``max_nodes`` nodes, forward and
    gradient together), False, True (fold every innermost module), a module depth, or
    module names / types / objects to fold.
    ``expand``: modules (objects, type names or types) left open where modules fold, e.g.
    ``expand=net[1]`` shows that BatchNorm's seed steps (mu, xmu, sq, var, ...).
    Zero gradients are highlighted and exact cancellations called out.
    """
    model = build_model(root, grads=grads or view != "forward", grad_outputs=grad_outputs)
    if any(t.meta.get("traced") for t in model.outputs):
        values = False  # a traced graph records shapes, not values
    opts = Options(view=view, values=values, grads=grads, collapse=collapse,
                   max_nodes=max_nodes, title=title, expand=expand)
    alternative = None
    if view == "both":
        alternative = partial(build_dot, model, replace(opts, backward_first=True))
    return Drawing(build_dot(model, opts), model, alternative)

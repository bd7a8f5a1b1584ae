"""``steps``: the derivation step by step - an HTML page, and one SVG frame per step.

Frame k highlights the gradient node computed at step k; values of earlier steps are shown,
later ones are still "?". The graph is laid out and rendered once, with every value known
(so nodes do not move from frame to frame); a frame is that figure restyled
(``frames.py``). The page (``page.py``) embeds it with buttons, arrow keys, the step's
formula, a search box and module toggles; a folded graph's boxes open to show their inside
(``expand.py``), down to a BatchNorm's seed steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ArgumentError
from .expand import PagePlan, plan_page
from .frames import Frames, mark_values, prefix_auto_ids
from .model import Model, Step, build_model
from .page import script_json, write_page
from .render import render
from .text import value_lines

FRAME_FILES = 200           # up to this many steps, steps() also writes one SVG per step


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


def render_all(sources: list[str]) -> list[str]:
    """Every DOT source as SVG, with as few renderer runs as possible (the system ``dot``
    reads several graphs from one input and writes one SVG document each)."""
    if len(sources) > 1:
        text = render("".join(sources), "svg").decode("utf-8")
        parts = ["<?xml" + p for p in text.split("<?xml")[1:]]
        if len(parts) == len(sources):
            return parts
    return [render(source, "svg").decode("utf-8") for source in sources]


def _names(model: Model, plan: PagePlan, view: str) -> list[list[Any]]:
    """[name, step index (-1: a forward node), ids outermost first] for the search box."""
    names: list[list[Any]] = []
    if view != "forward":
        for step in model.steps:
            path = plan.step_paths.get(step.index, [])
            names += [[name, step.index, path] for name in step.names]
    if view != "backward":
        for node in model.forward:
            path = plan.node_paths.get(id(node))
            if path and id(node) not in model.hidden:
                names.append([model.forward_name(node), -1, path])
    return names


def _frames(out: Path, prefix: str, marked: str, model: Model, plan: PagePlan) -> list[Path]:
    step_of = {f"s{k + 1}": k for k in range(len(model.steps))}
    step_of.update({key: index for key, (index, _) in plan.grad_rows.items()})
    frames = Frames(marked, step_of)
    paths = []
    for step in model.steps:
        shown = set(plan.step_paths.get(step.index, []))
        path = out / f"{prefix}_{step.index + 1:03d}.svg"
        path.write_text(frames.frame(step.index, shown), encoding="utf-8")
        paths.append(path)
    return paths


def steps(root: Any, out_dir: str | Path, view: str = "backward", title: str | None = None,
          collapse: Any = None, prefix: str = "step", *, frames: bool | None = None,
          max_nodes: int = 400, expand: Any = None) -> list[Path]:
    """Write the step-through page of the backward pass of ``root`` (``<prefix>s.html``)
    and, with ``frames`` (default: when there are at most 200 steps), one SVG per step.

    ``root``: as in ``draw``, or the ``Model`` a drawing already built from it
    (``Drawing.model``: the backward pass is not run again).
    ``collapse`` / ``max_nodes`` / ``expand``: as in ``draw`` (modules fold by default past
    ``max_nodes`` nodes; the page opens any box on a click). Returns the written paths,
    frames first, the page last.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = root if isinstance(root, Model) else build_model(root)
    if not model.steps:
        raise ArgumentError("steps: the graph has no backward steps (nothing requires grad)")
    title = title or "Backward pass, step by step"
    plan = plan_page(model, view, collapse, max_nodes, expand)
    svgs = render_all([figure.source for figure in plan.figures])
    svgs = [prefix_auto_ids(mark_values(svg, plan.grad_rows), f"{figure.key or 'm'}_")
            for svg, figure in zip(svgs, plan.figures, strict=True)]
    written: list[Path] = []
    if frames or (frames is None and len(model.steps) <= FRAME_FILES):
        written = _frames(out, prefix, svgs[0], model, plan)
    data = {
        "captions": [step_caption(step, len(model.steps)) for step in model.steps],
        "steps": [plan.step_paths.get(step.index, []) for step in model.steps],
        "grads": {key: index for key, (index, _) in plan.grad_rows.items()},
        "names": _names(model, plan, view),
        "details": {f.key: {"title": f.title, "parent": f.parent, "anchors": f.anchors}
                    for f in plan.figures[1:]},
    }
    details = [(f.key, f.title, svg) for f, svg in zip(plan.figures[1:], svgs[1:], strict=True)]
    written.append(write_page(out / f"{prefix}s.html", svgs[0], details, data, title))
    return written


__all__ = ["FRAME_FILES", "render_all", "script_json", "step_caption", "steps"]

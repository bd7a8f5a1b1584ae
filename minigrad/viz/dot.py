"""DOT source for the forward graph, the gradient graph, or both side by side.

Node ids are generated (``f3``, ``g7``, ``u2``); user text only ever reaches HTML-like
labels through ``text.escape``. Nothing here recurses over a graph.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import ArgumentError
from ..tensor import Tensor
from .groups import Unit, collapse_units, module_label
from .model import Model, Step, forward_inputs, node_kind
from .text import escape, histogram_table, is_small, shape_text, value_lines

VIEWS = ("forward", "backward", "both")
FONT = "DejaVu Sans"  # sized by both renderers with its own widths (render.FONT_STACK)
MONO = "Courier"
COLORS = {
    "forward": "#eef3fb", "leaf": "#f4f4f4", "grad": "#eefaf0", "seed": "#e3f2fd",
    "zero": "#fff3b0", "cancel": "#ffd9d9", "group": "#ece7f6", "summary": "#fafafa",
}


@dataclass
class Options:
    """What a figure shows.

    ``expand``: modules left open in a folded graph; ``units``: (units, step boxes) from
    ``groups`` instead of working them out;
    ``only_steps``: the gradient steps drawn (None: all) - a box's inside on the step page;
    ``step_ids``: gradient nodes get the SVG ids ``s<k>`` (step k, 1-based; the step page).
    """

    view: str = "forward"
    values: bool = True
    grads: bool = True
    collapse: Any = None
    max_nodes: int = 400
    title: str | None = None
    backward_first: bool = False
    expand: Any = None
    units: Any = None
    only_steps: set[int] | None = None
    step_ids: bool = False


def quote(value: object) -> str:
    """A DOT double-quoted string (for attribute values we generate)."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def _dot_value(value: object) -> object:
    return str(value).lower() if isinstance(value, bool) else value


def _attrs(**attrs: object) -> str:
    return ", ".join(f"{key}={quote(_dot_value(value))}" for key, value in attrs.items()
                     if value is not None)


def table(rows: Iterable[str]) -> str:
    """An HTML-like label: one table row per (already escaped) cell content."""
    cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def _small(text: str, color: str = "#555555") -> str:
    return f'<FONT POINT-SIZE="9" COLOR="{color}">{escape(text)}</FONT>'


def _mono(lines: list[str], color: str = "#000000") -> list[str]:
    return [f'<FONT FACE="{MONO}" POINT-SIZE="10" COLOR="{color}">{escape(line)}</FONT>'
            for line in lines]


def value_rows(array: object, color: str = "#000000", digits: int = 5) -> list[str]:
    """Rows showing a value: every element when small, else min/mean/max and a histogram."""
    if is_small(array):
        return _mono(value_lines(array, digits=digits), color)
    rows = _mono(value_lines(array, bars=False), color)
    bars = histogram_table(array, color)
    if bars:
        rows.insert(1, bars)
    return rows


def _title(name: str, extra: str = "") -> str:
    return f"<B>{escape(name)}</B>{extra}"


# --------------------------------------------------------------------------- labels
def forward_label(model: Model, node: Tensor, opts: Options) -> str:
    """Name (and seed step), expression, shape, value and gradient of a forward node."""
    step = node.meta.get("seed_step")
    badge = _small(f"   forward step {step}", "#1a5fb4") if step is not None else ""
    rows = [_title(model.forward_name(node), badge)]
    if node.op is not None:
        rows.append(escape("= " + model.expression(node)))
    note = model.note(node)
    if note:
        rows.append(_small(note))
    op = f"{node.op.name} · " if node.op is not None else ""
    rows.append(_small(op + shape_text(node.shape, node.dtype)))
    if opts.values:
        rows += value_rows(node.data)
    grad = model.grad_step(node) if opts.grads else None
    if grad is not None:
        color = "#b35900" if grad.zero else "#1b7f3b"
        rows.append(_small(f"{grad.name}:", color))
        rows += value_rows(grad.tensor.data, color)
    return table(rows)


def step_label(step: Step, opts: Options) -> str:
    """d-name (aliases, seed step), the local rule, shape and value of a gradient node."""
    aliases = "".join(f" = {escape(alias)}" for alias in step.names[1:])
    badge = _small(f"   step {step.seed_step}", "#c01c28") if step.seed_step is not None else ""
    rows = [_title(step.name, aliases + badge), escape("= " + step.rule)]
    rows.append(_small(shape_text(step.tensor.shape, step.tensor.dtype)))
    if opts.values:
        rows += value_rows(step.tensor.data, digits=step.digits)
        if step.zero:
            rows.append(f'<B><FONT COLOR="#b35900">{escape("zero gradient")}</FONT></B>')
    if step.callout:
        rows.append(f'<B><FONT COLOR="#c01c28">{escape(step.callout)}</FONT></B>')
    return table(rows)


def _step_style(step: Step, opts: Options) -> dict[str, object]:
    style = _step_colors(step)
    if opts.step_ids:
        style["id"] = f"s{step.index + 1}"
    return style


def _step_colors(step: Step) -> dict[str, object]:
    if step.callout and step.callout.startswith("exact"):
        return {"fillcolor": COLORS["cancel"], "color": "#c01c28", "penwidth": 2.5}
    if step.zero:
        return {"fillcolor": COLORS["zero"], "color": "#b35900", "penwidth": 2}
    if step.callout:
        return {"fillcolor": COLORS["cancel"], "color": "#e66100", "penwidth": 2}
    fill = COLORS["seed"] if step.kind == "seed" else COLORS["grad"]
    return {"fillcolor": fill, "color": "#2e7d32"}


def _forward_style(model: Model, node: Tensor, opts: Options) -> dict[str, object]:
    grad = model.grad_step(node) if opts.grads else None
    if grad is not None and grad.zero:
        return {"fillcolor": COLORS["zero"], "color": "#b35900", "penwidth": 2}
    fill = COLORS["forward" if node_kind(node) == "op" else "leaf"]
    return {"fillcolor": fill, "color": "#1a5fb4"}


# ---------------------------------------------------------------------------- writer
_GRAPH_DEFAULTS = _attrs(fontname=FONT, fontsize=11, nodesep=0.25, ranksep=0.35, newrank=True)
_NODE_DEFAULTS = _attrs(shape="box", style="rounded,filled", fontname=FONT, fontsize=11,
                        margin="0.11,0.04")  # room for thick outlines


class DotWriter:
    """Collects node, edge and cluster lines; hands out generated ids."""

    def __init__(self, title: str | None) -> None:
        self.lines: list[str] = []
        self.count = 0
        self.title = title

    def new_id(self, prefix: str) -> str:
        """A fresh node id (never derived from user text)."""
        self.count += 1
        return f"{prefix}{self.count}"

    def node(self, uid: str, label: str, **attrs: object) -> str:
        """The DOT line of one node with an HTML-like ``label``."""
        extra = _attrs(**attrs)
        return f"  {uid} [label={label}{', ' + extra if extra else ''}];"

    def edge(self, tail: str, head: str, **attrs: object) -> None:
        """Add an edge line."""
        extra = _attrs(**attrs)
        self.lines.append(f"  {tail} -> {head}{' [' + extra + ']' if extra else ''};")

    def source(self, body: list[str]) -> str:
        """The whole DOT document."""
        head = [
            "digraph minigrad {",
            f"  graph [{_GRAPH_DEFAULTS}];",
            f"  node [{_NODE_DEFAULTS}];",
            f"  edge [{_attrs(fontname=FONT, fontsize=9, color='#666666')}];",
        ]
        if self.title:
            head.append(f"  labelloc=t; label={table([f'<B>{escape(self.title)}</B>'])};")
        return "\n".join([*head, *body, *self.lines, "}"]) + "\n"


def _cluster_blocks(items: list[tuple[tuple, str]], prefix: str,
                    labels: dict[tuple, str]) -> list[str]:
    """Nested ``subgraph cluster_*`` blocks for (module path, node line) items, built
    bottom-up from the deepest paths (iteratively)."""
    bodies: dict[tuple, list[str]] = {}
    for path, line in items:
        bodies.setdefault(path, []).append(line)
    for path in sorted(bodies, key=len, reverse=True):
        for depth in range(len(path) - 1, 0, -1):
            bodies.setdefault(path[:depth], [])
    for number, path in enumerate(sorted(bodies, key=len, reverse=True)):
        if not path:
            continue
        block = [f"subgraph cluster_{prefix}{number} {{",
                 f"  label={table([escape(labels.get(path, '?'))])};",
                 f'  style="rounded,dashed"; color="#7e57c2"; fontname="{FONT}";'
                 f' id="module_{prefix}{number}";',
                 *bodies.pop(path), "}"]
        bodies.setdefault(path[:-1], []).extend(block)
    return bodies.get((), [])


# --------------------------------------------------------------------------- views
def _forward_part(model: Model, opts: Options, dot: DotWriter,
                  units: list[Unit]) -> tuple[list[str], dict[int, str]]:
    """Node lines (with clusters) of the forward graph and id(node) -> dot id."""
    where: dict[int, str] = {}
    items: list[tuple[tuple, str]] = []
    labels: dict[tuple, str] = {}
    for unit in units:
        uid = dot.new_id("f")
        for node in unit.members:
            where[id(node)] = uid
        if unit.kind == "node":
            node = unit.members[0]
            line = dot.node(uid, forward_label(model, node, opts), id=unit.key or None,
                            **_forward_style(model, node, opts))
        else:
            fill = COLORS["summary" if unit.kind == "summary" else "group"]
            line = dot.node(uid, table([escape(t) for t in unit.text]), fillcolor=fill,
                            id=unit.key or None,
                            color="#5e35b1", shape="box3d" if unit.kind == "group" else "note")
        items.append((unit.path, line))
        labels.update(unit.path_labels)
    edges: set[tuple[str, str]] = set()
    for node in model.forward:
        head = where.get(id(node))
        for parent in forward_inputs(node, model.hidden):
            tail = where.get(id(parent))
            if tail and head and tail != head and (tail, head) not in edges:
                edges.add((tail, head))
                dot.edge(tail, head)
    return _cluster_blocks(items, "f", labels), where


def _backward_part(model: Model, opts: Options, dot: DotWriter, upward: bool,
                   step_groups: dict[int, Unit]) -> tuple[list[str], dict[int, str]]:
    """Node lines of the gradient graph and step index -> dot id."""
    where: dict[int, str] = {}
    lines: list[str] = []
    shown = [s for s in model.steps if opts.only_steps is None or s.index in opts.only_steps]
    for step in shown:
        group = step_groups.get(step.index)
        if group is not None:
            if id(group) not in where:
                where[id(group)] = dot.new_id("u")
                count = len(group.members)
                note = f"{count} gradient step{'s' if count > 1 else ''}"
                lines.append(dot.node(where[id(group)], table(
                    [escape("∂ " + group.text[0]), _small(note)]),
                    fillcolor=COLORS["group"], color="#2e7d32", shape="box3d",
                    id=group.key or None))
            where[step.index] = where[id(group)]
            continue
        where[step.index] = dot.new_id("g")
        lines.append(dot.node(where[step.index], step_label(step, opts),
                              **_step_style(step, opts)))
    drawn: set[tuple[str, str]] = set()
    for step in shown:
        for source in step.sources:
            tail, head = where.get(source), where[step.index]
            if tail is None or tail == head or (tail, head) in drawn:
                continue
            drawn.add((tail, head))
            label = "+" if step.kind == "sum" else None
            if upward:
                dot.edge(head, tail, dir="back", label=label, color="#2e7d32")
            else:
                dot.edge(tail, head, label=label, color="#2e7d32")
    return lines, where


def _links(model: Model, fwhere: dict[int, str], bwhere: dict[int, str],
           dot: DotWriter) -> None:
    """Dashed links from each gradient node to the forward node it is the gradient of."""
    drawn: set[tuple[str, str]] = set()
    for step in model.steps:
        for node in step.forward:
            pair = (bwhere.get(step.index, ""), fwhere.get(id(node), ""))
            if pair[0] and pair[1] and pair not in drawn:
                drawn.add(pair)
                dot.edge(pair[0], pair[1], style="dashed", color="#9e9e9e", constraint="false",
                         arrowhead="none")


def _wrap(name: str, title: str, lines: list[str], color: str, role: str = "") -> list[str]:
    ident = f' id="{role}_{name}";' if role else ""
    return [f"subgraph cluster_{name} {{", f"  label={table([_title(title)])};",
            f'  style="rounded"; color="{color}";{ident}', *lines, "}"]


def graph_body(model: Model, opts: Options, dot: DotWriter) -> list[str]:
    """The node and cluster lines of ``model`` in ``opts.view`` (edges go to ``dot``)."""
    if opts.view not in VIEWS:
        raise ArgumentError(f"view must be one of {VIEWS}, got {opts.view!r}")
    units, step_groups = opts.units or collapse_units(model, opts.collapse, opts.max_nodes,
                                                      opts.expand)
    forward: list[str] = []
    backward: list[str] = []
    if opts.view in ("forward", "both"):
        flines, fwhere = _forward_part(model, opts, dot, units)
        forward = flines if opts.view == "forward" else _wrap(
            dot.new_id("forward"), "forward", flines, "#1a5fb4", "sideforward")
    if opts.view in ("backward", "both"):
        if not model.steps:
            backward = [dot.node(dot.new_id("n"), table([escape(
                "no gradient: nothing in this graph requires grad")]), shape="note")]
        else:
            blines, bwhere = _backward_part(model, opts, dot, opts.view == "both", step_groups)
            backward = blines if opts.view == "backward" else _wrap(
                dot.new_id("backward"), "backward (gradient graph)", blines, "#2e7d32",
                "sidebackward")
            if opts.view == "both":
                _links(model, fwhere, bwhere, dot)
                return _side_by_side(forward, backward, dot, opts.backward_first)
    return backward + forward if opts.backward_first else forward + backward


def _side_by_side(forward: list[str], backward: list[str], dot: DotWriter,
                  backward_first: bool) -> list[str]:
    """The two clusters with an invisible anchor at the top of each, tied in one rank with
    an invisible edge forward -> backward: Graphviz then puts the forward graph on the left
    (``Drawing`` checks, and retries with the other order if not)."""
    left, right = dot.new_id("anchor"), dot.new_id("anchor")
    anchor = '  {} [style="invis", shape="point", width="0", label=""];'
    forward = [forward[0], anchor.format(left), *forward[1:]]
    backward = [backward[0], anchor.format(right), *backward[1:]]
    dot.edge(left, right, style="invis", weight=100)
    tie = [f"  {{rank=same; {left}; {right};}}"]
    return backward + forward + tie if backward_first else forward + backward + tie


def build_dot(model: Model, opts: Options) -> str:
    """The DOT source of ``model`` in ``opts.view``."""
    dot = DotWriter(opts.title)
    return dot.source(graph_body(model, opts, dot))


def wrap_cluster(dot: DotWriter, title: str, lines: list[str], color: str = "#444444") -> list[str]:
    """``lines`` inside a titled cluster box."""
    return _wrap(dot.new_id("part"), title, lines, color)


__all__ = ["VIEWS", "DotWriter", "Options", "build_dot", "module_label", "quote", "table"]

"""Keeping large graphs readable: module boxes, repeated layers, a summary past a limit.

``collapse_units`` turns the drawn forward nodes into units: single nodes, a collapsed
module (one box for everything its forward created, its parameters included), a run of
repeated layers (one box "k x [Linear -> BatchNorm1d -> ReLU]"), and past ``max_nodes`` a
summary box standing for everything but the part of the graph nearest the output.
Gradient steps follow the forward node they belong to into the same kind of box.

Graphs with more than ``max_nodes`` nodes fold their modules by default. ``expand`` names
modules to open all the same (a BatchNorm shows its seed steps ``mu``, ``xmu``, ...), and
``detail_units`` gives the units inside one box (what the step page shows when the reader
expands it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..tensor import Tensor
from .model import Model, Step, forward_inputs

MAX_PERIOD = 6          # longest repeated pattern of layers looked for
MIN_REPEATS = 3         # a pattern must repeat this often to be collapsed
LABEL_CHARS = 60
SUMMARY_KEEP = 30       # boxes nearest the output still drawn past the node limit


@dataclass
class Unit:
    """One box of a drawing: a node, a collapsed group, or the summary."""

    kind: str                                   # "node", "group" or "summary"
    members: list[Any]
    path: tuple = ()                            # module cluster path (ids) it sits in
    path_labels: dict[tuple, str] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)
    signature: tuple = ()
    span: int = 1                               # modules folded into this box (repeats)
    key: str = ""                               # SVG id given by the step page ("" = none)
    owner: Any = None                           # a gradient box: the forward box it follows


def module_label(module: Any, parent: Any = None) -> str:
    """``name: Type(extra)`` of a module, e.g. ``1: BatchNorm1d(4, eps=1e-05)``."""
    name = ""
    if parent is not None and hasattr(parent, "named_children"):
        name = next((n for n, child in parent.named_children() if child is module), "")
    extra = module.extra_repr() if hasattr(module, "extra_repr") else ""
    text = f"{type(module).__name__}({extra})" if extra else type(module).__name__
    text = f"{name}: {text}" if name else text
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _modules(node: Tensor) -> tuple:
    return tuple(node.meta.get("modules", ()))


def _path_labels(modules: tuple, known: dict[tuple, str]) -> dict[tuple, str]:
    """Module path (ids) -> label of each prefix of ``modules``; ``known`` caches them (a
    label looks its module up among its parent's children)."""
    labels = {}
    for depth in range(1, len(modules) + 1):
        key = tuple(id(m) for m in modules[:depth])
        if key not in known:
            known[key] = module_label(modules[depth - 1],
                                      modules[depth - 2] if depth > 1 else None)
        labels[key] = known[key]
    return labels


def _matches(module: Any, wanted: Any) -> bool:
    for item in wanted:
        if item is module or (isinstance(item, str) and item == type(module).__name__):
            return True
        if isinstance(item, type) and isinstance(module, item):
            return True
    return False


def _as_list(spec: Any) -> list:
    return [spec] if isinstance(spec, str | type) or hasattr(spec, "_modules") else list(spec)


def _collapse_depth(modules: tuple, collapse: Any, expand: list) -> int | None:
    """Index in ``modules`` of the module a node collapses into (None: not collapsed).

    A module named in ``expand`` stays open: the node folds into its submodule instead,
    or is drawn by itself when it sits directly in the expanded module.
    """
    if not modules or collapse is None or collapse is False:
        return None
    if collapse is True:
        depth: int | None = len(modules) - 1
    elif isinstance(collapse, int) and not isinstance(collapse, bool):
        depth = min(collapse, len(modules) - 1)
    else:
        wanted = _as_list(collapse)
        depth = next((k for k, m in enumerate(modules) if _matches(m, wanted)), None)
    while depth is not None and expand and _matches(modules[depth], expand):
        depth = depth + 1 if depth + 1 < len(modules) else None
    return depth


def _group_of(drawn: list[Tensor], collapse: Any, expand: Any = None) -> dict[int, tuple]:
    """id(node) -> module path (ids) of the box it collapses into."""
    wanted = _as_list(expand) if expand is not None else []
    groups: dict[int, tuple] = {}
    for node in drawn:
        modules = _modules(node)
        depth = _collapse_depth(modules, collapse, wanted)
        if depth is not None:
            groups[id(node)] = modules[: depth + 1]
    return groups


def _absorb_leaves(model: Model, drawn: list[Tensor], groups: dict[int, tuple]) -> None:
    """A node without drawn inputs (a leaf, an untracked constant) used only inside one
    collapsed module (its parameters, dropout's mask) joins that box."""
    users: dict[int, dict[tuple, tuple]] = {}
    for node in drawn:
        modules = groups.get(id(node))
        key = tuple(id(m) for m in modules) if modules else ()
        for parent in forward_inputs(node, model.hidden):
            users.setdefault(id(parent), {})[key] = modules or ()
    for node in drawn:
        owners = users.get(id(node), {})
        if not forward_inputs(node, model.hidden) and id(node) not in groups \
                and len(owners) == 1 and () not in owners:
            groups[id(node)] = next(iter(owners.values()))


def _signature(modules: tuple, members: list[Tensor]) -> tuple:
    ops = Counter(n.op.name for n in members if n.op is not None)
    shapes = tuple(n.shape for n in members if n.op is not None)
    return (type(modules[-1]).__name__, tuple(sorted(ops.items())), shapes)


def _initial_units(model: Model, drawn: list[Tensor], groups: dict[int, tuple]) -> list[Unit]:
    """Units of ``drawn``: one per box of ``groups`` (id(node) -> module path), one per other
    node; in topological order of their last member."""
    _absorb_leaves(model, drawn, groups)
    known: dict[tuple, str] = {}
    units: list[Unit] = []
    by_group: dict[tuple, Unit] = {}
    for node in drawn:
        modules = groups.get(id(node))
        if modules is None:
            own = _modules(node)
            units.append(Unit("node", [node], tuple(id(m) for m in own), _path_labels(own, known)))
            continue
        key = tuple(id(m) for m in modules)
        if key not in by_group:
            by_group[key] = Unit("group", [], key[:-1], _path_labels(modules[:-1], known),
                                 [_path_labels(modules, known)[key]])
            units.append(by_group[key])
        by_group[key].members.append(node)
    for key, unit in by_group.items():
        modules = next(_modules(n)[: len(key)] for n in unit.members if _modules(n))
        unit.signature = _signature(modules, unit.members)
        ops = sum(1 for n in unit.members if n.op is not None)
        unit.text.append(f"{ops} op{'s' if ops != 1 else ''}, output {unit.members[-1].shape}")
    position = {id(node): k for k, node in enumerate(drawn)}
    return sorted(units, key=lambda u: max(position[id(n)] for n in u.members))


def _repeat_length(groups: list[Unit], start: int, period: int) -> int:
    """How many times groups[start:start+period] repeats back to back from ``start``."""
    pattern = [u.signature for u in groups[start:start + period]]
    count = 0
    while start + (count + 1) * period <= len(groups):
        block = groups[start + count * period: start + (count + 1) * period]
        if [u.signature for u in block] != pattern:
            break
        count += 1
    return count


def _segments(units: list[Unit], expanded: bool) -> list[list[Unit]]:
    """Runs of module boxes; with modules expanded, a node drawn inside a module (an opened
    one) ends a run, so the layers around it are not folded into one box across it."""
    segments: list[list[Unit]] = [[]]
    for unit in units:
        if unit.kind == "group":
            segments[-1].append(unit)
        elif expanded and unit.path and segments[-1]:
            segments.append([])
    return segments


def _merge_repeats(units: list[Unit], expanded: bool = False) -> list[Unit]:
    """Keep the first copy of a repeated run of layers; fold the other copies into one box."""
    merged: dict[int, Unit] = {}
    for groups in _segments(units, expanded):
        _merge_segment(groups, merged)
    out: list[Unit] = []
    placed: set[int] = set()
    for unit in units:
        box = merged.get(id(unit), unit)
        if id(box) not in placed:
            placed.add(id(box))
            out.append(box)
    return out


def _merge_segment(groups: list[Unit], merged: dict[int, Unit]) -> None:
    """Fold the repeated runs of one segment (id(unit) -> its fold box, into ``merged``)."""
    start = 0
    while start < len(groups):
        best = (0, 1, 0)
        for period in range(1, MAX_PERIOD + 1):
            count = _repeat_length(groups, start, period)
            if count >= MIN_REPEATS and count * period > best[0]:
                best = (count * period, period, count)
        if not best[0]:
            start += 1
            continue
        _, period, count = best
        rest = groups[start + period: start + count * period]
        names = " → ".join(u.signature[0] for u in groups[start:start + period])
        box = Unit("group", [n for u in rest for n in u.members], rest[0].path,
                   dict(rest[0].path_labels),
                   [f"{count - 1} more × [{names}]", f"{len(rest)} layers collapsed"],
                   span=len(rest))
        for unit in rest:
            merged[id(unit)] = box
        start += count * period


def _summary(model: Model, units: list[Unit], max_nodes: int) -> list[Unit]:
    """Past ``max_nodes`` units: the ones nearest the output and one summary box."""
    keep = min(SUMMARY_KEEP, max(4, max_nodes // 4))
    head, tail = units[:-keep], units[-keep:]
    members = [n for u in head for n in u.members]
    ops = Counter(n.op.name for n in members if n.op is not None)
    top = ", ".join(f"{name} {count:,}" for name, count in ops.most_common(6))
    text = [f"{len(members):,} more nodes not drawn (limit {max_nodes} boxes)",
            f"ops: {top}" if top else "leaves only",
            f"whole graph: {len(model.forward):,} nodes, depth {_depth(model):,}"]
    if model.hidden:
        text.append(f"({len(model.hidden):,} of them scalar constants, shown inside labels)")
    if any("modules" in n.meta for n in members):
        text.append("pass collapse=True to fold modules")
    return [Unit("summary", members, (), {}, text), *tail]


def _depth(model: Model) -> int:
    """Length of the longest path in the forward graph (iterative)."""
    depth: dict[int, int] = {}
    for node in model.forward:
        depth[id(node)] = 1 + max((depth.get(id(p), 0) for p in node.inputs), default=0)
    return max(depth.values(), default=0)


def _step_groups(steps: list[Step], units: list[Unit]) -> dict[int, Unit]:
    """Gradient steps that belong to a boxed forward node go into a matching box."""
    box_of = {id(n): u for u in units if u.kind != "node" for n in u.members}
    boxes: dict[int, Unit] = {}
    result: dict[int, Unit] = {}
    for step in steps:
        anchor = step.forward[0] if step.forward else step.tensor.vjp_of
        unit = box_of.get(id(anchor)) if anchor is not None else None
        if unit is None:
            continue
        box = boxes.setdefault(id(unit), Unit(unit.kind, [], (), {}, [unit.text[0]],
                                              span=unit.span, owner=unit))
        box.members.append(step)
        result[step.index] = box
    return result


def folds_by_default(model: Model, max_nodes: int) -> bool:
    """Whether ``collapse=None`` folds the modules: more than ``max_nodes`` nodes to draw
    (forward nodes and gradient steps)."""
    drawn = sum(1 for n in model.forward if id(n) not in model.hidden)
    return drawn + len(model.steps) > max_nodes


def collapse_units(model: Model, collapse: Any, max_nodes: int,
                   expand: Any = None) -> tuple[list[Unit], dict[int, Unit]]:
    """Forward units in topological order and step index -> box for boxed gradient steps.

    ``collapse``: None (automatic: modules fold when the graph has more than ``max_nodes``
    nodes), False, True (every innermost module), an int (module depth), or names / types /
    Module objects to fold. Repeated runs of folded layers become one box.
    ``expand``: modules (objects, type names or types) left open inside folded graphs.
    """
    drawn = [n for n in model.forward if id(n) not in model.hidden]
    if collapse is None and folds_by_default(model, max_nodes):
        collapse = True
    units = _initial_units(model, drawn, _group_of(drawn, collapse, expand))
    if collapse is not None and collapse is not False:
        units = _merge_repeats(units, expand is not None)
    if len(units) > max_nodes:
        units = _summary(model, units, max_nodes)
    return units, _step_groups(model.steps, units)


def _common_depth(paths: list[tuple]) -> int:
    """Length of the module path all of ``paths`` start with."""
    if not paths:
        return 0
    depth = min(len(p) for p in paths)
    for path in paths:
        while depth and any(a is not b for a, b in zip(path[:depth], paths[0][:depth],
                                                      strict=True)):
            depth -= 1
    return depth


def detail_units(model: Model, box: Unit, steps: list[Step],
                 max_nodes: int) -> tuple[list[Unit], dict[int, Unit]]:
    """What is inside ``box`` one level down: a module's submodules as boxes (its own nodes
    drawn), a fold's layers or a summary's modules one box each. ``model`` is the part of
    the graph in the box (its ``forward`` = the box's members); ``steps`` its gradient steps.
    """
    drawn = [n for n in model.forward if id(n) not in model.hidden]
    level = len(box.path) + (1 if box.kind == "group" and box.span == 1 else 0)
    if box.kind == "summary":
        level = _common_depth([_modules(n) for n in drawn if _modules(n)])
    groups = {}
    for node in drawn:
        modules = _modules(node)
        if len(modules) > level:
            groups[id(node)] = modules[: level + 1]
    units = _initial_units(model, drawn, groups)
    if len(units) > max_nodes:
        units = _chunks(model, units, max_nodes)
    return units, _step_groups(steps, units)


def _unit_name(model: Model, unit: Unit) -> str:
    """A box's module (``435: Linear``) or a node's name, short."""
    return unit.text[0].split("(")[0] if unit.text else model.forward_name(unit.members[0])


def _chunks(model: Model, units: list[Unit], max_nodes: int) -> list[Unit]:
    """At most ``max_nodes`` boxes, each standing for a run of consecutive units (opened,
    a box shows its run): the inside of a long fold, a few levels deep at most."""
    size = -(-len(units) // max_nodes)
    while -(-len(units) // size) > max_nodes:
        size += 1
    chunks = []
    for start in range(0, len(units), size):
        run = units[start:start + size]
        members = [n for u in run for n in u.members]
        ops = sum(1 for n in members if n.op is not None)
        text = [f"{_unit_name(model, run[0])}  …  {_unit_name(model, run[-1])}",
                f"{len(run)} boxes, {ops:,} ops"]
        chunks.append(Unit("summary", members, (), {}, text) if len(run) > 1 else run[0])
    return chunks

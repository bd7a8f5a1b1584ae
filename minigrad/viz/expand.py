"""The figures of the step page: the graph as drawn, and the inside of its boxes.

A folded graph (modules as boxes) is drawn once; each box the reader can open gets a figure
of its inside, one level down (a module's own nodes and submodule boxes, a fold's layers),
breadth first until ``DETAIL_BOXES`` boxes in all are drawn. Every drawn element gets an
id: ``s<k>`` for gradient step k (1-based), ``b<n>`` / ``v<n>`` for forward boxes / nodes,
and the page records, for each step and each named node, the ids from the outermost box to
the node itself (``paths``), so it can highlight a step or jump to a name at any depth.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from .dot import Options, build_dot
from .groups import Unit, collapse_units, detail_units
from .model import Model

DETAIL_BOXES = 2500     # boxes drawn inside opened boxes, all figures together
DETAIL_FIGURES = 200    # figures of boxes' insides
DETAIL_MAX_NODES = 60   # past this many boxes, a box's inside shows a summary box too


@dataclass
class Figure:
    """One figure of the page: the whole graph (``key`` "") or the inside of a box."""

    key: str
    title: str
    source: str
    parent: str = ""
    anchors: list[str] = field(default_factory=list)   # svg ids of the box(es) it opens


@dataclass
class PagePlan:
    """Every figure of the page and the ids the page's script needs."""

    figures: list[Figure]
    step_paths: dict[int, list[str]]               # step index -> ids, outermost first
    node_paths: dict[int, list[str]]               # id(forward node) -> ids
    grad_rows: dict[str, tuple[int, str]]          # forward node id -> (step, d-name)


class _Planner:
    def __init__(self, model: Model, view: str) -> None:
        self.model, self.view = model, view
        self.count = 0
        self.plan = PagePlan([], {}, {}, {})
        self.boxes = 0

    def new_key(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def figure(self, model: Model, units: list[Unit], step_boxes: dict[int, Unit],
               only: set[int] | None, key: str, title: str, parent: str,
               anchors: list[str]) -> list[tuple[Unit, list[str], set[int]]]:
        """Add one figure; returns its boxes with their anchor ids and their steps."""
        for unit in units:
            unit.key = self.new_key("v" if unit.kind == "node" else "b")
            for node in unit.members:
                self.plan.node_paths.setdefault(id(node), []).append(unit.key)
            if unit.kind == "node":
                grad = self.model.grad_step(unit.members[0])
                if grad is not None and self.view != "backward":
                    self.plan.grad_rows[unit.key] = (grad.index, grad.name)
        for box in {id(b): b for b in step_boxes.values()}.values():
            box.key = self.new_key("b")
        steps = [s.index for s in self.model.steps if only is None or s.index in only]
        for index in steps:
            box = step_boxes.get(index)
            self.plan.step_paths.setdefault(index, []).append(
                box.key if box is not None else f"s{index + 1}")
        opts = Options(view=self.view, units=(units, step_boxes), only_steps=only,
                       step_ids=True)
        self.plan.figures.append(Figure(key, title, build_dot(model, opts), parent, anchors))
        inside: dict[int, set[int]] = {}
        owners: dict[int, list[str]] = {}
        for index, box in step_boxes.items():
            inside.setdefault(id(box.owner), set()).add(index)
            if box.key not in owners.setdefault(id(box.owner), []):
                owners[id(box.owner)].append(box.key)
        found = []
        for unit in units:
            if unit.kind == "node":
                continue
            ids = ([unit.key] if self.view != "backward" else []) + owners.get(id(unit), [])
            steps_in = inside.get(id(unit), set())
            if ids and (steps_in or self.view != "backward"):
                found.append((unit, ids, steps_in))
        return found


def plan_page(model: Model, view: str, collapse: Any, max_nodes: int,
              expand: Any = None) -> PagePlan:
    """The figures of the step page of ``model`` and the ids that tie them together."""
    planner = _Planner(model, view)
    units, step_boxes = collapse_units(model, collapse, max_nodes, expand)
    queue = deque((box, ids, steps, "") for box, ids, steps in
                  planner.figure(model, units, step_boxes, None, "", "", "", []))
    while queue and len(planner.plan.figures) <= DETAIL_FIGURES:
        box, anchors, steps, parent = queue.popleft()
        part = replace(model, forward=list(box.members))
        chosen = [model.steps[k] for k in sorted(steps)]
        units, step_boxes = detail_units(part, box, chosen, DETAIL_MAX_NODES)
        if planner.boxes + len(units) > DETAIL_BOXES:
            break
        planner.boxes += len(units)
        key = planner.new_key("x")
        inner = planner.figure(part, units, step_boxes, set(steps), key, box.text[0], parent,
                               anchors)
        queue.extend((b, ids, s, key) for b, ids, s in inner)
    return planner.plan

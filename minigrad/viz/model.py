"""What the figures show, worked out from the graphs (no drawing here).

``build_model(root)`` runs the backward pass as a graph (``gradient_graph``) and returns a
``Model``: the forward nodes with display names and expressions, and the gradient steps of
the derivation - each with its ``d<name>`` labels, the local rule from the op row's
``grads`` text with the actual names substituted, the seed's step number for BatchNorm,
where partial contributions are summed, zeros and exact cancellations.

Everything here is iterative (no recursion over graphs).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from ..autodiff import GradGraph, gradient_graph, topological_order
from ..errors import ArgumentTypeError
from ..nn.functional import SEED_BACKWARD_STEPS
from ..tensor import Tensor
from .text import number
from .traced import traced_graph, traced_outputs

MOVEMENT_OPS = ("reshape", "transpose", "cast")
MAX_EXPR_NAME = 22          # longer derived expressions fall back to the op's name
NEAR_CANCEL = 1e-4          # |sum| <= this * max|part| (but not 0): a near cancellation


@dataclass
class Step:
    """One gradient node of the derivation, as drawn.

    ``names``: its d-names, the first is shown big (``dxmu``), the rest as aliases (``dx1``);
    ``rule``: the right-hand side of its formula; ``kind``: "seed", "vjp" or "sum";
    ``sources``: the steps it is computed from; ``forward``: forward nodes it belongs to.
    """

    tensor: Tensor
    index: int
    names: list[str]
    kind: str
    sources: list[int] = field(default_factory=list)
    forward: list[Tensor] = field(default_factory=list)
    seed_step: int | None = None
    zero: bool = False
    callout: str | None = None
    rule_text: str | None = None
    make_rule: Callable[[], str] | None = None
    digits: int = 5

    @property
    def rule(self) -> str:
        """The right-hand side of the formula (worked out when first needed)."""
        if self.rule_text is None:
            self.rule_text = self.make_rule() if self.make_rule else "?"
        return self.rule_text

    @property
    def name(self) -> str:
        """The main d-name."""
        return self.names[0]

    @property
    def formula(self) -> str:
        """``name = rule``."""
        return f"{self.name} = {self.rule}"


@dataclass
class Model:
    """Forward nodes (topological order) and the derivation steps (creation order)."""

    outputs: list[Tensor]
    forward: list[Tensor]
    names: dict[int, str]
    hidden: set[int]
    grads: dict[int, Tensor]
    steps: list[Step]
    step_of: dict[int, int]
    graph: GradGraph | None = None

    def forward_name(self, node: Tensor) -> str:
        """The display name of a forward node."""
        return self.names.get(id(node), "?")

    def note(self, node: Tensor) -> str | None:
        """The small line saying what a forward node is: its kind (``kind_note``), or for a
        node an earlier backward pass made (a second-order graph) what it is the gradient of."""
        targets = [*node.grad_of, *(pair[0] for pair in node.partial_of)]
        if not targets:
            return kind_note(node)
        what = "gradient" if node.grad_of else "part of the gradient"
        name = self.names.get(id(targets[0])) or targets[0].name or "a node not drawn here"
        return f"{what} of {name} (earlier backward pass)"

    def expression(self, node: Tensor) -> str:
        """``node`` as an expression of its inputs' names (``x - mu``, ``mean(sq, axis=0)``)."""
        return _expression(node, self.names)

    def grad_step(self, node: Tensor) -> Step | None:
        """The step holding the total gradient of forward ``node`` (None if unknown)."""
        total = self.grads.get(id(node))
        if total is None:
            return None
        index = self.step_of.get(id(total))
        return None if index is None else self.steps[index]


# ------------------------------------------------------------------------ the root
def root_outputs(root: Any) -> list[Tensor]:
    """The output tensors of ``root``: a Tensor, a sequence of them, a ``GradGraph``, any
    object exposing ``graph_outputs`` (a tensor, a sequence, or a callable returning one),
    or a JIT graph (``mg.jit`` function, compiled entry or graph; drawn as stand-ins)."""
    if isinstance(root, GradGraph):
        return list(root.outputs)
    hook = getattr(root, "graph_outputs", None)
    if hook is not None:
        root = hook() if callable(hook) else hook
    traced = traced_graph(root) if not isinstance(root, Tensor | list | tuple) else None
    if traced is not None:
        return traced_outputs(traced)
    if isinstance(root, Tensor):
        return [root]
    outputs = list(root) if isinstance(root, list | tuple) else []
    if not outputs or not all(isinstance(t, Tensor) for t in outputs):
        raise ArgumentTypeError(
            "draw: root must be a Tensor, a sequence of Tensors, a GradGraph, or an object "
            f"with a `graph_outputs` attribute holding them, got {type(root).__name__}"
        )
    return outputs


def _run_backward(outputs: list[Tensor], grad_outputs: Any) -> GradGraph | None:
    """The backward pass as a graph; ones are the seed of a non-scalar output."""
    if not any(t.requires_grad for t in outputs):
        return None
    if grad_outputs is None:
        grad_outputs = [None if t.numel() == 1 else np.ones(t.shape, t.dtype) for t in outputs]
    return gradient_graph(outputs, None, grad_outputs)


# ------------------------------------------------------------------- node kinds
NODE_KINDS = ("op", "random", "constant", "untracked", "parameter", "input")


def node_kind(node: Tensor) -> str:
    """What a forward node is; the kind decides its name and how it is drawn.

    "op": a recorded op (its inputs are nodes of the graph); "random": a random draw
    (``rand_uniform``, dropout's mask; ``meta["random"]`` holds its name and description);
    "constant": a scalar without inputs that needs no gradient (folded into the labels of
    its users); "untracked": an op's result whose inputs were not recorded - computed from
    tensors needing no gradient, e.g. the reshape of integer targets - a constant of this
    graph; "parameter": a leaf requiring grad; "input": any other leaf (data, targets,
    integer and bool tensors).
    """
    if node.op is not None and node.inputs:
        return "op"
    if "random" in node.meta:
        return "random"
    if not node.requires_grad and node.numel() == 1:
        return "constant"
    if node.op is not None:
        return "untracked"
    return "parameter" if node.requires_grad else "input"


def kind_note(node: Tensor) -> str | None:
    """The small line under a node's name saying what it is (None for a recorded op)."""
    kind = node_kind(node)
    if kind == "op":
        return None
    if kind == "random":
        return str(node.meta["random"][1])
    if kind == "untracked":
        return "constant: computed from tensors not recorded (no gradient)"
    return "leaf" + (", requires grad" if node.requires_grad else "")


# ----------------------------------------------------------------- forward names
def _is_constant(node: Tensor) -> bool:
    return node_kind(node) == "constant"


def _seed_role_names(forward: list[Tensor]) -> dict[int, str]:
    """Seed names for unnamed inputs of composed BatchNorm: x, gamma, beta, eps."""
    roles: dict[int, str] = {}
    for node in forward:
        if "seed_step" not in node.meta or not node.inputs:
            continue
        wanted = {"mu": {0: "x"}, "gammax": {0: "gamma"}, "out": {1: "beta"}}
        for position, role in wanted.get(node.name or "", {}).items():
            if position < len(node.inputs):
                roles.setdefault(id(node.inputs[position]), role)
        if node.name == "sqrtvar" and node.inputs[0].op is not None:
            inner = node.inputs[0]
            if len(inner.inputs) == 2 and _is_constant(inner.inputs[1]):
                roles.setdefault(id(inner.inputs[1]), "eps")
    return roles


def _expression(node: Tensor, names: dict[int, str]) -> str:
    """``node`` as an expression of its inputs' names, e.g. ``x - mu`` or ``mean(sq, 0)``."""
    op = node.op
    # an untracked node's inputs were not recorded: "…" stands for each of them
    args = [names.get(id(t), "?") for t in node.inputs] if node.inputs else ["…"] * op.arity
    if op.expr:
        text = op.expr.replace("np.", "")
        for key, value in node.attrs.items():
            text = text.replace("{" + key + "}", _attr_text(value))
        text = _fill_operands(text, args)
        if text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
            text = text[1:-1]
        return text
    extra = ""
    if "axes" in node.attrs:
        extra = ", axis=" + ",".join(str(a) for a in node.attrs["axes"])
        if node.attrs.get("scale", 1.0) != 1.0:
            extra += f", scale={number(node.attrs['scale'])}"
    elif "shape_to" in node.attrs:
        extra = ", " + _attr_text(node.attrs["shape_to"])
    return f"{op.name}({', '.join(args)}{extra})"


_PLACEHOLDER = re.compile(r"\{(\d+)\}")


def _fill_operands(template: str, args: list[str]) -> str:
    """``template`` with ``{k}`` replaced by ``args[k]`` in one pass (a name holding ``{1}``
    stays as written). A name that is itself an expression is parenthesised where it is an
    operand (``(u >= 0.5) * 2``), not where it is a whole function argument (``exp(a + b)``)."""
    def operand(match: re.Match[str]) -> str:
        arg = args[int(match[1])] if int(match[1]) < len(args) else "?"
        before = template[max(0, match.start() - 2): match.start()]
        after = template[match.end(): match.end() + 1]
        whole_argument = (before.endswith("(") or before == ", ") and after in (")", ",")
        return arg if whole_argument or _is_atom(arg) else f"({arg})"
    return _PLACEHOLDER.sub(operand, template)


def _is_atom(name: str) -> bool:
    """A name needing no parentheses as an operand: ``x``, ``0.5``, ``…``, ``f(a, b)``."""
    if re.fullmatch(r"[\w.…]+", name):
        return True
    call = re.fullmatch(r"[\w.]+\((.*)\)", name)
    return call is not None and _balanced(call[1])


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _attr_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple):
        comma = "," if len(value) == 1 else ""
        return "(" + ", ".join(_attr_text(v) for v in value) + comma + ")"
    return str(value)


def forward_names(forward: list[Tensor]) -> tuple[dict[int, str], set[int]]:
    """(display names, ids with a "good" name) for the forward nodes.

    Given names win; then the seed's roles (BatchNorm input x, gamma, beta, eps); then by
    ``node_kind``: scalar constants show their value, random draws their own name
    (``u``, ``mask``), other leaves are "leaf"; a view (reshape/transpose/cast) of a named
    node keeps its name; other ops (untracked ones with "…" for their unrecorded inputs)
    are named by their (short) expression or their op.
    """
    roles = _seed_role_names(forward)
    names: dict[int, str] = {}
    good: set[int] = set()
    for node in forward:
        key = id(node)
        if node.name or key in roles:
            names[key] = node.name or roles[key]
            good.add(key)
        elif _is_view(node) and id(node.inputs[0]) in good:
            names[key] = names[id(node.inputs[0])]
            good.add(key)
        else:
            names[key] = _unnamed_name(node, names)
    _name_leaves_behind_views(forward, names, good)
    return names, good


def _is_view(node: Tensor) -> bool:
    """A recorded reshape/transpose/cast (it shows under its input's name)."""
    return node_kind(node) == "op" and node.op.name in MOVEMENT_OPS


def _unnamed_name(node: Tensor, names: dict[int, str]) -> str:
    """The name of a node nobody named, by its kind (see ``forward_names``)."""
    kind = node_kind(node)
    if kind == "constant":
        return number(node.data.reshape(-1)[0]) if node.data.dtype.kind in "fiub" else "const"
    if kind == "random":
        return str(node.meta["random"][0])
    if kind in ("parameter", "input"):
        return "leaf"
    text = _expression(node, names)
    if len(text) <= MAX_EXPR_NAME:
        return text
    return node.op.name + ("(…)" if kind == "untracked" else "")


def _name_leaves_behind_views(forward: list[Tensor], names: dict[int, str],
                              good: set[int]) -> None:
    """An unnamed leaf whose only use is a named view takes the view's name."""
    for node in reversed(forward):
        if _is_view(node) and id(node) in good:
            leaf = node.inputs[0]
            if leaf.is_leaf and id(leaf) not in good and leaf.requires_grad:
                names[id(leaf)] = names[id(node)]
                good.add(id(leaf))


# ------------------------------------------------------------------ gradient steps
def _significant(graph: GradGraph) -> list[Tensor]:
    """Gradient nodes worth a box: seeds, totals and partial contributions (in order)."""
    seeds = {id(t) for t in graph.created[: len(graph.outputs)]}
    seen: set[int] = set()
    kept = []
    for tensor in graph.created:
        if id(tensor) in seen:
            continue
        if id(tensor) in seeds or tensor.grad_of or tensor.partial_of:
            seen.add(id(tensor))
            kept.append(tensor)
    return kept


def _partials_by_input(kept: list[Tensor]) -> dict[int, list[Tensor]]:
    by_input: dict[int, list[Tensor]] = {}
    for tensor in kept:
        for parent, _consumer in tensor.partial_of:
            by_input.setdefault(id(parent), []).append(tensor)
    return by_input


def _names_of_steps(kept: list[Tensor], forward: list[Tensor], fnames: dict[int, str],
                    good: set[int], grads: dict[int, Tensor],
                    part_names: dict[tuple[int, int], str]) -> dict[int, list[str]]:
    """Each gradient node's d-names: its own name and aliases, then the ones derived from
    the forward names (``d<name>`` for a total, ``d<name>1``, ``d<name>2`` for partials)."""
    derived: dict[int, list[str]] = {id(t): [] for t in kept}
    weak: dict[int, list[str]] = {id(t): [] for t in kept}
    partials = _partials_by_input(kept)
    for node in reversed(forward):
        total = grads.get(id(node))
        if total is None or id(total) not in derived:
            continue
        target = derived if id(node) in good else weak
        fname = fnames[id(node)]
        prefix = "d" + (fname if id(node) in good or fname.isidentifier() else f"({fname})")
        parts = partials.get(id(node), [])
        if len(parts) > 1:
            for k, part in enumerate(parts, start=1):
                target[id(part)].append(f"{prefix}{k}")
                part_names[(id(part), id(node))] = f"{prefix}{k}"
        target[id(total)].append(prefix)
    names: dict[int, list[str]] = {}
    summed = set(part_names.values())  # partial names a sum's rule refers to
    for tensor in kept:
        own = [tensor.name] if tensor.name else []
        own += list(tensor.meta.get("aliases", []))
        listed = own + derived[id(tensor)]
        if not listed:
            first = weak[id(tensor)][:1] or [f"d{tensor.op.name if tensor.op else 'seed'}"]
            listed = first + [n for n in weak[id(tensor)][1:] if n in summed]
        names[id(tensor)] = list(dict.fromkeys(listed))
    return names


_SIMPLIFY = (
    (re.compile(r"\^\((-?\d+(?:\.\d+)?)-1\)"), lambda m: "^" + _attr_text(float(m[1]) - 1)),
    (re.compile(r"(\w+)\^1(?![\d.])"), lambda m: m[1]),
)


_NUMBER_CONDITION = re.compile(r"(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?) == 0 \? 0 : ")


def _decided(text: str) -> str:
    """A rule ``p == 0 ? 0 : rest`` whose p is a number (pow's constant exponent): ``rest``
    when p is not 0, else ``0`` (the drawing shows the case that applies)."""
    match = _NUMBER_CONDITION.match(text)
    if match is None:
        return text
    return "0" if float(match[1]) == 0 else text[match.end():]


def _local_rule(tensor: Tensor, names: dict[int, list[str]], fnames: dict[int, str],
                grads: dict[int, Tensor]) -> str:
    """The formula of a partial gradient: its consumer's rule for this input, with the
    actual names put in (``{g}`` -> the consumer's gradient, ``{0}`` -> input 0, ...)."""
    parent, consumer = tensor.partial_of[0]
    positions = [k for k, t in enumerate(consumer.inputs) if t is parent]
    position = positions[0] if positions else 0
    rules = consumer.op.grads
    incoming = grads.get(id(consumer))
    g_name = names[id(incoming)][0] if incoming is not None and id(incoming) in names else "g"
    if position >= len(rules) or not rules[position]:
        return f"vjp of {consumer.op.name}({g_name})"
    text = rules[position].replace("{g}", g_name).replace("{out}", fnames[id(consumer)])
    for key, value in consumer.attrs.items():
        text = text.replace("{" + key + "}", _attr_text(value))
    for k, arg in enumerate(consumer.inputs):
        text = text.replace("{" + str(k) + "}", _operand(fnames[id(arg)]))
    text = _decided(text)
    for pattern, repl in _SIMPLIFY:
        text = pattern.sub(repl, text)
    if consumer.op.kind == "elementwise" and parent.shape != consumer.shape:
        text = f"sum({text})"
    return text


def _operand(name: str) -> str:
    return name if _is_atom(name) else f"({name})"


def _related_seed_step(tensor: Tensor) -> bool:
    """Whether the gradient node belongs to a composed BatchNorm (seed steps apply)."""
    related = [*tensor.grad_of, *(p for pair in tensor.partial_of for p in pair)]
    if tensor.vjp_of is not None:
        related.append(tensor.vjp_of)
    for node in related:
        if "seed_step" in node.meta:
            return True
    return False


def _seed_step(step_names: list[str], tensor: Tensor, parts: list[Tensor]) -> int | None:
    if not (_related_seed_step(tensor) or any(_related_seed_step(p) for p in parts)):
        return None
    for name in step_names:
        if name in SEED_BACKWARD_STEPS:
            return SEED_BACKWARD_STEPS[name]
    return None


def _is_zero(array: np.ndarray) -> bool:
    return array.size > 0 and array.dtype.kind in "fiu" and not np.any(array)


def _cancellation(step: Step, parts: list[Step]) -> str | None:
    """A callout when partial contributions cancel exactly (or almost) in a sum."""
    if step.kind != "sum" or len(parts) < 2:
        return None
    terms = step.rule
    biggest = max(float(np.max(np.abs(p.tensor.data))) for p in parts)
    if biggest == 0:
        return None
    total = float(np.max(np.abs(step.tensor.data)))
    if total == 0:
        return f"exact cancellation: {terms} = 0"
    if total <= NEAR_CANCEL * biggest:
        return f"near cancellation: {terms} is {number(total / biggest, 2)} of its parts"
    return None


def _build_steps(graph: GradGraph, forward: list[Tensor], fnames: dict[int, str],
                 good: set[int]) -> tuple[list[Step], dict[int, int]]:
    """One ``Step`` per drawn gradient node, in the order the backward pass made them."""
    kept = _significant(graph)
    part_names: dict[tuple[int, int], str] = {}
    names = _names_of_steps(kept, forward, fnames, good, graph.grads, part_names)
    step_of = {id(t): k for k, t in enumerate(kept)}
    partials = _partials_by_input(kept)
    seeds = {id(t) for t in graph.created[: len(graph.outputs)]}
    steps: list[Step] = []
    for index, tensor in enumerate(kept):
        owner = next((n for n in tensor.grad_of if len(partials.get(id(n), [])) > 1), None)
        parts = partials[id(owner)] if owner is not None else []
        step = Step(tensor, index, names[id(tensor)], "vjp",
                    forward=_forward_links(tensor))
        if id(tensor) in seeds:
            step.kind = "seed"
            step.rule_text = "1 (seed)" if np.all(tensor.data == 1) else "given (seed)"
        elif parts and tensor.vjp_of is None:
            step.kind = "sum"
            step.rule_text = " + ".join(
                part_names.get((id(p), id(owner)), names[id(p)][0]) for p in parts)
            step.sources = [step_of[id(p)] for p in parts]
        elif not tensor.partial_of:
            step.rule_text = tensor.op.name if tensor.op is not None else "given"
        else:
            step.make_rule = partial(_local_rule, tensor, names, fnames, graph.grads)
            incoming = graph.grads.get(id(tensor.partial_of[0][1]))
            if incoming is not None and id(incoming) in step_of and incoming is not tensor:
                step.sources = [step_of[id(incoming)]]
        _annotate(step, parts, steps)
        steps.append(step)
    return steps, step_of


def _annotate(step: Step, parts: list[Tensor], earlier: list[Step]) -> None:
    """The seed's step number, zero flag and cancellation callout of a new step."""
    step.seed_step = _seed_step(step.names, step.tensor, parts)
    step.zero = _is_zero(step.tensor.data)
    step.callout = _cancellation(step, [earlier[k] for k in step.sources])
    if step.callout and step.callout.startswith("near"):
        for shown in (step, *(earlier[k] for k in step.sources)):
            shown.digits = 8  # show what is left after the near cancellation


def _forward_links(tensor: Tensor) -> list[Tensor]:
    """The forward nodes a gradient node is the gradient of (total first, then partials)."""
    links: list[Tensor] = []
    for node in [*tensor.grad_of, *(pair[0] for pair in tensor.partial_of)]:
        if all(node is not seen for seen in links):
            links.append(node)
    return links[:1] if tensor.grad_of else links


def build_model(root: Any, grads: bool = True, grad_outputs: Any = None) -> Model:
    """Forward graph, display names and (with ``grads``) the derivation steps of ``root``."""
    outputs = root_outputs(root)
    graph = root if isinstance(root, GradGraph) else (
        _run_backward(outputs, grad_outputs) if grads else None)
    forward = graph.forward if graph is not None else topological_order(outputs)
    fnames, good = forward_names(forward)
    hidden = {id(n) for n in forward if _is_constant(n)}
    steps: list[Step] = []
    step_of: dict[int, int] = {}
    if graph is not None:
        steps, step_of = _build_steps(graph, forward, fnames, good)
    return Model(outputs, forward, fnames, hidden,
                 dict(graph.grads) if graph else {}, steps, step_of, graph)


def forward_inputs(node: Tensor, hidden: set[int]) -> Sequence[Tensor]:
    """The inputs of ``node`` that are drawn (scalar constants are folded into labels)."""
    return [t for t in node.inputs if id(t) not in hidden]

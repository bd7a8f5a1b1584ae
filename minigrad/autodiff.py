"""Reverse-mode differentiation whose backward pass is itself a graph.

The pass walks the forward graph in reverse topological order (found iteratively, so a
100,000-deep chain is fine), calls each node's VJP rule - written with minigrad ops - and sums
the partial gradients a node receives from its consumers. Every node it creates is a normal
graph node: it can be drawn, compiled, and differentiated again (``create_graph=True``).

Each gradient node is tagged for the renderer:
``grad_of``    the forward node(s) it is the total gradient of (named ``d<name>``),
``partial_of`` (forward input, consumer) pairs it is one contribution to,
``vjp_of``     the forward node whose VJP rule created it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import ops
from ._state import STATE, pause_gc, resume_gc
from .errors import ArgumentError
from .tensor import NO_TAGS, Tensor
from .tensor_hooks import run_hooks


def topological_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """Every node reachable from ``roots``, inputs before the nodes that use them.

    Iterative depth-first post-order: an explicit stack of (node, iterator over its inputs),
    no recursion. Inputs are visited in order, so the result is what the recursive
    definition gives.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    for root in roots:
        if id(root) in visited:
            continue
        visited.add(id(root))
        stack = [(root, iter(root.inputs))]
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if id(parent) not in visited:
                    visited.add(id(parent))
                    stack.append((parent, iter(parent.inputs)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


@dataclass
class GradGraph:
    """The result of one backward pass: the gradient of every node it reached.

    ``forward`` is the forward graph in topological order; ``grads`` maps ``id(node)`` of a
    forward node to its total gradient; ``created`` lists the gradient-graph nodes in the
    order the pass made them (the steps of the derivation).
    """

    outputs: list[Tensor]
    forward: list[Tensor]
    grads: dict[int, Tensor] = field(default_factory=dict)
    created: list[Tensor] = field(default_factory=list)

    def grad(self, node: Tensor) -> Tensor | None:
        """The total gradient of forward ``node`` (None if the pass did not reach it)."""
        return self.grads.get(id(node))


def _seed(output: Tensor, grad_output: Any) -> Tensor:
    """The gradient the pass starts from: ones for a scalar, else the given tensor."""
    if grad_output is None:
        if output.numel() != 1:
            raise RuntimeError(
                "grad can be implicitly created only for scalar outputs: the output has "
                f"shape {output.shape}; pass a gradient of that shape"
            )
        seed = Tensor(np.ones(output.shape, dtype=output.dtype))
        return seed
    seed = grad_output if isinstance(grad_output, Tensor) else Tensor(
        np.asarray(grad_output, dtype=output.dtype)
    )
    if seed.shape != output.shape:
        raise ArgumentError(
            f"gradient of shape {seed.shape} does not match the output's shape {output.shape}"
        )
    if seed is grad_output and seed.op is None:
        _forget_pass_tags(seed)
    return seed


def _forget_pass_tags(seed: Tensor) -> None:
    """Clear the tags an earlier pass put on a caller's gradient leaf reused as a seed.

    The pass tags its seed (``grad_of`` the output, ``partial_of`` where it flows on unchanged,
    ``aliases``); on a tensor the caller passes again and again (``grad_outputs=dout`` every
    step) the tags of every earlier pass would pile up and keep every earlier graph alive.
    The tags describe the latest pass.
    """
    seed.grad_of = NO_TAGS
    seed.partial_of = NO_TAGS
    seed.meta.pop("aliases", None)


def _nodes_leading_to(order: list[Tensor], targets: set[int]) -> set[int]:
    """ids of the nodes that requires grad and lie on a path to a target."""
    reaching: set[int] = set()
    for node in order:
        if not node.requires_grad:
            continue
        if id(node) in targets:
            reaching.add(id(node))
            continue
        for parent in node.inputs:
            if id(parent) in reaching:
                reaching.add(id(node))
                break
    return reaching


def _tag(node: Tensor, field: str, entry: Any) -> None:
    """Append ``entry`` to ``node.grad_of`` or ``node.partial_of``, giving the node its own
    list first if it still shares the empty ``NO_TAGS``."""
    tags = getattr(node, field)
    if tags is NO_TAGS:
        setattr(node, field, [entry])
    else:
        tags.append(entry)


def _accumulate(node: Tensor, parts: list[Tensor]) -> Tensor:
    """The total gradient of ``node``: the sum of the partials from its consumers."""
    total = parts[0]
    if len(parts) > 1 and node.name:
        for k, part in enumerate(parts, start=1):
            alias = f"d{node.name}{k}"
            if part.name is None:
                part.name = alias
            elif part.name != alias:
                part.meta.setdefault("aliases", []).append(alias)
    for part in parts[1:]:
        total = ops.add(total, part)
    _tag(total, "grad_of", node)
    if node.name:
        if total.name is None:
            total.name = f"d{node.name}"
        elif total.name != f"d{node.name}":
            total.meta.setdefault("aliases", []).append(f"d{node.name}")
    return total


def _check_unchanged(node: Tensor) -> None:
    """Refuse ``node``'s VJP when an input (or the node's own value, which rules such as
    exp's read) changed in place after ``node`` was made: the rule would compute with the
    new value (PyTorch's error, with minigrad's names). Stricter than PyTorch, which checks
    only the tensors a rule saved: minigrad's rules get their inputs by reference."""
    for position, tensor in enumerate((node, *node.inputs)):
        if tensor.meta.get("changed_at", -1) > node._stamp:
            which = "the output" if position == 0 else "the input"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by "
                f"an inplace operation: {which} of shape {tensor.shape} (dtype "
                f"{tensor.dtype}{', ' + repr(tensor.name) if tensor.name else ''}) of "
                f"{node.op.name} is at version {tensor.meta['version']}, changed after "
                f"{node.op.name} was computed"
            )


def _propagate(node: Tensor, total: Tensor, wanted: set[int],
               partials: dict[int, list[Tensor]], state: Any, outer: tuple) -> None:
    """Run ``node``'s VJP rule and hand each input the pass wants its partial gradient.

    The hot loop of every backward pass (once per forward node): it sets the thread's
    ``current_vjp``/``vjp_needs`` and puts back ``outer`` after the rule (if the rule
    raises, ``_run_pass`` puts them back).
    """
    inputs = node.inputs
    if len(inputs) == 2:
        needs: tuple[bool, ...] = (id(inputs[0]) in wanted, id(inputs[1]) in wanted)
    else:
        needs = tuple([id(parent) in wanted for parent in inputs])
    if True not in needs:
        return
    if node._stamp < Tensor._inplace_clock:  # something changed in place since node was made
        _check_unchanged(node)
    state.current_vjp = node
    state.vjp_needs = needs
    input_grads = node.op.vjp(total, node, *inputs, **node.attrs)
    state.current_vjp, state.vjp_needs = outer
    for parent, grad, needed in zip(inputs, input_grads, needs, strict=True):
        if grad is None or not needed:
            continue
        if grad.data.shape != parent.data.shape:
            raise RuntimeError(
                f"VJP of {node.op.name} returned a gradient of shape {grad.shape} for an "
                f"input of shape {parent.shape}"
            )
        tags = grad.partial_of
        if tags is NO_TAGS:
            grad.partial_of = [(parent, node)]
        else:
            tags.append((parent, node))
        parts = partials.get(id(parent))
        if parts is None:
            partials[id(parent)] = [grad]
        else:
            parts.append(grad)


def gradient_graph(
    outputs: Tensor | Sequence[Tensor],
    inputs: Sequence[Tensor] | None = None,
    grad_outputs: Any = None,
    create_graph: bool = False,
) -> GradGraph:
    """Run the backward pass and return it as a ``GradGraph`` (leaves ``.grad`` alone).

    ``inputs`` limits the pass to the nodes on a path to them; by default it runs down to
    every leaf that requires grad. The gradient nodes are always recorded; with
    ``create_graph`` they also require grad, so the result can be differentiated again.
    The cyclic GC is paused meanwhile (``_state.pause_gc``: the pass makes no cycles).
    """
    pause_gc()
    try:
        graph = _gradient_graph(outputs, inputs, grad_outputs, create_graph, record=True)
    finally:
        resume_gc()
    for hook in STATE.pass_hooks:
        hook(graph)
    return graph


def _nobody_watches() -> bool:
    """Whether no hook, trace or recording context can see the nodes of a pass now."""
    state = STATE
    return not (state.recording or state.node_hooks or state.pass_hooks or state.grad_hooks)


def _gradient_graph(outputs: Tensor | Sequence[Tensor], inputs: Sequence[Tensor] | None,
                    grad_outputs: Any, create_graph: bool, record: bool) -> GradGraph:
    """``gradient_graph``'s pass: the forward order, the wanted nodes, the VJPs run.

    ``record=False`` (``Tensor.backward`` when nobody watches): the gradient nodes keep no
    inputs, ``created`` holds only the seeds and ``grads`` only the targets' and retained
    gradients, so every other gradient array is freed as soon as its VJP has used it.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif not isinstance(grad_outputs, list | tuple):
        grad_outputs = [grad_outputs]
    order = topological_order(outputs)
    if inputs is None:
        targets = {id(n) for n in order if n.is_leaf and n.requires_grad}
    else:
        targets = {id(t) for t in inputs}
    wanted = _nodes_leading_to(order, targets)
    graph = GradGraph(outputs=outputs, forward=order)
    if not record:
        keep = targets | {id(n) for n in order if "retains_grad" in n.meta}
        grad_mode, STATE.grad_enabled = STATE.grad_enabled, False
        try:
            _run_pass(graph, order, wanted, outputs, grad_outputs, keep)
        finally:
            STATE.grad_enabled = grad_mode
        return graph
    # The pass runs recorded, in grad mode only with create_graph, and collects every node it
    # makes (graph.created.append is a node hook). Set and restored here directly: the
    # context managers of _state cost microseconds per pass.
    state = STATE
    grad_mode = state.grad_enabled
    collect = graph.created.append
    state.grad_enabled = bool(create_graph)
    state.recording += 1
    state.node_hooks.append(collect)
    try:
        _run_pass(graph, order, wanted, outputs, grad_outputs, None)
    finally:
        state.node_hooks.remove(collect)
        state.recording -= 1
        state.grad_enabled = grad_mode
    return graph


def _run_pass(graph: GradGraph, order: list[Tensor], wanted: set[int], outputs: list[Tensor],
              grad_outputs: Sequence[Any], keep: set[int] | None) -> None:
    """Seed the outputs, then visit the forward nodes in reverse order: sum each one's
    partials into its total gradient and hand its inputs their partials. ``graph.grads``
    gets the total of every node, or (``keep``) of the nodes whose ids are in ``keep``."""
    partials: dict[int, list[Tensor]] = {}
    for output, grad_output in zip(outputs, grad_outputs, strict=True):
        seed = _seed(output, grad_output)
        graph.created.append(seed)
        partials.setdefault(id(output), []).append(seed)
    grads = graph.grads
    state = STATE
    previous = state.current_vjp, state.vjp_needs
    try:
        for node in reversed(order):
            key = id(node)
            parts = partials.pop(key, None)
            if parts is None or key not in wanted:
                continue
            if len(parts) == 1 and not node.name and node.meta.get("grad_hooks") is None:
                total = parts[0]  # the common case of _accumulate, inline
                tags = total.grad_of
                if tags is NO_TAGS:
                    total.grad_of = [node]
                else:
                    tags.append(node)
            else:
                total = _accumulate(node, parts)
                if "grad_hooks" in node.meta:  # Tensor.register_hook
                    total = run_hooks(node, total)
            if keep is None or key in keep:
                grads[key] = total
            if node.op is not None:
                _propagate(node, total, wanted, partials, state, previous)
    finally:
        state.current_vjp, state.vjp_needs = previous


def backward(output: Tensor, grad: Any = None, create_graph: bool = False, *,
             keep_graph: bool = True) -> GradGraph:
    """Accumulate d(output)/d(leaf) into ``.grad`` of every leaf that requires grad.

    Like PyTorch: a non-scalar output needs ``grad``; gradients add up over calls.
    Without ``create_graph`` the stored ``.grad`` is a plain leaf (no history).
    ``keep_graph=False`` (``Tensor.backward``, which drops the result): when no hook,
    trace or recording context watches, the pass is not recorded and frees each gradient
    array once used (the returned graph then holds only the leaves' gradients).
    """
    if not output.requires_grad:
        raise RuntimeError(
            "backward: the tensor does not require grad (no input of it requires grad, "
            "or it was computed under no_grad)"
        )
    pause_gc()  # also while .grad is stored: the pass's nodes are all alive until then
    try:
        if keep_graph or create_graph or not _nobody_watches():
            graph = gradient_graph(output, None, grad, create_graph=create_graph)
        else:
            graph = _gradient_graph(output, None, grad, False, record=False)
        _store_grads(graph, create_graph)
    finally:
        resume_gc()
    return graph


def _store_grads(graph: GradGraph, create_graph: bool) -> None:
    """Add each leaf's (and each retained node's) total gradient into its ``.grad``."""
    grads = graph.grads
    for node in graph.forward:
        if not (node.op is None and node.requires_grad) and "retains_grad" not in node.meta:
            continue
        total = grads.get(id(node))
        if total is None:
            continue
        previous = node.grad
        if create_graph:
            node.grad = total if node.grad is None else ops.add(node.grad, total)
        else:
            value = total.data if node.grad is None else node.grad.data + total.data
            node.grad = Tensor._leaf_like(np.array(value, dtype=node.dtype))
        for hook in STATE.grad_hooks:
            hook(node, total, previous)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """d(outputs)/d(inputs) as a tuple, leaving ``.grad`` untouched (``torch.autograd.grad``).

    The returned gradients are nodes of the recorded backward graph (drawable, compilable);
    with ``create_graph=True`` they also require grad, so they can be differentiated again.
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for position, tensor_in in enumerate(inputs):
        if not tensor_in.requires_grad:
            raise RuntimeError(f"grad: input {position} does not require grad")
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    if not any(o.requires_grad for o in outs):
        raise RuntimeError("grad: no output requires grad")
    graph = gradient_graph(outs, inputs, grad_outputs, create_graph=create_graph)
    results: list[Tensor | None] = []
    for position, tensor_in in enumerate(inputs):
        total = graph.grad(tensor_in)
        if total is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {position} was not used to compute the outputs "
                "(pass allow_unused=True to get None)"
            )
        results.append(total)
    return tuple(results)

"""Function transforms over pytrees, as ``torch.func`` and ``jax``: ``mg.func.grad(f)``
is a function returning df/dx for a scalar f, where x may be a tensor or a pytree (dicts,
lists, tuples and named tuples, nested) of tensors, arrays and numbers.

    grad(f, argnums=0, has_aux=False)(*args)            -> the gradients, shaped as args
    grad_and_value(f, argnums=0, has_aux=False)(*args)  -> (gradients, value)
    value_and_grad(f, argnums=0, has_aux=False)(*args)  -> (value, gradients), JAX's order

They compose: ``grad(grad(f))`` is the second derivative. Each call differentiates fresh
copies of its inputs (an identity node over a tensor that already requires grad), so a
function that also closes over the outer variable is differentiated correctly (no
"perturbation confusion"). A result keeps its graph exactly when it depends on a tensor
that requires grad outside this call (an enclosing transform's variable, an input or a
closed-over tensor with ``requires_grad``), else it is a new leaf. Arrays and
numbers become float tensors of their own precision (integers are refused, as PyTorch's and
JAX's grad refuse them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import ops
from ._state import is_grad_enabled
from .autodiff import grad as _grad
from .autodiff import topological_order
from .creation import zeros_like
from .errors import ArgumentError, ArgumentTypeError
from .tensor import Tensor

Argnums = int | tuple[int, ...]


def tree_flatten(tree: Any) -> tuple[list[Any], Callable[[list[Any]], Any]]:
    """The leaves of ``tree`` in order (dicts by insertion order) and a function that
    builds a tree of the same structure from a list of new leaves. Walks with a stack."""
    leaves: list[Any] = []
    stack: list[Any] = [tree]
    while stack:
        node = stack.pop()
        children = _children(node)
        if children is None:
            leaves.append(node)
        else:
            stack.extend(reversed(children))

    def unflatten(new_leaves: list[Any]) -> Any:
        feed = iter(new_leaves)
        return _rebuild(tree, feed)

    return leaves, unflatten


def _children(node: Any) -> list[Any] | None:
    if isinstance(node, dict):
        return list(node.values())
    if isinstance(node, list | tuple):
        return list(node)
    return None


def _rebuild(tree: Any, feed: Any) -> Any:
    """``tree`` with its leaves taken from ``feed`` in order (depth first). Containers
    nest only as deep as the user wrote them, so this recursion is bounded by that."""
    children = _children(tree)
    if children is None:
        return next(feed)
    rebuilt = [_rebuild(child, feed) for child in children]
    if isinstance(tree, dict):
        return type(tree)(zip(tree.keys(), rebuilt, strict=True))
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # a named tuple
        return type(tree)(*rebuilt)
    return type(tree)(rebuilt)


def _fresh_input(leaf: Any, fn: str) -> Tensor:
    """A tensor to differentiate by, standing for ``leaf``: an identity node over it when
    it requires grad (so gradients also flow back to it), else a new leaf."""
    if isinstance(leaf, Tensor):
        if leaf.dtype.kind != "f":
            raise ArgumentTypeError(f"{fn}: can only differentiate by floating-point tensors, "
                                    f"got dtype {leaf.dtype} (shape {leaf.shape})")
        if leaf.requires_grad:
            return ops.mul(leaf, 1.0)
        return leaf.detach().requires_grad_(True)
    array = np.asarray(leaf)
    if array.dtype.kind != "f":
        raise ArgumentTypeError(f"{fn}: can only differentiate by floating-point values, got "
                                f"a {type(leaf).__name__} of dtype {array.dtype} (pass "
                                "float tensors, arrays or numbers, e.g. 1.0)")
    return Tensor(array).requires_grad_(True)


def _scalar_output(out: Any, has_aux: bool, fn: str) -> tuple[Tensor, Any]:
    aux = None
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise ArgumentError(f"{fn}(has_aux=True): the function must return a pair "
                                f"(output, aux), got {type(out).__name__}")
        out, aux = out
    if not isinstance(out, Tensor):
        raise ArgumentTypeError(f"{fn}: the function must return a tensor, got "
                                f"{type(out).__name__}")
    if out.numel() != 1:
        raise ArgumentError(f"{fn}: the function must return one number to differentiate, "
                            f"got a tensor of shape {out.shape}")
    return out, aux


def _value_and_grads(func: Callable[..., Any], argnums: Argnums, has_aux: bool,
                     args: tuple, kwargs: dict, fn: str) -> tuple[Any, Any, Any]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for num in nums:
        if not -len(args) <= num < len(args):
            raise ArgumentError(f"{fn}: argnums {argnums} names argument {num} but the "
                                f"function got {len(args)} positional arguments")
    call_args = list(args)
    inputs: list[Tensor] = []
    rebuilders = []
    for num in nums:
        leaves, unflatten = tree_flatten(args[num])
        tensors = [_fresh_input(leaf, fn) for leaf in leaves]
        inputs += tensors
        call_args[num] = unflatten(tensors)
        rebuilders.append((unflatten, len(tensors)))
    out, aux = _scalar_output(func(*call_args, **kwargs), has_aux, fn)
    if out.requires_grad:
        grads = _grad(ops.reshape(out, ()), inputs, create_graph=is_grad_enabled(),
                      allow_unused=True)
    else:
        grads = (None,) * len(inputs)
    out, *kept = _keep_outer_graph([out, *grads], {id(x) for x in inputs if x.is_leaf})
    filled = [zeros_like(x) if g is None else g for g, x in zip(kept, inputs, strict=True)]
    trees, start = [], 0
    for unflatten, count in rebuilders:
        trees.append(unflatten(filled[start:start + count]))
        start += count
    result = trees[0] if isinstance(argnums, int) else tuple(trees)
    return out, result, aux


def _keep_outer_graph(values: list[Tensor | None],
                      own_leaves: set[int]) -> list[Tensor | None]:
    """Each value itself if its graph reaches a tensor requiring grad other than this
    call's own new leaves (so an enclosing derivative sees it), else detached. One walk
    over all their graphs: a node reaches one if it is one or one of its inputs does."""
    roots = [v for v in values if v is not None and v.requires_grad]
    reaching: set[int] = set()
    for node in topological_order(roots):  # inputs before the nodes that use them
        if (node.is_leaf and node.requires_grad and id(node) not in own_leaves) or any(
                id(parent) in reaching for parent in node.inputs):
            reaching.add(id(node))
    return [v if v is None or not v.requires_grad or id(v) in reaching else v.detach()
            for v in values]


def grad(func: Callable[..., Any], argnums: Argnums = 0,
         has_aux: bool = False) -> Callable[..., Any]:
    """The function x -> df/dx (``torch.func.grad``): the gradient by argument ``argnums``
    (a tuple of them gives a tuple of gradients), shaped as that argument's pytree; with
    ``has_aux`` f returns (output, aux) and the result is (gradient, aux)."""

    def grad_f(*args: Any, **kwargs: Any) -> Any:
        _, grads, aux = _value_and_grads(func, argnums, has_aux, args, kwargs, "grad")
        return (grads, aux) if has_aux else grads

    return grad_f


def grad_and_value(func: Callable[..., Any], argnums: Argnums = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """The function x -> (df/dx, f(x)) (``torch.func.grad_and_value``; with ``has_aux``,
    (gradient, (value, aux)))."""

    def grad_and_value_f(*args: Any, **kwargs: Any) -> Any:
        value, grads, aux = _value_and_grads(func, argnums, has_aux, args, kwargs,
                                             "grad_and_value")
        return (grads, (value, aux)) if has_aux else (grads, value)

    return grad_and_value_f


def value_and_grad(func: Callable[..., Any], argnums: Argnums = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """JAX's order: x -> (f(x), df/dx) (with ``has_aux``, ((value, aux), gradient))."""

    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        value, grads, aux = _value_and_grads(func, argnums, has_aux, args, kwargs,
                                             "value_and_grad")
        return ((value, aux), grads) if has_aux else (value, grads)

    return value_and_grad_f


__all__ = ["grad", "grad_and_value", "tree_flatten", "value_and_grad"]

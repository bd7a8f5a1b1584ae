"""Higher-level derivatives of a function of tensors, as ``torch.autograd.functional``.

Everything is built from ``mg.grad`` (reverse mode): a vector-Jacobian product is one
backward pass; a Jacobian-vector product is the double-backward trick (the VJP is linear in
its cotangent u, so d<vjp(u), v>/du = J v); a Jacobian is one VJP per output element (row
by row: minigrad has no vmap); a Hessian is the Jacobian of the gradient. With
``create_graph=True`` the results keep their graph (differentiable again), else they are
new leaves. ``inputs`` and outputs may be a tensor or a tuple of tensors, and results
follow that structure as PyTorch's do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autodiff import grad
from ..errors import ArgumentError, ArgumentTypeError
from ..tensor import Tensor

Tensors = Tensor | Sequence[Tensor]


def _as_tuple(value: Any, what: str, fn: str) -> tuple[bool, tuple[Tensor, ...]]:
    """(was it a tuple, the tensors as a tuple); a TypeError naming ``what`` otherwise."""
    is_tuple = isinstance(value, tuple | list)
    items = tuple(value) if is_tuple else (value,)
    for k, item in enumerate(items):
        if not isinstance(item, Tensor):
            raise ArgumentTypeError(f"{fn}: {what} must be a Tensor or a tuple of Tensors, but "
                                    f"{what}[{k}] is a {type(item).__name__}")
    return is_tuple, items


def _prepare(inputs: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """Inputs the function is differentiated at: the tensors themselves when the result
    must stay differentiable with respect to them, else new leaves requiring grad. A new
    leaf is x.detach() (sharing x's array, so mg.jit reads it as x at every call; a copy of
    x.data was a constant to the tracer, which froze the traced call's point)."""
    return tuple(x if create_graph and x.requires_grad
                 else x.detach().requires_grad_() for x in inputs)


def _finish(values: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    return values if create_graph else tuple(v.detach() for v in values)


def _grads(outputs: tuple[Tensor, ...], inputs: tuple[Tensor, ...],
           cotangents: tuple[Tensor, ...], create_graph: bool, strict: bool,
           fn: str) -> tuple[Tensor, ...]:
    """sum_k d<outputs[k], cotangents[k]>/d inputs, zeros where an input is unused (a
    RuntimeError naming it with ``strict``)."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents, strict=True) if o.requires_grad]
    found: tuple[Tensor | None, ...] = (None,) * len(inputs)
    if pairs:
        found = grad([o for o, _ in pairs], list(inputs), [c for _, c in pairs],
                     create_graph=create_graph, allow_unused=True)
    results = []
    for k, (x, g) in enumerate(zip(inputs, found, strict=True)):
        if g is None:
            if strict:
                raise RuntimeError(f"{fn}: the output is independent of input {k} "
                                   "(strict=True)")
            g = Tensor(np.zeros(x.shape, x.dtype), requires_grad=create_graph)
        results.append(g)
    return tuple(results)


def _vector(v: Any, like: tuple[Tensor, ...], what: str, fn: str) -> tuple[Tensor, ...]:
    """``v`` as a tuple of tensors shaped like ``like`` (None: ones for one-element
    tensors, as PyTorch allows); a ValueError naming both shapes otherwise."""
    if v is None:
        if any(t.numel() != 1 for t in like):
            raise RuntimeError(f"{fn}: v can only be None if the {what} is a single "
                               f"element, got shapes {[t.shape for t in like]}")
        return tuple(Tensor(np.ones(t.shape, t.dtype)) for t in like)
    _, items = _as_tuple(v, "v", fn)
    if len(items) != len(like):
        raise RuntimeError(f"{fn}: v has {len(items)} tensors, the {what} has {len(like)}")
    for k, (a, b) in enumerate(zip(items, like, strict=True)):
        if a.shape != b.shape:
            raise RuntimeError(f"{fn}: v[{k}] has shape {a.shape}, the {what}'s tensor {k} "
                               f"has shape {b.shape}")
    return items


def _call(func: Callable[..., Any], inputs: tuple[Tensor, ...], fn: str
          ) -> tuple[bool, tuple[Tensor, ...]]:
    return _as_tuple(func(*inputs), "the outputs of the user-provided function", fn)


def vjp(func: Callable[..., Any], inputs: Tensors, v: Tensors | None = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), v^T J): the vector-Jacobian product at ``inputs``."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "vjp")
    xs = _prepare(xs, create_graph)
    out_tuple, outs = _call(func, xs, "vjp")
    result = _grads(outs, xs, _vector(v, outs, "output", "vjp"), create_graph, strict, "vjp")
    return _shape(out_tuple, _finish(outs, create_graph)), \
        _shape(in_tuple, _finish(result, create_graph))


def jvp(func: Callable[..., Any], inputs: Tensors, v: Tensors | None = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), J v): the Jacobian-vector product at ``inputs``, by the
    double-backward trick (u -> u^T J is linear; its gradient along v is J v)."""
    _, xs = _as_tuple(inputs, "inputs", "jvp")
    vs = _vector(v, xs, "input", "jvp")
    xs = _prepare(xs, create_graph)
    out_tuple, outs = _call(func, xs, "jvp")
    dummies = tuple(Tensor(np.zeros(o.shape, o.dtype), requires_grad=True) for o in outs)
    transposed = _grads(outs, xs, dummies, True, strict, "jvp")
    result = _grads(transposed, dummies, vs, create_graph, strict, "jvp")
    return _shape(out_tuple, _finish(outs, create_graph)), \
        _shape(out_tuple, _finish(result, create_graph))


def _shape(is_tuple: bool, values: tuple[Any, ...]) -> Any:
    return values if is_tuple else values[0]


def jacobian(func: Callable[..., Any], inputs: Tensors, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """d func(inputs) / d inputs: for output i and input j a tensor of shape
    ``outputs[i].shape + inputs[j].shape``, nested as PyTorch's (a tensor for a tensor in
    and out, a tuple over inputs or outputs, a tuple of tuples for both). Computed row by
    row with reverse mode (``vectorize`` and ``strategy`` are accepted, the result is the
    same)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ArgumentError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', "
                            f"got {strategy!r}")
    in_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
    xs = _prepare(xs, create_graph)
    out_tuple, outs = _call(func, xs, "jacobian")
    blocks = [_jacobian_of(out, xs, create_graph, strict) for out in outs]
    rows = [_shape(in_tuple, tuple(block)) for block in blocks]
    return _shape(out_tuple, tuple(rows))


def _jacobian_of(out: Tensor, xs: tuple[Tensor, ...], create_graph: bool,
                 strict: bool) -> list[Tensor]:
    """The Jacobian blocks of one output with respect to every input."""
    from .. import ops
    from ..shape_ops import stack

    rows: list[list[Tensor]] = [[] for _ in xs]
    for k in range(out.numel()):
        seed = np.zeros(out.shape, out.dtype)
        seed.reshape(-1)[k] = 1.0
        for j, g in enumerate(_grads((out,), xs, (Tensor(seed),), create_graph, strict,
                                     "jacobian")):
            rows[j].append(g if create_graph else g.detach())
    blocks = []
    for x, row in zip(xs, rows, strict=True):
        if not row:  # an empty output
            blocks.append(Tensor(np.zeros(out.shape + x.shape, x.dtype)))
            continue
        if not create_graph:  # plain values: one stack (an op, so mg.jit follows each call)
            blocks.append(ops.reshape(stack(row), out.shape + x.shape).detach())
            continue
        flat = [ops.reshape(g, (1, *x.shape)) for g in row]
        stacked = flat[0] if len(flat) == 1 else _concat(flat)
        blocks.append(ops.reshape(stacked, out.shape + x.shape))
    return blocks


def _concat(parts: list[Tensor]) -> Tensor:
    """Rows stacked along a new first axis, with minigrad ops (differentiable; each part
    is scattered into a full-size array, so this is for the create_graph case only)."""
    from .. import ops

    total = len(parts)
    pieces = [ops.index_add(part, (slice(k, k + 1),), (total, *part.shape[1:]))
              for k, part in enumerate(parts)]
    out = pieces[0]
    for piece in pieces[1:]:
        out = ops.add(out, piece)
    return out


def hessian(func: Callable[..., Any], inputs: Tensors, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar function: for inputs i and j a tensor of shape
    ``inputs[i].shape + inputs[j].shape`` (a tensor for one input, a tuple of tuples)."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*args: Tensor) -> tuple[Tensor, ...]:
        _, outs = _call(func, args, "hessian")
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError("hessian: the function must return a single-element "
                               f"Tensor, got shapes {[o.shape for o in outs]}")
        return _grads(outs, args, (Tensor(np.ones(outs[0].shape, outs[0].dtype)),), True,
                      strict, "hessian")

    result = jacobian(gradient, xs, create_graph=create_graph, strict=strict,
                      strategy=outer_jacobian_strategy)
    return result if in_tuple else result[0][0]


def vhp(func: Callable[..., Any], inputs: Tensors, v: Tensors | None = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), v^T H) for a scalar function: the gradient of <grad f, v>."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "vhp")
    vs = _vector(v, xs, "input", "vhp")
    xs = _prepare(xs, create_graph)
    out = _scalar_output(func, xs, "vhp")
    ones = (Tensor(np.ones(out.shape, out.dtype)),)
    gradient = _grads((out,), xs, ones, True, strict, "vhp")
    result = _grads(gradient, xs, vs, create_graph, strict, "vhp")
    return _finish((out,), create_graph)[0], _shape(in_tuple, _finish(result, create_graph))


def hvp(func: Callable[..., Any], inputs: Tensors, v: Tensors | None = None,
        create_graph: bool = False, strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), H v) for a scalar function: the Jacobian-vector product of its
    gradient (double-backward trick, as PyTorch)."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "hvp")
    vs = _vector(v, xs, "input", "hvp")
    xs = _prepare(xs, create_graph)
    out = _scalar_output(func, xs, "hvp")
    ones = (Tensor(np.ones(out.shape, out.dtype)),)
    gradient = _grads((out,), xs, ones, True, strict, "hvp")
    dummies = tuple(Tensor(np.zeros(x.shape, x.dtype), requires_grad=True) for x in xs)
    transposed = _grads(gradient, xs, dummies, True, strict, "hvp")
    result = _grads(transposed, dummies, vs, create_graph, strict, "hvp")
    return _finish((out,), create_graph)[0], _shape(in_tuple, _finish(result, create_graph))


def _scalar_output(func: Callable[..., Any], xs: tuple[Tensor, ...], fn: str) -> Tensor:
    is_tuple, outs = _call(func, xs, fn)
    if is_tuple or outs[0].numel() != 1:
        raise RuntimeError(f"{fn}: the function must return a single-element Tensor, got "
                           f"{'a tuple' if is_tuple else f'shape {outs[0].shape}'}")
    return outs[0]

"""PyTorch as a third, independent opinion on a fuzzed program (test oracle only).

A program is run in PyTorch when torch is importable and every node has a mapping here
(or a row naming its ``torch`` function); arguments must be float64 and node values float64
or bool, so dtype promotion rules (which differ between numpy and PyTorch for integers and
float32) do not enter. Values and the derivatives (``torch.autograd.grad`` with
``create_graph`` for order 2) are compared with eager minigrad to float tolerance; an unused
gradient (``None``) counts as zeros.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ops
from ..errors import ArgumentError
from .programs import DETACH, Node, Program

RTOL = 1e-6


def _reduce(name: str) -> Callable[..., Any]:
    def run(torch: Any, x: Any, *, axes: tuple, keepdims: bool) -> Any:
        if not axes:
            return x * 1  # numpy: no axes, no reduction (torch would reduce all)
        fn = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax}[name]
        return fn(x, dim=axes, keepdim=keepdims)
    return run


def _index(torch: Any, x: Any, *, key: tuple) -> Any:
    return x[tuple(torch.as_tensor(k) if isinstance(k, np.ndarray) else k for k in key)]


def _normalize(torch: Any, x: Any, *, axes: tuple, eps: float) -> Any:
    """(x - mean) / sqrt(var + eps), biased variance over ``axes``."""
    centred = x - x.mean(dim=axes, keepdim=True)
    return centred / torch.sqrt((centred * centred).mean(dim=axes, keepdim=True) + eps)


def _per_channel(v: Any, ndim: int) -> Any:
    return v.reshape((1, v.shape[0]) + (1,) * (ndim - 2))


def _batch_norm(torch: Any, x: Any, w: Any, b: Any, *, axes: tuple, eps: float) -> Any:
    return _normalize(torch, x, axes=axes, eps=eps) * _per_channel(w, x.ndim) \
        + _per_channel(b, x.ndim)


def _vjp(torch: Any, forward: Callable[[Any], Any], shape: tuple, g: Any) -> Any:
    """d<forward(x), g>/dx at x = zeros(shape) (index_add and scatter_add are the VJPs of
    index and gather), kept differentiable."""
    x = torch.zeros(shape, dtype=g.dtype, requires_grad=True)
    return torch.autograd.grad(forward(x), x, g, create_graph=True)[0]


def _batch_norm_dx(torch: Any, g: Any, x: Any, w: Any, *, axes: tuple, eps: float) -> Any:
    """The input gradient of batch_norm for upstream g, by autograd of the composition."""
    with torch.enable_grad():
        x_in = x if x.requires_grad else x.detach().requires_grad_(True)
        out = _normalize(torch, x_in, axes=axes, eps=eps) * _per_channel(w, x.ndim)
        return torch.autograd.grad(out, x_in, g, create_graph=True)[0]


def _require_range(torch: Any, x: Any, *, lo: float, hi: float, label: str) -> Any:
    """x, or an error (not compared then) where minigrad's check row raises."""
    if not bool(((x >= lo) & (x <= hi)).all()):
        raise ArgumentError(label)
    return x


MAPPING: dict[str, Callable[..., Any]] = {
    "add": lambda t, a, b: a + b, "sub": lambda t, a, b: a - b, "mul": lambda t, a, b: a * b,
    "div": lambda t, a, b: a / b, "maximum": lambda t, a, b: t.maximum(a, b),
    "where": lambda t, c, a, b: t.where(c if c.dtype == t.bool else c != 0, a, b),
    "neg": lambda t, x: -x, "sqrt": lambda t, x: t.sqrt(x),
    "signbit": lambda t, x: t.signbit(x) & ~t.isnan(x),  # no sign at NaN (ops/logical.py)
    "copysign": lambda t, a, b: t.copysign(a, t.where(t.isnan(b), t.ones_like(b), b)),
    "reciprocal": lambda t, x: t.reciprocal(x), "exp": lambda t, x: t.exp(x),
    "log": lambda t, x: t.log(x), "tanh": lambda t, x: t.tanh(x),
    "sigmoid": lambda t, x: t.sigmoid(x), "relu": lambda t, x: t.relu(x),
    "pow": lambda t, x, *, exponent: t.pow(x, exponent),
    "cast": lambda t, x, *, dtype: x.to(getattr(t, dtype)),
    "greater": lambda t, a, b: a > b, "greater_equal": lambda t, a, b: a >= b,
    "less": lambda t, a, b: a < b, "less_equal": lambda t, a, b: a <= b,
    "equal": lambda t, a, b: a == b, "not_equal": lambda t, a, b: a != b,
    "sum": _reduce("sum"), "mean": _reduce("mean"), "max": _reduce("max"),
    "reshape": lambda t, x, *, shape_to: x.reshape(shape_to),
    "transpose": lambda t, x, *, perm: x.permute(perm),
    "broadcast_to": lambda t, x, *, shape_to: x.expand(shape_to),
    "matmul": lambda t, a, b: t.matmul(a, b),
    "index": _index,
    "gather": lambda t, x, idx, *, axis: t.gather(x, axis, idx),
    "index_add": lambda t, g, *, key, shape_to: _vjp(
        t, lambda x: _index(t, x, key=key), shape_to, g),
    "scatter_add": lambda t, g, idx, *, axis, shape_to: _vjp(
        t, lambda x: t.gather(x, axis, idx), shape_to, g),
    "normalize": _normalize, "batch_norm": _batch_norm, "batch_norm_dx": _batch_norm_dx,
    "require_range": _require_range, DETACH: lambda t, x: x.detach(),
}


def torch_module() -> Any:
    """torch, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def applicable(program: Program) -> bool:
    """Whether the program has a PyTorch counterpart with the same dtype semantics."""
    return (all(a.dtype in ("float64", "bool") or a.bound for a in program.args)
            and all(_reference(n.op) is not None and n.dtype in ("float64", "bool")
                    for n in program.nodes))


def _reference(op: str) -> Callable[..., Any] | None:
    """The PyTorch counterpart of a node: from MAPPING, else from the row's ``torch``
    field (``torch.<name>(*inputs, **attrs)``, ``name`` may be dotted)."""
    if op in MAPPING:
        return MAPPING[op]
    row = ops.OPS.get(op)
    if row is None or row.torch is None:
        return None
    path = row.torch.split(".")  # "linalg.inv": torch.linalg.inv
    return lambda t, *inputs, **attrs: functools.reduce(getattr, path, t)(*inputs, **attrs)


def _apply(torch: Any, node: Node, inputs: list[Any]) -> Any:
    return _reference(node.op)(torch, *inputs, **dict(node.attrs))


def run_torch(program: Program, arrays: list[np.ndarray]) -> list[np.ndarray | None]:
    """The program's results in PyTorch (same layout as ``program_function``'s)."""
    torch = torch_module()
    n_args = len(program.args)
    tensors = [torch.tensor(a, requires_grad=bool(arg.grad))
               for a, arg in zip(arrays, program.args, strict=False)]
    weights = [torch.tensor(a) for a in arrays[n_args:]]
    values = list(tensors)
    for node in program.nodes:
        values.append(_apply(torch, node, [values[i] for i in node.inputs]))
    results: list[Any] = [values[o] for o in program.outputs]
    if weights:
        inputs = [t for t, a in zip(tensors, program.args, strict=True) if a.grad]
        loss = sum((values[o] * w).sum() for o, w in zip(program.grad_outputs(), weights,
                                                           strict=False))
        firsts = torch.autograd.grad(loss, inputs, create_graph=program.order == 2,
                                     allow_unused=True)
        results += firsts
        if program.order == 2:
            vs = weights[len(program.grad_outputs()):]
            terms = [(g * v).sum() for g, v in zip(firsts, vs, strict=True)
                     if g is not None and g.requires_grad]
            seconds = (torch.autograd.grad(sum(terms), inputs, allow_unused=True) if terms
                       else (None,) * len(inputs))
            results += seconds
    return [None if r is None else r.detach().numpy() for r in results]


def compare_with_torch(expected: list, got: list) -> str:
    """'' when minigrad's eager results agree with PyTorch's, else what differs."""
    from .fuzz import compare_arrays

    for k, (e, t) in enumerate(zip(expected, got, strict=True)):
        if e is None and t is None:
            continue
        if e is None or t is None:
            present = e if e is not None else t
            e = np.zeros_like(present) if e is None else e
            t = np.zeros_like(present) if t is None else t
        problem = compare_arrays(e, np.asarray(t).astype(e.dtype), RTOL)
        if problem:
            return f"result {k}: PyTorch: {problem}"
    return ""

"""Finite-difference checks of gradients (first and second order)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .autodiff import grad
from .errors import ArgumentError
from .tensor import Tensor


def _as_float64_leaves(inputs: Sequence[Tensor | np.ndarray]) -> list[Tensor]:
    return [
        Tensor(np.asarray(t.data if isinstance(t, Tensor) else t, dtype=np.float64),
               requires_grad=True)
        for t in inputs
    ]


def _scalar(fn: Callable[..., Tensor], args: Sequence[Tensor], weights: np.ndarray) -> Tensor:
    """sum(fn(args) * weights): a scalar probe of a tensor-valued function."""
    out = fn(*args)
    return (out * Tensor(weights)).sum()


def numerical_grad(f: Callable[[], float], x: np.ndarray, step: float) -> np.ndarray:
    """Central differences (f(x + h) - f(x - h)) / 2h, one entry at a time (x is perturbed
    in place and restored)."""
    result = np.zeros_like(x)
    flat = x.reshape(-1)
    out = result.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + step
        upper = f()
        flat[i] = saved - step
        lower = f()
        flat[i] = saved
        out[i] = (upper - lower) / (2 * step)
    return result


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Tensor | np.ndarray],
    order: int = 1,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    seed: int = 0,
) -> bool:
    """Compare minigrad's gradients of ``fn`` with central differences, in float64.

    Order 1 checks d(sum(fn * w))/d(inputs) for a random w. Order 2 checks the gradient of
    <grad, v> (a Hessian-vector product through ``create_graph=True``) for a random v.
    Raises AssertionError naming the input and the largest difference; returns True.
    """
    if order not in (1, 2):
        raise ArgumentError(f"gradcheck: order must be 1 or 2, got {order}")
    rng = np.random.default_rng(seed)
    leaves = _as_float64_leaves(inputs)
    weights = rng.standard_normal(np.shape(fn(*leaves).data))
    if order == 1:
        def value() -> float:
            return float(_scalar(fn, leaves, weights).data)

        analytic = grad(_scalar(fn, leaves, weights), leaves, allow_unused=True)
    else:
        directions = [rng.standard_normal(t.shape) for t in leaves]

        def first_order_dot() -> Tensor:
            firsts = grad(_scalar(fn, leaves, weights), leaves, create_graph=True,
                          allow_unused=True)
            total = Tensor(np.float64(0.0))
            for first, v in zip(firsts, directions, strict=True):
                if first is not None and first.requires_grad:
                    total = total + (first * Tensor(v)).sum()
            return total

        def value() -> float:
            return float(first_order_dot().data)

        probe = first_order_dot()
        analytic = grad(probe, leaves, allow_unused=True) if probe.requires_grad else (
            None,) * len(leaves)
    for position, leaf in enumerate(leaves):
        numeric = numerical_grad(value, leaf.data, eps)
        got = analytic[position]
        got_value = np.zeros_like(numeric) if got is None else got.data
        if not np.allclose(got_value, numeric, atol=atol, rtol=rtol):
            worst = float(np.max(np.abs(got_value - numeric)))
            raise AssertionError(
                f"gradcheck order {order}: input {position} (shape {leaf.shape}) differs from "
                f"finite differences by up to {worst:.3g}\nanalytic:\n{got_value}\n"
                f"numeric:\n{numeric}"
            )
    return True

"""Composed vs fused normalisations: values and gradients of order 0 to 3 against references.

BatchNorm (``compare_bn``) is checked against the seed's own numpy code (orders 0 and 1,
and order 2 through central differences of the seed's backward) and central differences of
minigrad (order 3). LayerNorm, GroupNorm and InstanceNorm (``compare_norm``) compare their
composed seed steps with their fused ``normalize`` node at every order, and both with
central differences of the order below (orders 1 to 3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import ops
from .autodiff import grad
from .errors import ArgumentError
from .gradcheck import numerical_grad
from .nn import functional as F
from .reference import seed_backward, seed_forward
from .tensor import Tensor


@dataclass
class Difference:
    """The largest absolute and relative difference between two results."""

    order: int
    quantity: str
    left: str
    right: str
    max_abs: float
    max_rel: float


def _difference(order: int, quantity: str, left: str, right: str, a: np.ndarray,
                b: np.ndarray) -> Difference:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    abs_diff = np.abs(a - b)
    scale = np.maximum(np.abs(b), np.max(np.abs(b)) * 1e-3 + 1e-300)
    return Difference(order, quantity, left, right, float(abs_diff.max()),
                      float((abs_diff / scale).max()))


def _bn(impl: str, eps: float, kind: str = "batch"
        ) -> Callable[[Tensor, Tensor, Tensor], Tensor]:
    """The normalisation ``kind`` (see NORM_KINDS) as f(x, gamma, beta) in training mode."""
    def run(x: Tensor, gamma: Tensor, beta: Tensor) -> Tensor:
        if kind == "layer":
            return F.layer_norm(x, x.shape[-1:], gamma, beta, eps, impl=impl)
        if kind == "group":
            groups = 2 if x.shape[1] % 2 == 0 else 1
            return F.group_norm(x, groups, gamma, beta, eps, impl=impl)
        if kind == "instance":
            return F.instance_norm(x, weight=gamma, bias=beta, eps=eps, impl=impl)
        return F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps, impl=impl)

    return run


# kind -> the input shape for an N x D request (the other norms get 3 positions per channel)
NORM_KINDS = {"batch": lambda n, d: (n, d), "layer": lambda n, d: (n, d),
              "group": lambda n, d: (n, d, 3), "instance": lambda n, d: (n, d, 3)}


def _derivatives(impl: str, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float,
                 probes: tuple[np.ndarray, np.ndarray, np.ndarray], kind: str = "batch"
                 ) -> dict[str, np.ndarray]:
    """out, its gradient (order 1), and directional derivatives of order 2 and 3."""
    dout, v, u = probes
    leaves = [Tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    out = _bn(impl, eps, kind)(*leaves)
    loss = ops.sum(ops.mul(out, Tensor(dout)))
    dx, dgamma, dbeta = grad(loss, leaves, create_graph=True)
    second_probe = ops.sum(ops.mul(dx, Tensor(v)))
    hx, hgamma = grad(second_probe, leaves[:2], create_graph=True)
    third_probe = ops.sum(ops.mul(hx, Tensor(u)))
    (tx,) = grad(third_probe, leaves[:1])
    return {
        "out": out.data, "dx": dx.data, "dgamma": dgamma.data, "dbeta": dbeta.data,
        "d2x": hx.data, "d2gamma": hgamma.data, "d3x": tx.data,
    }


def _seed_references(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float,
                     probes: tuple[np.ndarray, np.ndarray, np.ndarray],
                     step: float) -> dict[str, np.ndarray]:
    dout, v, _ = probes
    out, cache = seed_forward(x, gamma, beta, eps)
    dx, dgamma, dbeta = seed_backward(dout, cache)
    x_work = x.copy()

    def seed_dx_dot_v() -> float:
        _, c = seed_forward(x_work, gamma, beta, eps)
        return float(np.sum(seed_backward(dout, c)[0] * v))

    d2x = numerical_grad(seed_dx_dot_v, x_work, step)
    return {"out": out, "dx": dx, "dgamma": dgamma, "dbeta": dbeta, "d2x": d2x}


def _fd_third(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float,
              probes: tuple[np.ndarray, np.ndarray, np.ndarray], step: float) -> np.ndarray:
    """Central differences of minigrad's composed order-2 result, along u."""
    _, _, u = probes
    x_work = x.copy()

    def second_dot_u() -> float:
        return float(np.sum(_derivatives("composed", x_work, gamma, beta, eps, probes)["d2x"]
                            * u))

    return numerical_grad(second_dot_u, x_work, step)


def compare_bn(shape: tuple[int, int] = (8, 4), dtype: str = "float64", eps: float = 1e-5,
               seed: int = 0) -> list[Difference]:
    """Max abs/rel differences of BN output and gradients (orders 1-3) between the composed
    and fused minigrad graphs, the seed's numpy code and finite differences.

    Finite differences always run in float64 (on the same inputs).
    """
    rng = np.random.default_rng(seed)
    n, d = shape
    x = (rng.standard_normal((n, d)) * 2.0 + 0.5).astype(dtype)
    gamma = (rng.standard_normal(d) * 0.5 + 1.0).astype(dtype)
    beta = rng.standard_normal(d).astype(dtype)
    probes = tuple(rng.standard_normal((n, d)).astype(dtype) for _ in range(3))
    composed = _derivatives("composed", x, gamma, beta, eps, probes)
    fused = _derivatives("fused", x, gamma, beta, eps, probes)
    as64 = [a.astype(np.float64) for a in (x, gamma, beta)]
    probes64 = tuple(p.astype(np.float64) for p in probes)
    seed_ref = _seed_references(*as64, eps, probes64, step=1e-6)
    fd3 = _fd_third(*as64, eps, probes64, step=1e-5)
    orders = {"out": 0, "dx": 1, "dgamma": 1, "dbeta": 1, "d2x": 2, "d2gamma": 2, "d3x": 3}
    rows = []
    for quantity, order in orders.items():
        rows.append(_difference(order, quantity, "composed", "fused",
                                composed[quantity], fused[quantity]))
        if quantity in seed_ref:
            label = "seed numpy" if order < 2 else "FD of seed"
            rows.append(_difference(order, quantity, "composed", label,
                                    composed[quantity], seed_ref[quantity]))
            rows.append(_difference(order, quantity, "fused", label,
                                    fused[quantity], seed_ref[quantity]))
    rows.append(_difference(3, "d3x", "composed", "FD of order 2", composed["d3x"], fd3))
    rows.append(_difference(3, "d3x", "fused", "FD of order 2", fused["d3x"], fd3))
    return rows


def _fd_of(kind: str, eps: float, arrays: tuple[np.ndarray, np.ndarray, np.ndarray],
           probes: tuple[np.ndarray, np.ndarray, np.ndarray], quantity: str,
           probe: np.ndarray | None, step: float) -> np.ndarray:
    """Central differences in x of sum(composed quantity * probe) (or of the output's sum
    against dout when ``probe`` is None): the reference one order up."""
    x_work = arrays[0].copy()

    def scalar() -> float:
        result = _derivatives("composed", x_work, *arrays[1:], eps, probes, kind)
        return float(np.sum(result[quantity] * (probes[0] if probe is None else probe)))

    return numerical_grad(scalar, x_work, step)


def compare_norm(kind: str, shape: tuple[int, int] = (8, 4), dtype: str = "float64",
                 eps: float = 1e-5, seed: int = 0) -> list[Difference]:
    """Max abs/rel differences of a LayerNorm / GroupNorm / InstanceNorm output and its
    x-gradients of orders 1-3 between the composed seed steps and the fused node, and of
    each against central differences (float64) of the composed order below."""
    if kind not in NORM_KINDS or kind == "batch":
        raise ArgumentError(f"compare_norm: kind must be one of {sorted(NORM_KINDS)[1:]} "
                            f"(compare_bn for batch), got {kind!r}")
    rng = np.random.default_rng(seed)
    full = NORM_KINDS[kind](*shape)
    x = (rng.standard_normal(full) * 2.0 + 0.5).astype(dtype)
    gamma = (rng.standard_normal(shape[1]) * 0.5 + 1.0).astype(dtype)
    beta = rng.standard_normal(shape[1]).astype(dtype)
    probes = tuple(rng.standard_normal(full).astype(dtype) for _ in range(3))
    composed = _derivatives("composed", x, gamma, beta, eps, probes, kind)
    fused = _derivatives("fused", x, gamma, beta, eps, probes, kind)
    arrays = tuple(a.astype(np.float64) for a in (x, gamma, beta))
    probes64 = tuple(p.astype(np.float64) for p in probes)
    references = {"dx": _fd_of(kind, eps, arrays, probes64, "out", None, 1e-6),
                  "d2x": _fd_of(kind, eps, arrays, probes64, "dx", probes64[1], 1e-6),
                  "d3x": _fd_of(kind, eps, arrays, probes64, "d2x", probes64[2], 1e-5)}
    orders = {"out": 0, "dx": 1, "dgamma": 1, "dbeta": 1, "d2x": 2, "d2gamma": 2, "d3x": 3}
    rows = []
    for quantity, order in orders.items():
        rows.append(_difference(order, quantity, "composed", "fused",
                                composed[quantity], fused[quantity]))
        if quantity in references:
            for label, result in (("composed", composed), ("fused", fused)):
                rows.append(_difference(order, quantity, label, "FD of order below",
                                        result[quantity], references[quantity]))
    return rows


def time_norm(kind: str, shape: tuple[int, int], dtype: str = "float32", eps: float = 1e-5
              ) -> str:
    """Eager forward + backward of the composed and the fused ``kind`` norm side by side
    (medians of rounds, ``timing.time_side_by_side``), as a few lines of text."""
    from .timing import time_side_by_side

    rng = np.random.default_rng(0)
    full = NORM_KINDS[kind](*shape)
    arrays = [(rng.standard_normal(full) * 2.0 + 0.5).astype(dtype),
              (rng.standard_normal(shape[1]) * 0.5 + 1.0).astype(dtype),
              rng.standard_normal(shape[1]).astype(dtype)]
    dout = Tensor(rng.standard_normal(full).astype(dtype))

    def step(impl: str) -> Callable[[], list[Tensor]]:
        def run() -> list[Tensor]:
            leaves = [Tensor(a, requires_grad=True) for a in arrays]
            return grad(ops.sum(ops.mul(_bn(impl, eps, kind)(*leaves), dout)), leaves)
        return run

    timings = time_side_by_side({impl: step(impl) for impl in ("composed", "fused")},
                                budget=2.0)
    lines = [f"{kind} norm forward + backward, eager, shape {full}, {dtype} (medians)"]
    for impl, timing in timings.items():
        text = (f"{timing.median * 1e3:.3f} ms" if not isinstance(timing, Exception)
                else f"error: {timing}")
        lines.append(f"  {impl:<10} {text}")
    return "\n".join(lines)


def format_table(rows: list[Difference]) -> str:
    """The differences as a fixed-width text table."""
    header = f"{'order':>5}  {'quantity':<8}  {'compared':<28}  {'max abs':>10}  {'max rel':>10}"
    lines = [header, "-" * len(header)]
    for row in rows:
        pair = f"{row.left} vs {row.right}"
        lines.append(
            f"{row.order:>5}  {row.quantity:<8}  {pair:<28}  {row.max_abs:>10.2e}  "
            f"{row.max_rel:>10.2e}"
        )
    return "\n".join(lines)

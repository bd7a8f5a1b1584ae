"""Generate PyTorch 2.13 reference values for the reductions of issue 15
(tests/reference/torch_reductions.npz): max/min/amax/amin/argmax/argmin/aminmax, ...

Run: .venv/bin/python -m tests.reference.gen_torch_reductions
Each case is one call written once for both libraries (``lib`` is ``torch`` or
``minigrad``: the names, keywords and methods are PyTorch's). Per case: every output, and
for float64 inputs the gradient of sum(tanh(out_k) * head_k) over the float outputs and the
second-order gradient <that gradient, probe>. tests/test_reductions_reference.py compares
minigrad with the committed file always, and the file with live torch when importable.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

OUT = Path(__file__).with_name("torch_reductions.npz")
NAN, INF = float("nan"), float("inf")

# Inputs: ties, NaN, -inf rows, zeros; small, so the file stays small.
TIES = np.array([[1.0, 3.0, 3.0, -2.0, 0.5],
                 [2.0, 2.0, 1.0, 0.0, 2.0],
                 [-1.0, -4.0, 0.25, -4.0, 1.5]])
NANS = np.array([[1.0, 3.0, NAN, 3.0, NAN],
                 [-INF, -INF, -INF, -INF, -INF],
                 [0.5, -0.5, 0.25, 2.0, -3.0]])
CUBE = np.array([[[0.5, -1.0, 2.0, 2.0], [1.5, 0.0, -3.0, 1.0], [0.25, 0.25, -0.5, 0.75]],
                 [[1.0, 1.0, 1.0, -1.0], [3.0, -2.0, 0.5, 3.0], [-0.5, 2.5, 2.5, 0.0]]])
SCALAR = np.array(1.5)
INTS = np.array([[3, 7, 7, -1], [0, -5, 2, -5]], dtype=np.int64)
# rows with no zero, one zero, two zeros (prod, cumprod) and a zero row (norms)
ZEROS = np.array([[1.5, -0.5, 2.0, 0.75, -1.25],
                  [0.5, 1.25, 0.0, -2.0, 1.5],
                  [0.0, 2.0, -1.5, 0.0, 0.5],
                  [0.0, 0.0, 0.0, 0.0, 0.0]])
FLAGS = np.array([[0.0, NAN, 0.0], [1.0, -2.0, 0.5], [0.0, 0.0, 0.0]])
BOOLS = np.array([[True, False, True], [True, True, True]])
# no ties (topk's choice among tied values is PyTorch's kernel's own), a NaN in a row
UINT8 = np.array([[1, 0, 7], [2, 3, 255]], dtype=np.uint8)
EMPTY = np.zeros((2, 0))
# far apart (log(1 + e^-40) is 4e-18) and equal neighbours (logaddexp's kink in |a - b|)
SPREAD = np.array([[0.0, -40.0, -80.0, 3.0, 3.0], [0.5, 0.5, 0.5, 0.5, -2.0]])
APART = np.array([[0.3, -1.2, 2.5, 0.7, -0.1],
                  [1.9, 0.05, -2.2, 1.1, 0.4],
                  [NAN, 0.6, -0.8, 1.4, -1.7]])

# (call, input[, orders of gradient compared: 2 by default; 1 where the second order is
# taken at a singular point: PyTorch gives NaN there, minigrad 0, as its first order)
Case = tuple[Callable[[Any, Any], Any], np.ndarray] | tuple[Callable[[Any, Any], Any],
                                                             np.ndarray, int]
CASES: dict[str, Case] = {
    # max / min over a dim: (values, indices), the gradient to the returned index
    "max_dim": (lambda lib, x: lib.max(x, 1), TIES),
    "max_dim_keepdim_neg": (lambda lib, x: lib.max(x, -1, keepdim=True), CUBE),
    "max_method_dim0": (lambda lib, x: x.max(dim=0), CUBE),
    "min_dim": (lambda lib, x: lib.min(x, 0), TIES),
    "min_method_keepdim": (lambda lib, x: x.min(2, True), CUBE),
    "max_dim_nan_inf": (lambda lib, x: lib.max(x, 1), NANS),
    "min_dim_nan_inf": (lambda lib, x: x.min(1), NANS),
    "max_dim_0d": (lambda lib, x: lib.max(x, 0), SCALAR),
    "min_dim_0d_keepdim": (lambda lib, x: x.min(-1, keepdim=True), SCALAR),
    # max() / min() of everything: the gradient shared between ties
    "max_all_ties": (lambda lib, x: x.max(), TIES),
    "min_all_ties": (lambda lib, x: lib.min(x), TIES),
    "max_all_0d": (lambda lib, x: x.max(), SCALAR),
    "max_other": (lambda lib, x: lib.max(x, lib.tensor(TIES[::-1].copy())), TIES),
    "min_other": (lambda lib, x: x.min(lib.tensor(TIES[::-1].copy())), TIES),
    # amax / amin: several dims, ties shared
    "amax_dims": (lambda lib, x: lib.amax(x, (0, 2)), CUBE),
    "amax_keepdim": (lambda lib, x: x.amax(-1, keepdim=True), TIES),
    "amin_dim": (lambda lib, x: lib.amin(x, 1), TIES),
    "amin_all": (lambda lib, x: x.amin(), CUBE),
    "amax_nan_inf": (lambda lib, x: lib.amax(x, 1), NANS),
    "amin_0d": (lambda lib, x: lib.amin(x, 0), SCALAR),
    "aminmax_dim": (lambda lib, x: lib.aminmax(x, dim=1), TIES),
    "aminmax_all": (lambda lib, x: x.aminmax(), CUBE),
    # argmax / argmin: int64, first occurrence, NaN counts as the extremum
    "argmax_dim": (lambda lib, x: lib.argmax(x, 1), TIES),
    "argmin_dim_keepdim": (lambda lib, x: x.argmin(dim=-1, keepdim=True), CUBE),
    "argmax_all": (lambda lib, x: x.argmax(), TIES),
    "argmin_all_keepdim": (lambda lib, x: lib.argmin(x, keepdim=True), CUBE),
    "argmax_nan_inf": (lambda lib, x: lib.argmax(x, 1), NANS),
    "argmin_nan_inf": (lambda lib, x: lib.argmin(x, 1), NANS),
    "argmax_0d": (lambda lib, x: lib.argmax(x, 0), SCALAR),
    "argmax_ints": (lambda lib, x: x.argmax(1), INTS),
    "max_ints": (lambda lib, x: lib.max(x, 1), INTS),
    "amin_ints": (lambda lib, x: lib.amin(x, 0), INTS),
    # prod: zeros (one: only that element's gradient; two: none), second order too
    "prod_dim_zeros": (lambda lib, x: lib.prod(x[:3], 1), ZEROS),
    "prod_dim0_keepdim": (lambda lib, x: x[:3].prod(0, keepdim=True), ZEROS),
    "prod_all_one_zero": (lambda lib, x: x[1].prod(), ZEROS),
    "prod_all_two_zeros": (lambda lib, x: lib.prod(x[2]), ZEROS),
    "prod_all_no_zero": (lambda lib, x: x[0].prod(), ZEROS),
    "prod_cube_neg_dim": (lambda lib, x: lib.prod(x, -2), CUBE),
    "prod_0d": (lambda lib, x: x.prod(0), SCALAR),
    "prod_ints": (lambda lib, x: x.prod(1), INTS),
    "prod_bools": (lambda lib, x: lib.prod(x, 1), BOOLS),
    # cumsum / cumprod
    "cumsum_dim": (lambda lib, x: lib.cumsum(x, 1), TIES),
    "cumsum_neg_dim": (lambda lib, x: x.cumsum(-3), CUBE),
    "cumsum_0d": (lambda lib, x: lib.cumsum(x, 0), SCALAR),
    "cumsum_ints": (lambda lib, x: x.cumsum(dim=1), INTS),
    "cumsum_nan_inf": (lambda lib, x: lib.cumsum(x, 1), NANS),
    "cumprod_zeros": (lambda lib, x: lib.cumprod(x[:3], 1), ZEROS),
    "cumprod_dim0": (lambda lib, x: x.cumprod(0), CUBE),
    "cumprod_ints": (lambda lib, x: lib.cumprod(x, 1), INTS),
    # logsumexp: stable; -inf rows give -inf, NaN propagates
    "logsumexp_dim": (lambda lib, x: lib.logsumexp(x * 40.0, 1), TIES),
    "logsumexp_dims_keepdim": (lambda lib, x: x.logsumexp((0, 2), keepdim=True), CUBE),
    "logsumexp_nan_inf": (lambda lib, x: lib.logsumexp(x, -1), NANS),
    "logsumexp_0d": (lambda lib, x: lib.logsumexp(x, 0), SCALAR),
    # norms: the gradient at a zero vector and at zero elements is 0
    "norm_fro": (lambda lib, x: x[:3].norm(), ZEROS),
    "norm_dim_zero_row": (lambda lib, x: x.norm(dim=1), ZEROS, 1),
    "norm_p1": (lambda lib, x: x.norm(1, dim=0, keepdim=True), ZEROS),
    "norm_p3": (lambda lib, x: x[:3].norm(p=3, dim=1), ZEROS),
    "norm_p_half": (lambda lib, x: x[:3].norm(0.5, 1), ZEROS, 1),
    "norm_inf": (lambda lib, x: x.norm(float("inf"), 1), TIES),
    "norm_neg_inf": (lambda lib, x: x.norm(-float("inf"), 1), TIES),
    "norm_p0": (lambda lib, x: x.norm(0, 1), ZEROS, 0),
    "vector_norm": (lambda lib, x: lib.linalg.vector_norm(x, dim=(1, 2)), CUBE),
    "vector_norm_ord3": (lambda lib, x: lib.linalg.vector_norm(x, 3, -1, True), CUBE),
    "norm_0d": (lambda lib, x: x.norm(), SCALAR),
    # any / all / count_nonzero: bool (NaN is nonzero), int64 counts
    "any_dim": (lambda lib, x: lib.any(x, 1), FLAGS),
    "all_dim_keepdim": (lambda lib, x: x.all(dim=0, keepdim=True), FLAGS),
    "any_all": (lambda lib, x: x.any(), FLAGS),
    "all_bools": (lambda lib, x: lib.all(x, 1), BOOLS),
    "count_nonzero_dim": (lambda lib, x: lib.count_nonzero(x, 0), FLAGS),
    "count_nonzero_dims": (lambda lib, x: x.count_nonzero((0, 1)), INTS),
    # sort / argsort (stable: ties keep their order; NaN largest) and topk
    "sort_ties": (lambda lib, x: lib.sort(x, 1), TIES),
    "sort_ties_descending": (lambda lib, x: x.sort(dim=1, descending=True), TIES),
    "sort_stable_dim0": (lambda lib, x: lib.sort(x, dim=0, descending=True, stable=True),
                         CUBE),
    "sort_nan_inf": (lambda lib, x: x.sort(-1), NANS),
    "sort_nan_inf_descending": (lambda lib, x: lib.sort(x, descending=True), NANS),
    "sort_0d": (lambda lib, x: x.sort(0), SCALAR),
    "sort_ints": (lambda lib, x: lib.sort(x, 1), INTS),
    "sort_bools": (lambda lib, x: x.sort(1), BOOLS),
    "argsort_ties": (lambda lib, x: lib.argsort(x, 1), TIES),
    "argsort_descending": (lambda lib, x: x.argsort(dim=0, descending=True), CUBE),
    "argsort_nan_inf": (lambda lib, x: lib.argsort(x, -1, descending=True), NANS),
    "topk": (lambda lib, x: lib.topk(x, 2), APART),
    "topk_smallest_dim0": (lambda lib, x: x.topk(2, dim=0, largest=False), APART),
    "topk_all": (lambda lib, x: x.topk(5, 1), APART),
    "topk_zero": (lambda lib, x: lib.topk(x, 0, 1), APART),
    "topk_0d": (lambda lib, x: x.topk(1), SCALAR),
    # numpy's spellings, which PyTorch accepts too: axis= for dim=, keepdims= for keepdim=
    "max_axis_keepdims": (lambda lib, x: x.max(axis=1, keepdims=True), TIES),
    "amin_axis": (lambda lib, x: lib.amin(x, axis=(0, 2)), CUBE),
    "argmax_axis_keepdims": (lambda lib, x: x.argmax(axis=1, keepdims=True), TIES),
    "prod_axis_keepdims": (lambda lib, x: x.prod(axis=1, keepdims=True), ZEROS),
    "cumsum_axis": (lambda lib, x: lib.cumsum(x, axis=0), TIES),
    "cumprod_axis": (lambda lib, x: x.cumprod(axis=-1), ZEROS),
    "logsumexp_axis_keepdims": (lambda lib, x: x.logsumexp(axis=1, keepdims=True), CUBE),
    "any_axis_keepdims": (lambda lib, x: x.any(axis=0, keepdims=True), FLAGS),
    "sort_axis": (lambda lib, x: x.sort(axis=0, descending=True), TIES),
    "topk_axis": (lambda lib, x: lib.topk(x, 2, axis=0), APART),
    # uint8 truth values stay uint8 (PyTorch); empty dims
    "any_uint8": (lambda lib, x: x.any(1), UINT8),
    "all_uint8": (lambda lib, x: lib.all(x), UINT8),
    "amax_uint8": (lambda lib, x: lib.amax(x, 1), UINT8),
    "min_uint8": (lambda lib, x: x.min(0), UINT8),
    "logsumexp_empty": (lambda lib, x: lib.logsumexp(x, 1), EMPTY),
    "prod_empty": (lambda lib, x: x.prod(1), EMPTY),
    "norm_empty": (lambda lib, x: x.norm(dim=1), EMPTY),
    "sort_empty": (lambda lib, x: x.sort(1), EMPTY),
    "cumsum_empty": (lambda lib, x: x.cumsum(1), EMPTY),
    # cummax / cummin (the latest of tied positions; NaN propagates), logcumsumexp
    "cummax_ties": (lambda lib, x: lib.cummax(x, 1), TIES),
    "cummax_nan_inf": (lambda lib, x: x.cummax(-1), NANS),
    "cummin_dim0": (lambda lib, x: x.cummin(0), CUBE),
    "cummin_nan_inf": (lambda lib, x: lib.cummin(x, 1), NANS),
    "cummax_ints": (lambda lib, x: x.cummax(1), INTS),
    "cummin_bools": (lambda lib, x: lib.cummin(x, 1), BOOLS),
    "cummax_0d": (lambda lib, x: x.cummax(0), SCALAR),
    "logcumsumexp": (lambda lib, x: lib.logcumsumexp(x * 30.0, 1), TIES),
    "logcumsumexp_dim0": (lambda lib, x: x.logcumsumexp(0), CUBE),
    "logcumsumexp_0d": (lambda lib, x: x.logcumsumexp(-1), SCALAR),
    "logcumsumexp_nan_inf": (lambda lib, x: lib.logcumsumexp(x, 1), NANS),
    "logcumsumexp_spread": (lambda lib, x: x.logcumsumexp(1), SPREAD),
    # kthvalue / median / nanmedian (the lower median), nansum / nanmean; tie-free where
    # indices are compared (PyTorch's selection may name another of tied positions)
    "kthvalue": (lambda lib, x: lib.kthvalue(x, 2, 1), APART),
    "kthvalue_dim0_keepdim": (lambda lib, x: x.kthvalue(3, dim=0, keepdim=True), APART),
    "median_dim": (lambda lib, x: lib.median(x, 1), APART),
    "median_dim0_keepdim": (lambda lib, x: x.median(0, keepdim=True), APART),
    "median_nan_rows": (lambda lib, x: lib.median(x[:1], 1), NANS),
    "median_all_ties": (lambda lib, x: x.median(), TIES),
    "median_all_nan": (lambda lib, x: lib.median(x), NANS),
    "median_ints": (lambda lib, x: lib.median(x[:, :3], 1), INTS),
    "median_0d": (lambda lib, x: x.median(0), SCALAR),
    "nanmedian_dim": (lambda lib, x: lib.nanmedian(x, 1), APART),
    "nanmedian_rows": (lambda lib, x: x[:1].nanmedian(-1), NANS),
    "nanmedian_all": (lambda lib, x: lib.nanmedian(x), APART),
    "nansum": (lambda lib, x: lib.nansum(x, 1), FLAGS),
    "nansum_all": (lambda lib, x: x.nansum(), APART),
    "nanmean": (lambda lib, x: x.nanmean(dim=0, keepdim=True), FLAGS),
    "nanmean_dims": (lambda lib, x: lib.nanmean(x, (0, 1)), APART),
    # quantile / nanquantile: ranks q (n - 1) of the sorted values, five interpolations
    "quantile_dim": (lambda lib, x: lib.quantile(x, 0.3, dim=1), APART),
    "quantile_levels_keepdim": (
        lambda lib, x: x.quantile(lib.tensor([0.0, 0.25, 0.9, 1.0], dtype=lib.float64), 0,
                                  keepdim=True), APART),
    "quantile_all": (lambda lib, x: lib.quantile(x[:2], 0.6), APART),
    "quantile_all_keepdim_levels": (
        lambda lib, x: lib.quantile(x[:2], lib.tensor([0.2, 0.7], dtype=lib.float64),
                                    keepdim=True), APART),
    "quantile_lower": (lambda lib, x: x.quantile(0.35, 1, interpolation="lower"), APART),
    "quantile_higher": (lambda lib, x: x.quantile(0.35, 1, interpolation="higher"), APART),
    "quantile_midpoint": (lambda lib, x: x.quantile(0.35, 1, interpolation="midpoint"), APART),
    "quantile_nearest": (
        lambda lib, x: x.quantile(lib.tensor([0.125, 0.375, 0.5], dtype=lib.float64), -1,
                                  interpolation="nearest"), APART),
    "quantile_nan_rows": (lambda lib, x: lib.quantile(x, 0.5, 1), NANS),
    "nanquantile_rows": (lambda lib, x: lib.nanquantile(x[::2], 0.4, 1), NANS),
    "nanquantile_levels": (
        lambda lib, x: x.nanquantile(lib.tensor([0.1, 0.8], dtype=lib.float64), 1), APART),
    "quantile_0d": (lambda lib, x: x.quantile(0.5, 0), SCALAR),
}


def _extras(name: str, outputs: list[np.ndarray], shape: tuple[int, ...]
            ) -> tuple[list[np.ndarray], np.ndarray]:
    """A head per output and the probe of the input (seeded by the case's name)."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    heads = [rng.standard_normal(np.shape(out)) for out in outputs]
    return heads, rng.standard_normal(shape)


def run(lib: ModuleType, name: str) -> dict[str, np.ndarray]:
    """One case in ``lib`` (torch or minigrad): out{k}, and for float inputs grad, second."""
    fn, array, *rest = CASES[name]
    orders = rest[0] if rest else 2
    floats = array.dtype.kind == "f" and orders > 0
    x = lib.tensor(array, requires_grad=floats)
    result = fn(lib, x)
    outputs = list(result) if isinstance(result, tuple) else [result]
    stored = {f"out{k}": _numpy(out) for k, out in enumerate(outputs)}
    differentiable = [out for out in outputs if _numpy(out).dtype.kind == "f"]
    if not floats or not differentiable:
        return stored
    heads, probe = _extras(name, [_numpy(out) for out in differentiable], array.shape)
    loss = sum((lib.tanh(out) * lib.tensor(head)).sum()
               for out, head in zip(differentiable, heads, strict=True))
    (grad,) = _grad(lib)(loss, [x], create_graph=orders > 1)
    if orders == 1:
        return {**stored, "grad": _numpy(grad)}
    (second,) = _grad(lib)((grad * lib.tensor(probe)).sum(), [x])
    return {**stored, "grad": _numpy(grad), "second": _numpy(second)}


def _grad(lib: ModuleType) -> Callable[..., Any]:
    return lib.autograd.grad if lib.__name__ == "torch" else lib.grad


def _numpy(t: Any) -> np.ndarray:
    return t.detach().numpy() if hasattr(t, "numpy") else np.asarray(t.data)


def main() -> None:
    import torch

    stored = {}
    for name in CASES:
        for key, value in run(torch, name).items():
            stored[f"{name}/{key}"] = value
    stored["torch_version"] = np.array(torch.__version__)
    np.savez_compressed(OUT, **stored)
    print(f"wrote {OUT} ({len(CASES)} cases, torch {torch.__version__})")


if __name__ == "__main__":
    main()

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

Case = tuple[Callable[[Any, Any], Any], np.ndarray]
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
}


def _extras(name: str, outputs: list[np.ndarray], shape: tuple[int, ...]
            ) -> tuple[list[np.ndarray], np.ndarray]:
    """A head per output and the probe of the input (seeded by the case's name)."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    heads = [rng.standard_normal(np.shape(out)) for out in outputs]
    return heads, rng.standard_normal(shape)


def run(lib: ModuleType, name: str) -> dict[str, np.ndarray]:
    """One case in ``lib`` (torch or minigrad): out{k}, and for float inputs grad, second."""
    fn, array = CASES[name]
    floats = array.dtype.kind == "f"
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
    (grad,) = _grad(lib)(loss, [x], create_graph=True)
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

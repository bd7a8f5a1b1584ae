"""PyTorch 2.13's values for tests/test_tensor_math.py: the pow family on its edges (base 0,
exponent 0, +-inf, negative bases, integer dtypes) and the Tensor methods and operators of
the math rows, with gradients of order 1 and 2 in float64.

Run with the project's torch to regenerate ``tensor_math_torch.npz``:

    .venv/bin/python tests/reference/gen_tensor_math.py

A case is a function of a library (``torch`` or ``minigrad``: the same spelling works on
both) and of tensors made from the named arrays of ``INPUTS``; ``run`` evaluates it with
either library, so the tests compare minigrad with the committed file always and the file
with live PyTorch when it is importable. Gradients are those of sum(out * probe) by the
inputs listed in ``diff``; with ``order2`` also the gradient of sum(grad * probe2).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

HERE = Path(__file__).parent
OUTPUT = HERE / "tensor_math_torch.npz"
INF, NAN = np.inf, np.nan

_rng = np.random.default_rng(15)
INPUTS: dict[str, np.ndarray] = {
    "x_zero_one": np.array([0.0, 1.0, -2.0]),
    "y_012": np.array([0.0, 1.0, 2.0]),
    "zeros3": np.zeros(3),
    "x_edges": np.array([0.0, -2.0, INF, -INF, -3.0]),
    "t_edges": np.array([2.0, 3.0, -1.0, 2.0, 0.5]),
    "x_neg": np.array([-1.5, -2.0, -0.5, -3.0]),
    "t_whole": np.array([2.0, 3.0, -1.0, -2.0]),
    "x_pos": _rng.uniform(0.5, 2.0, (3, 4)),
    "t_row": _rng.standard_normal(4),
    "x_signed": _rng.standard_normal((3, 4)),
    "i_base": np.array([2, 1, -1, 0, -1, 3, 5]),
    "i_exp": np.array([-1, -2, -3, -1, -2, 0, 2]),
    "i_small": np.array([2, 3, 4, 0]),
}


class Case(NamedTuple):
    """fn(lib, *tensors of ``args``); gradients by the args at ``diff``."""

    fn: Callable[..., Any]
    args: tuple[str, ...]
    diff: tuple[int, ...] = ()
    order2: bool = False


CASES: dict[str, Case] = {
    # pow with a number exponent
    "pow0_at_zero": Case(lambda lib, x: x ** 0, ("x_zero_one",), (0,), True),
    "pow0_float_at_zero": Case(lambda lib, x: x ** 0.0, ("x_zero_one",), (0,), True),
    "pow1_at_zero": Case(lambda lib, x: x ** 1, ("x_zero_one",), (0,), True),
    "pow3_signed": Case(lambda lib, x: x ** 3, ("x_signed",), (0,), True),
    "pow_half_pos": Case(lambda lib, x: x ** 0.5, ("x_pos",), (0,), True),
    "pow_neg_1_5_pos": Case(lambda lib, x: x ** -1.5, ("x_pos",), (0,), True),
    "pow2_edges": Case(lambda lib, x: x ** 2, ("x_edges",), (0,)),
    "pow_half_edges": Case(lambda lib, x: x ** 0.5, ("x_edges",), (0,)),
    "pow_minus1_edges": Case(lambda lib, x: x ** -1, ("x_edges",), (0,)),
    # a number base, a tensor exponent
    "zero_base_number": Case(lambda lib, y: 0.0 ** y, ("y_012",), (0,), True),
    "two_base_number": Case(lambda lib, y: 2.0 ** y, ("t_row",), (0,), True),
    "int_base_number": Case(lambda lib, y: 3 ** y, ("t_row",), (0,), True),
    # a tensor base, a tensor exponent
    "zero_base_tensor": Case(lambda lib, b, y: b ** y, ("zeros3", "y_012"), (0, 1), True),
    "tensor_exponent_edges": Case(lambda lib, x, t: x ** t, ("x_edges", "t_edges"), (0, 1)),
    "negative_base_whole": Case(lambda lib, x, t: x ** t, ("x_neg", "t_whole"), (0, 1)),
    "tensor_exponent_smooth": Case(lambda lib, x, t: x ** t, ("x_pos", "t_row"), (0, 1),
                                   True),
    "pow_method": Case(lambda lib, x, t: x.pow(t), ("x_pos", "t_row"), (0, 1), True),
    "torch_pow": Case(lambda lib, x, t: lib.pow(x, t), ("x_pos", "t_row"), (0, 1), True),
    # integer dtypes (PyTorch's promotion: a float exponent gives float32)
    "int_pow_float": Case(lambda lib, i: i ** 2.0, ("i_small",)),
    "int_pow_half": Case(lambda lib, i: i ** 0.5, ("i_small",)),
    "int_pow_minus1_float": Case(lambda lib, i: i ** -1.0, ("i_small",)),
    "int_pow_int": Case(lambda lib, i: i ** 3, ("i_small",)),
    "int_pow_int_tensor": Case(lambda lib, i, e: i ** e, ("i_base", "i_exp")),
    "int_number_base": Case(lambda lib, e: 2 ** e, ("i_exp",)),
    "bool_pow_int": Case(lambda lib, i: (i > 2) ** 2, ("i_small",)),
}


def _probe(shape: tuple[int, ...], low: float, high: float) -> np.ndarray:
    size = int(np.prod(shape))
    return np.linspace(low, high, size).reshape(shape) if size else np.zeros(shape)


def _numpy(value: Any) -> np.ndarray:
    return np.asarray(value.detach().numpy() if hasattr(value, "detach") else value)


def _needs_grad(value: Any) -> bool:
    return value is not None and bool(value.requires_grad)


def run(lib: Any, name: str) -> dict[str, np.ndarray]:
    """The case's outputs (``out`` or ``out0``, ``out1`` ... for tuples), their dtype
    names, and the gradients ``grad<k>`` / ``grad2_<k>`` by the k-th differentiated arg."""
    case = CASES[name]
    tensors = [lib.tensor(INPUTS[arg], requires_grad=k in case.diff)
               for k, arg in enumerate(case.args)]
    out = case.fn(lib, *tensors)
    results: dict[str, np.ndarray] = {}
    outs = out if isinstance(out, tuple) else (out,)
    for k, value in enumerate(outs):
        key = "out" if len(outs) == 1 else f"out{k}"
        results[key] = _numpy(value)
        results[f"{key}_dtype"] = np.array(str(value.dtype).removeprefix("torch."))
    if not case.diff:
        return results
    wrt = [tensors[k] for k in case.diff]
    loss = (out * lib.tensor(_probe(tuple(out.shape), 0.5, 1.5))).sum()
    grads = lib.autograd.grad(loss, wrt, create_graph=case.order2, allow_unused=True)
    for k, g in zip(case.diff, grads, strict=True):
        results[f"grad{k}"] = np.zeros(INPUTS[case.args[k]].shape) if g is None else _numpy(g)
    if case.order2:
        terms = [(g * lib.tensor(_probe(tuple(g.shape), -1.0, 1.0))).sum()
                 for g in grads if _needs_grad(g)]
        second = [None] * len(wrt)
        if terms:
            total = terms[0]
            for term in terms[1:]:
                total = total + term
            second = lib.autograd.grad(total, wrt, allow_unused=True)
        for k, g in zip(case.diff, second, strict=True):
            shape = INPUTS[case.args[k]].shape
            results[f"grad2_{k}"] = np.zeros(shape) if g is None else _numpy(g)
    return results


def compute() -> dict[str, np.ndarray]:
    """Every case with PyTorch, as one flat dict (``<case>/<key>``)."""
    import torch

    torch.set_default_dtype(torch.float32)
    return {f"{name}/{key}": value for name in CASES
            for key, value in run(torch, name).items()}


if __name__ == "__main__":
    np.savez_compressed(OUTPUT, **compute())
    print(f"wrote {OUTPUT}")

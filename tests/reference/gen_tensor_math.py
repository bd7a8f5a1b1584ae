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
    # methods and operators
    "x_unit": _rng.uniform(-0.9, 0.9, (3, 4)),
    "x_above1": _rng.uniform(1.2, 3.0, (3, 4)),
    "divisor": np.array([1.3, -0.7, 2.1, -1.9]),
    "x_bounds": np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 0.2]),
    "lo": np.array([-0.5, -0.5, 0.3, 0.6, 1.0, -2.0]),
    "hi": np.array([0.5, -0.5, 0.4, 0.2, 2.0, 0.1]),
    "i_signed": np.array([7, -7, 5, -5, 0, 6]),
    "i_div": np.array([2, 2, -3, -3, 4, -4]),
    "i_bits": np.array([6, 5, -3, 0, 12, 7]),
    "ties_a": np.array([1.0, 2.0, NAN, 3.0, NAN, -1.0]),
    "ties_b": np.array([1.0, NAN, 2.0, 4.0, NAN, -2.0]),
    "mask34": _rng.standard_normal((3, 4)) > 0,
    "value0": np.array(2.5),
    "idx": np.array([3, 0, 3]),
    "idx0": np.array(1),
    "x_3d": _rng.standard_normal((2, 3, 4)),
    "close_a": np.array([1.0, INF, NAN, 1e-9, 1.00001, -INF, 2.0, 1e10]),
    "close_b": np.array([1.0, INF, NAN, 0.0, 1.0, INF, 2.1, 1.00001e10]),
    "weight": _rng.uniform(0.0, 1.0, 4),
    "i_shift": np.array([1, 3, 0, 63, 64, -1]),
    "x_probs": np.array([0.1, 0.2, 0.5, 0.8, 0.95]),
    "x_xlogy": np.array([0.0, 0.0, 0.0, 1.5, 2.0, -1.0, 0.0, 3.0, NAN]),
    "y_xlogy": np.array([0.5, 0.0, -1.0, 0.0, NAN, 2.0, INF, INF, 1.0]),
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
    # fmod (the sign of the dividend), shifts, and the other composed functions
    "fmod": Case(lambda lib, x, d: x.fmod(d), ("x_signed", "divisor"), (0,), True),
    "fmod_fn_number": Case(lambda lib, x: lib.fmod(x, -0.7), ("x_signed",), (0,), True),
    "int_fmod": Case(lambda lib, a, b: lib.fmod(a, b), ("i_signed", "i_div")),
    "lshift": Case(lambda lib, a, s: a << s, ("i_signed", "i_shift")),
    "rshift": Case(lambda lib, a, s: a >> s, ("i_signed", "i_shift")),
    "lshift_number": Case(lambda lib, a: a.bitwise_left_shift(3), ("i_signed",)),
    "rshift_fn": Case(lambda lib, a: lib.bitwise_right_shift(a, 1), ("i_signed",)),
    "xlogy": Case(lambda lib, x, y: lib.xlogy(x, y), ("x_signed", "x_pos"), (0, 1), True),
    "xlogy_edges": Case(lambda lib, x, y: x.xlogy(y), ("x_xlogy", "y_xlogy"), (0, 1)),
    "xlogy_int": Case(lambda lib, a, b: lib.xlogy(a, b), ("i_signed", "i_bits")),
    "sgn": Case(lambda lib, x: x.sgn(), ("x_signed",)),
    "hypot": Case(lambda lib, x, y: lib.hypot(x, y), ("x_signed", "t_row"), (0, 1), True),
    "logaddexp": Case(lambda lib, x, y: x.logaddexp(y), ("x_signed", "t_row"), (0, 1), True),
    "logaddexp2": Case(lambda lib, x, y: x.logaddexp2(y), ("x_signed", "t_row"), (0, 1), True),
    "logaddexp2_inf": Case(lambda lib, x, y: lib.logaddexp2(x, y), ("x_edges", "t_edges")),
    "logaddexp_inf": Case(lambda lib, x, y: lib.logaddexp(x, y), ("x_edges", "t_edges")),
    "round_decimals": Case(lambda lib, x: x.round(decimals=2), ("x_signed",), (0,)),
    "round_decimals_fn": Case(lambda lib, x: lib.round(x * 100, decimals=-1), ("x_signed",)),
    "float_power": Case(lambda lib, i: i.float_power(2), ("i_small",)),
    "float_power_tensor": Case(lambda lib, x, t: lib.float_power(x, t), ("x_pos", "t_row"),
                               (0, 1), True),
    "sinc": Case(lambda lib, x: lib.sinc(x), ("x_zero_one",), (0,)),
    "sinc_method": Case(lambda lib, x: x.sinc(), ("x_signed",), (0,), True),
    "deg2rad": Case(lambda lib, x: x.deg2rad(), ("x_signed",), (0,)),
    "rad2deg_int": Case(lambda lib, i: lib.rad2deg(i), ("i_small",)),
    "positive": Case(lambda lib, x: x.positive(), ("x_signed",), (0,)),
    "heaviside": Case(lambda lib, x, v: lib.heaviside(x, v), ("x_zero_one", "y_012")),
    "logit": Case(lambda lib, x: x.logit(), ("x_probs",), (0,), True),
    "logit_outside": Case(lambda lib, x: x.logit(), ("x_pos",), (0,)),
    "logit_eps": Case(lambda lib, x: lib.logit(x, eps=0.2), ("x_probs",), (0,)),
    # remainder (the sign of the divisor), floor_divide (of negatives), div rounding modes
    "mod_number": Case(lambda lib, x: x % 0.7, ("x_signed",), (0,), True),
    "mod_tensor": Case(lambda lib, x, d: x % d, ("x_signed", "divisor"), (0,), True),
    "rmod_number": Case(lambda lib, d: 3.5 % d, ("divisor",)),
    "remainder_fn": Case(lambda lib, x, d: lib.remainder(x, d), ("x_signed", "divisor")),
    "floordiv_number": Case(lambda lib, x: x // 0.7, ("x_signed",)),
    "floordiv_tensor": Case(lambda lib, x, d: x // d, ("x_signed", "divisor")),
    "int_mod": Case(lambda lib, a, b: a % b, ("i_signed", "i_div")),
    "int_floordiv": Case(lambda lib, a, b: a // b, ("i_signed", "i_div")),
    "int_rfloordiv": Case(lambda lib, b: -7 // b, ("i_div",)),
    "int_mod_float": Case(lambda lib, a: a % 2.5, ("i_signed",)),
    "div_trunc": Case(lambda lib, x, d: lib.div(x, d, rounding_mode="trunc"),
                      ("x_signed", "divisor")),
    "div_floor": Case(lambda lib, x, d: x.div(d, rounding_mode="floor"), ("x_signed", "divisor")),
    "int_div_trunc": Case(lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
                          ("i_signed", "i_div")),
    "int_div_true": Case(lambda lib, a, b: a.div(b), ("i_signed", "i_div")),
    "add_alpha": Case(lambda lib, x, t: x.add(t, alpha=2.5), ("x_pos", "t_row"), (0, 1)),
    "sub_alpha": Case(lambda lib, x, t: lib.sub(x, t, alpha=-0.5), ("x_pos", "t_row"), (0, 1)),
    "mul_method": Case(lambda lib, x, t: x.mul(t), ("x_pos", "t_row"), (0, 1), True),
    "atan2_method": Case(lambda lib, x, t: x.atan2(t), ("x_signed", "t_row"), (0, 1), True),
    # clamp: the gradient reaches x where min <= x <= max, bounds included
    "clamp_numbers": Case(lambda lib, x: x.clamp(min=-0.5, max=0.5), ("x_bounds",), (0,)),
    "clamp_min_only": Case(lambda lib, x: x.clamp(min=0.0), ("x_bounds",), (0,)),
    "clamp_max_fn": Case(lambda lib, x: lib.clamp_max(x, 0.5), ("x_bounds",), (0,)),
    "clamp_min_fn": Case(lambda lib, x: x.clamp_min(-0.5), ("x_bounds",), (0,)),
    "clip_method": Case(lambda lib, x: x.clip(-0.5, 0.5), ("x_bounds",), (0,)),
    "clamp_tensors": Case(lambda lib, x, lo, hi: x.clamp(lo, hi), ("x_bounds", "lo", "hi"),
                          (0, 1, 2)),
    "clamp_int": Case(lambda lib, i: lib.clamp(i, 1, 3), ("i_small",)),
    "clamp_int_float_bound": Case(lambda lib, i: i.clamp(min=1.5), ("i_small",)),
    # maximum / minimum (ties shared) and fmax / fmin (NaN ignored, ties to input)
    "maximum_method": Case(lambda lib, a, b: a.maximum(b), ("ties_a", "ties_b"), (0, 1)),
    "minimum_method": Case(lambda lib, a, b: a.minimum(b), ("ties_a", "ties_b"), (0, 1)),
    "fmax": Case(lambda lib, a, b: lib.fmax(a, b), ("ties_a", "ties_b"), (0, 1)),
    "fmin": Case(lambda lib, a, b: a.fmin(b), ("ties_a", "ties_b"), (0, 1)),
    "fmax_int": Case(lambda lib, a, b: lib.fmax(a, b), ("i_signed", "i_div")),
    # the operators & | ^ ~ (logical on bools, bitwise on integers)
    "and_bool": Case(lambda lib, x, t: (x > 0) & (t > 0), ("x_signed", "t_row")),
    "or_bool": Case(lambda lib, x, t: (x > 0) | (t > 0), ("x_signed", "t_row")),
    "xor_bool": Case(lambda lib, x, t: (x > 0) ^ (t > 0), ("x_signed", "t_row")),
    "invert_bool": Case(lambda lib, x: ~(x > 0), ("x_signed",)),
    "and_int": Case(lambda lib, a, b: a & b, ("i_bits", "i_signed")),
    "or_int_number": Case(lambda lib, a: a | 3, ("i_bits",)),
    "xor_int": Case(lambda lib, a, b: a ^ b, ("i_bits", "i_signed")),
    "invert_int": Case(lambda lib, a: ~a, ("i_bits",)),
    "and_bool_int": Case(lambda lib, a, b: (a > 0) & b, ("i_bits", "i_signed")),
    "bitwise_not_bool": Case(lambda lib, a: lib.bitwise_not(a > 0), ("i_bits",)),
    "logical_and_method": Case(lambda lib, x, t: x.logical_and(t), ("x_signed", "t_row")),
    # masked_fill, index_select, softmax methods, F.pad
    "masked_fill_number": Case(lambda lib, x, m: x.masked_fill(m, -1.5), ("x_signed", "mask34"),
                               (0,), True),
    "masked_fill_tensor": Case(lambda lib, x, m, v: x.masked_fill(m, v),
                               ("x_signed", "mask34", "value0"), (0, 2)),
    "masked_fill_row_mask": Case(lambda lib, x, m: x.masked_fill(m[0], 0.0),
                                 ("x_signed", "mask34"), (0,)),
    "masked_fill_int": Case(lambda lib, i: i.masked_fill(i > 2, 7.9), ("i_small",)),
    "index_select": Case(lambda lib, x, i: x.index_select(1, i), ("x_signed", "idx"), (0,),
                         True),
    "index_select_fn": Case(lambda lib, x, i: lib.index_select(x, -1, i[1:]),
                            ("x_signed", "idx"), (0,)),
    "index_select_0d": Case(lambda lib, x, i: x.index_select(0, i), ("x_signed", "idx0"), (0,)),
    "softmax_method": Case(lambda lib, x: x.softmax(1), ("x_signed",), (0,), True),
    "log_softmax_method": Case(lambda lib, x: x.log_softmax(-2), ("x_signed",), (0,), True),
    "pad_constant": Case(lambda lib, x: lib.nn.functional.pad(x, (1, 2)), ("x_signed",), (0,)),
    "pad_constant_value": Case(lambda lib, x: lib.nn.functional.pad(x, (1, 1, 2, 0), value=1.5),
                               ("x_signed",), (0,)),
    "pad_reflect": Case(lambda lib, x: lib.nn.functional.pad(x, (2, 1), mode="reflect"),
                        ("x_3d",), (0,)),
    "pad_replicate": Case(lambda lib, x: lib.nn.functional.pad(x, (1, 2, 2, 1), mode="replicate"),
                          ("x_3d",), (0,)),
    # where with one argument, nonzero, isclose / allclose
    "where_condition": Case(lambda lib, x: lib.where(x > 0.5), ("x_signed",)),
    "where_method": Case(lambda lib, x, t: x.where(x > t, t), ("x_signed", "t_row"), (0, 1)),
    "nonzero": Case(lambda lib, m: m.nonzero(), ("mask34",)),
    "nonzero_fn_tuple": Case(lambda lib, i: lib.nonzero(i, as_tuple=True), ("i_signed",)),
    "isclose": Case(lambda lib, a, b: lib.isclose(a, b), ("close_a", "close_b")),
    "isclose_equal_nan": Case(lambda lib, a, b: a.isclose(b, rtol=0.1, equal_nan=True),
                              ("close_a", "close_b")),
    "isclose_int": Case(lambda lib, a, b: lib.isclose(a, b, atol=1), ("i_signed", "i_div")),
    "allclose": Case(lambda lib, a, b: lib.tensor([lib.allclose(a, b),
                                                   lib.allclose(a, a, equal_nan=True),
                                                   a[:2].allclose(b[:2])]),
                     ("close_a", "close_b")),
    # lerp, addcmul, addcdiv
    "lerp_low": Case(lambda lib, a, b: lib.lerp(a, b, 0.3), ("x_signed", "t_row"), (0, 1), True),
    "lerp_high": Case(lambda lib, a, b: a.lerp(b, 0.8), ("x_signed", "t_row"), (0, 1), True),
    "lerp_tensor": Case(lambda lib, a, b, w: lib.lerp(a, b, w), ("x_signed", "t_row", "weight"),
                        (0, 1, 2), True),
    "addcmul": Case(lambda lib, x, a, b: lib.addcmul(x, a, b, value=0.5),
                    ("x_signed", "x_pos", "t_row"), (0, 1, 2), True),
    "addcdiv": Case(lambda lib, x, a, b: x.addcdiv(a, b, value=-2.0),
                    ("t_row", "x_signed", "x_pos"), (0, 1, 2), True),
}

# every unary math row as a method, with gradients to order 2 inside its domain
_DOMAIN = {"asin": "x_unit", "acos": "x_unit", "atanh": "x_unit", "acosh": "x_above1",
           "log": "x_pos", "log2": "x_pos", "log10": "x_pos", "log1p": "x_pos", "sqrt": "x_pos",
           "rsqrt": "x_pos", "reciprocal": "x_pos"}
UNARY_METHODS = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
                 "atanh", "log1p", "expm1", "log2", "log10", "exp2", "erf", "erfc", "floor",
                 "ceil", "round", "trunc", "frac", "sign", "abs", "rsqrt", "square", "exp",
                 "log", "sqrt", "tanh", "sigmoid", "neg", "reciprocal", "relu"]
for _name in UNARY_METHODS:
    CASES[f"method_{_name}"] = Case(lambda lib, x, _n=_name: getattr(x, _n)(),
                                    (_DOMAIN.get(_name, "x_signed"),), (0,), True)
    CASES[f"function_{_name}"] = Case(lambda lib, x, _n=_name: getattr(lib, _n)(x),
                                      (_DOMAIN.get(_name, "x_signed"),))


def _probe(shape: tuple[int, ...], low: float, high: float) -> np.ndarray:
    size = int(np.prod(shape))
    return np.linspace(low, high, size).reshape(shape) if size else np.zeros(shape)


def _numpy(value: Any) -> np.ndarray:
    if not hasattr(value, "detach"):
        return np.asarray(value)
    try:
        return np.asarray(value.detach().numpy())
    except RuntimeError:  # PyTorch's zero tensors (the gradient of floor, ...)
        return np.asarray(value.detach().numpy(force=True))


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

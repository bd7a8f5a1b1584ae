"""Sample calls for every primitive in the op table, shared by the op-driven tests.

Here, not in tests/, so the fuzzer (minigrad.testing.fuzz) can import it too. Each entry:
op name -> list of (function of float64 tensors, list of input arrays).
Inputs keep away from kinks (relu at 0, max ties, sqrt/log near 0) so central differences
are valid. The test suite fails when an op row has no entry here, so a new primitive is
tested by adding its row and one line below.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import minigrad as mg
from minigrad import conv, fused_bn, ops, pool

_rng = np.random.default_rng(1234)


def _r(*shape: int) -> np.ndarray:
    return _rng.standard_normal(shape)


def _pos(*shape: int) -> np.ndarray:
    return _rng.uniform(0.5, 2.0, shape)


def _away_from_zero(*shape: int) -> np.ndarray:
    values = _rng.uniform(0.3, 2.0, shape)
    return values * _rng.choice([-1.0, 1.0], shape)


def _distinct(*shape: int) -> np.ndarray:
    size = int(np.prod(shape))
    return (_rng.permutation(size) * 0.37 - 1.1).reshape(shape)


def _unit(*shape: int) -> np.ndarray:
    return _rng.uniform(-0.9, 0.9, shape)


def _with_zeros(*shape: int) -> np.ndarray:
    return _rng.choice([0.0, 0.0, -1.5, 2.0, np.nan], shape)


def _special(*shape: int) -> np.ndarray:
    return _rng.choice([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan], shape)


_MASK = _r(3, 4) > 0
_IDX = np.array([[2, 0, 1], [1, 1, 0]])
_KEY = (slice(None), np.array([0, 2, 2]))

Sample = tuple[Callable[..., mg.Tensor], list[np.ndarray]]

SAMPLES: dict[str, list[Sample]] = {
    "add": [(ops.add, [_r(3, 4), _r(4)]), (ops.add, [_r(2, 1, 3), _r(4, 1)])],
    "sub": [(ops.sub, [_r(3, 4), _r(3, 1)])],
    "mul": [(ops.mul, [_r(3, 4), _r(1, 4)]), (ops.mul, [_r(2, 3), _r(2, 3)])],
    "div": [(ops.div, [_r(3, 4), _away_from_zero(4)])],
    "maximum": [(ops.maximum, [_distinct(3, 4), _distinct(4) + 0.05])],
    "where": [(lambda a, b: ops.where(mg.tensor(_MASK), a, b), [_r(3, 4), _r(4)])],
    "neg": [(ops.neg, [_r(5)])],
    "pow": [
        (lambda x: ops.power(x, 2), [_r(3, 2)]),
        (lambda x: ops.power(x, 3), [_r(3, 2)]),
        (lambda x: ops.power(x, -1.5), [_pos(4)]),
        (lambda x: ops.power(x, 1), [_r(4)]),
    ],
    "sqrt": [(ops.sqrt, [_pos(3, 3)])],
    "reciprocal": [(ops.reciprocal, [_away_from_zero(3, 3)])],
    "exp": [(ops.exp, [_r(3, 3)])],
    "log": [(ops.log, [_pos(3, 3)])],
    "tanh": [(ops.tanh, [_r(3, 3)])],
    "sigmoid": [(ops.sigmoid, [_r(3, 3) * 3])],
    "relu": [(ops.relu, [_away_from_zero(4, 3)])],
    "cast": [(lambda x: ops.cast(x, "float64") * x, [_r(3)])],
    "sum": [
        (lambda x: ops.sum(x, 0), [_r(3, 4)]),
        (lambda x: ops.sum(x, (0, 2), keepdims=True), [_r(2, 3, 4)]),
        (lambda x: ops.sum(x, 1), [_r(2, 3, 4)]),
        (ops.sum, [_r(2, 3)]),
    ],
    "mean": [
        (lambda x: ops.mean(x, 0), [_r(3, 4)]),
        (lambda x: ops.mean(x, -1, keepdims=True), [_r(2, 3, 4)]),
        (lambda x: ops.mean(x, (0, 2)), [_r(2, 3, 4)]),
    ],
    "max": [
        (lambda x: ops.max(x, 1), [_distinct(3, 4)]),
        (lambda x: ops.max(x, (0, 2), keepdims=True), [_distinct(2, 3, 4)]),
    ],
    "reshape": [(lambda x: ops.reshape(x, (4, -1)), [_r(2, 3, 2)])],
    "transpose": [
        (lambda x: ops.transpose(x, None), [_r(2, 3)]),
        (lambda x: ops.transpose(x, (1, 2, 0)), [_r(2, 3, 4)]),
    ],
    "broadcast_to": [(lambda x: ops.broadcast_to(x, (2, 3, 4)), [_r(3, 1)])],
    "matmul": [
        (ops.matmul, [_r(3, 4), _r(4, 2)]),
        (ops.matmul, [_r(2, 3, 4), _r(4, 5)]),
        (ops.matmul, [_r(4), _r(4, 2)]),
        (ops.matmul, [_r(3, 4), _r(4)]),
        (ops.matmul, [_r(4), _r(4)]),
        (ops.matmul, [_r(2, 1, 3, 4), _r(3, 4, 2)]),
    ],
    "index": [
        (lambda x: ops.index(x, (slice(1, 3), 0)), [_r(4, 3)]),
        (lambda x: ops.index(x, _KEY), [_r(2, 3)]),
    ],
    "index_add": [(lambda g: ops.index_add(g, _KEY, (2, 4)), [_r(2, 3)])],
    "gather": [(lambda x: ops.gather(x, mg.tensor(_IDX), 1), [_r(2, 3)])],
    "scatter_add": [(lambda g: ops.scatter_add(g, mg.tensor(_IDX), 1, (2, 4)), [_r(2, 3)])],
    "normalize": [
        (lambda x: fused_bn.normalize(x, axes=(0,), eps=1e-3), [_r(5, 3)]),
        (lambda x: fused_bn.normalize(x, axes=(0, 2), eps=0.0), [_r(3, 2, 4)]),
    ],
    "batch_norm": [
        (lambda x, w, b: fused_bn.batch_norm_fused(x, w, b, eps=1e-3),
         [_r(6, 3), _pos(3), _r(3)]),
        (lambda x, w, b: fused_bn.batch_norm_fused(x, w, b, eps=1e-5),
         [_r(2, 3, 2, 2), _pos(3), _r(3)]),
    ],
    "batch_norm_dx": [
        (lambda g, x, w: fused_bn.batch_norm_dx(g, x, w, axes=(0,), eps=1e-3),
         [_r(5, 3), _r(5, 3), _pos(3)]),
        (lambda g, x, w: fused_bn.batch_norm_dx(g, x, w, axes=(0, 2), eps=1e-2),
         [_r(3, 2, 4), _r(3, 2, 4), _pos(2)]),
    ],
    # elementwise math (minigrad/ops/unary_math.py, binary_math.py)
    "sin": [(ops.sin, [_r(3, 3)])],
    "cos": [(ops.cos, [_r(3, 3)])],
    "tan": [(ops.tan, [_unit(3, 3)])],
    "asin": [(ops.asin, [_unit(3, 3)])],
    "acos": [(ops.acos, [_unit(3, 3)])],
    "atan": [(ops.atan, [_r(3, 3)])],
    "sinh": [(ops.sinh, [_r(3, 3)])],
    "cosh": [(ops.cosh, [_r(3, 3)])],
    "asinh": [(ops.asinh, [_r(3, 3)])],
    "acosh": [(ops.acosh, [_pos(3, 3) + 1.0])],
    "atanh": [(ops.atanh, [_unit(3, 3)])],
    "log1p": [(ops.log1p, [_pos(3, 3) - 0.9])],
    "expm1": [(ops.expm1, [_r(3, 3)])],
    "log2": [(ops.log2, [_pos(3, 3)])],
    "log10": [(ops.log10, [_pos(3, 3)])],
    "exp2": [(ops.exp2, [_r(3, 3)])],
    "erf": [(ops.erf, [_r(3, 3)])],
    "erfc": [(ops.erfc, [_r(3, 3)])],
    "floor": [(ops.floor, [_r(3, 3) * 3])],
    "ceil": [(ops.ceil, [_r(3, 3) * 3])],
    "round": [(ops.round, [_r(3, 3) * 3])],
    "trunc": [(ops.trunc, [_r(3, 3) * 3])],
    "frac": [(ops.frac, [_r(3, 3) * 3])],
    "sign": [(ops.sign, [_away_from_zero(3, 3)])],
    "abs": [(ops.abs, [_away_from_zero(3, 3)])],
    "rsqrt": [(ops.rsqrt, [_pos(3, 3)])],
    "square": [(ops.square, [_r(3, 3)])],
    "nan_to_num": [(ops.nan_to_num, [_r(3, 3)])],
    "minimum": [(ops.minimum, [_distinct(3, 4), _distinct(4) + 0.05])],
    "atan2": [(ops.atan2, [_r(3, 4), _away_from_zero(4)])],
    "remainder": [(ops.remainder, [_r(3, 4) * 3, _away_from_zero(4)])],
    "copysign": [(ops.copysign, [_away_from_zero(3, 4), _away_from_zero(4)])],
    "conv2d": [
        (lambda x, w: conv.conv2d(x, w, stride=2, padding=1), [_r(2, 2, 5, 4), _r(3, 2, 3, 2)]),
        (lambda x, w: conv.conv2d(x, w, padding="same", dilation=2, groups=2),
         [_r(1, 4, 4, 5), _r(4, 2, 2, 3)]),
    ],
    "conv2d_input_grad": [
        (lambda g, w: conv.conv2d_input_grad(g, w, (5, 4), stride=(2, 2),
                                             padding=((1, 1), (1, 1)), dilation=(1, 1),
                                             groups=1), [_r(2, 3, 3, 3), _r(3, 2, 3, 2)]),
        (lambda g, w: conv.conv2d_input_grad(g, w, (4, 5), stride=(1, 1),
                                             padding=((1, 1), (2, 2)), dilation=(2, 2),
                                             groups=2), [_r(1, 4, 4, 5), _r(4, 2, 2, 3)]),
    ],
    "conv2d_weight_grad": [
        (lambda x, g: conv.conv2d_weight_grad(x, g, (3, 2), stride=(2, 2),
                                              padding=((1, 1), (1, 1)), dilation=(1, 1),
                                              groups=1), [_r(2, 2, 5, 4), _r(2, 3, 3, 3)]),
        (lambda x, g: conv.conv2d_weight_grad(x, g, (2, 3), stride=(1, 1),
                                              padding=((1, 1), (2, 2)), dilation=(2, 2),
                                              groups=2), [_r(1, 4, 4, 5), _r(1, 4, 4, 5)]),
    ],
}

# Ops with no gradient: sample inputs only (checked for shape rules and forward values).
NON_DIFFERENTIABLE: dict[str, list[Sample]] = {
    name: [(getattr(ops, name), [_r(3, 4), _r(4)])]
    for name in ("greater", "greater_equal", "less", "less_equal", "equal", "not_equal")
}
NON_DIFFERENTIABLE["floor_divide"] = [(ops.floor_divide, [_r(3, 4) * 3, _away_from_zero(4)])]
NON_DIFFERENTIABLE["logical_and"] = [(ops.logical_and, [_with_zeros(3, 4), _with_zeros(4)])]
NON_DIFFERENTIABLE["logical_or"] = [(ops.logical_or, [_with_zeros(3, 4), _with_zeros(4)])]
NON_DIFFERENTIABLE["logical_xor"] = [(ops.logical_xor, [_with_zeros(3, 4), _with_zeros(4)])]
NON_DIFFERENTIABLE["logical_not"] = [(ops.logical_not, [_with_zeros(3, 4)])]
NON_DIFFERENTIABLE["isnan"] = [(ops.isnan, [_special(3, 4)])]
NON_DIFFERENTIABLE["isinf"] = [(ops.isinf, [_special(3, 4)])]
NON_DIFFERENTIABLE["isfinite"] = [(ops.isfinite, [_special(3, 4)])]
NON_DIFFERENTIABLE["signbit"] = [(ops.signbit, [_special(3, 4)])]
NON_DIFFERENTIABLE["max_pool2d_index"] = [
    (lambda x: pool.max_pool2d_index(x, kernel=(2, 2), stride=(2, 2), padding=((1, 1), (0, 1)),
                                     dilation=(1, 1), out_hw=(3, 2)), [_r(1, 2, 4, 3)]),
]

# Samples added after the table above draw from their own generator, so the inputs above
# stay what they were.
_late = np.random.default_rng(15)
SAMPLES["pow"].append((lambda x: ops.power(x, 0), [np.array([0.0, 1.5, -2.0])]))
SAMPLES["pow_tensor"] = [
    (ops.pow_tensor, [_late.uniform(0.5, 2.0, (3, 4)), _late.standard_normal(4)]),
    (lambda t: ops.pow_tensor(2.5, t), [_late.standard_normal(3)]),
]
# the op-driven tests pass float arrays: integer and bool operands are made in the sample
_bits = _late.integers(-9, 9, (3, 4)).astype(float)
_bits_row = _late.integers(-9, 9, 4).astype(float)


def _on_ints(op: Callable[..., mg.Tensor]) -> Callable[..., mg.Tensor]:
    return lambda *xs: op(*(ops.cast(x, "int64") for x in xs))


def _on_signs(op: Callable[..., mg.Tensor]) -> Callable[..., mg.Tensor]:
    return lambda *xs: op(*(ops.greater(x, 0.0) for x in xs))


for _name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    NON_DIFFERENTIABLE[_name] = [(_on_ints(getattr(ops, _name)), [_bits, _bits_row]),
                                 (_on_signs(getattr(ops, _name)), [_bits, _bits_row])]
NON_DIFFERENTIABLE["bitwise_not"] = [(_on_ints(ops.bitwise_not), [_bits])]
# the scan and sort rows (minigrad/ops/scans.py, sorting.py)
SAMPLES["cumsum"] = [
    (lambda x: ops.cumsum(x, 1), [_late.standard_normal((3, 4))]),
    (lambda x: ops.apply(ops.CUMSUM, x, axis=0, reverse=True), [_late.standard_normal((3, 2, 2))]),
]
NON_DIFFERENTIABLE["argsort"] = [
    (lambda x: ops.argsort(x, 1), [_late.choice([0.0, 0.0, -1.5, 2.0, np.nan], (3, 5))]),
    (lambda x: ops.argsort(x, 0, descending=True),
     [_late.choice([0.0, 0.0, -1.5, 2.0, np.nan], (4, 2, 3))]),
]
_shifts = np.array([[0.0, 1.0, 3.0, 63.0], [64.0, -1.0, 70.0, 2.0], [5.0, 0.0, 1.0, 62.0]])
NON_DIFFERENTIABLE["bitwise_left_shift"] = [(_on_ints(ops.bitwise_left_shift), [_bits, _shifts])]
NON_DIFFERENTIABLE["bitwise_right_shift"] = [(_on_ints(ops.bitwise_right_shift),
                                              [_bits, _shifts])]
SAMPLES["xlogy"] = [(ops.xlogy, [_late.standard_normal((3, 4)), _late.uniform(0.5, 2.0, 4)])]
SAMPLES["fmod"] = [(ops.fmod, [_late.standard_normal((3, 4)) * 3,
                               np.array([1.3, -0.7, 2.1, -1.9])])]
# scatter_reduce's amax/amin values (minigrad/scattering.py): repeats, a NaN, negative indices
_SCATTER_IDX = np.array([[2, 0, 2], [-1, 1, 1]])
NON_DIFFERENTIABLE["scatter_max"] = [
    (lambda base, src: ops.scatter_max(base, mg.tensor(_SCATTER_IDX), src, 1),
     [_late.standard_normal((2, 4)), np.array([[0.5, np.nan, 1.5], [2.0, -1.0, 3.0]])]),
    (lambda base, src: ops.scatter_max(base, mg.tensor(_SCATTER_IDX.T), src, 0, largest=False),
     [_late.standard_normal((3, 3)), _late.standard_normal((3, 2))]),
]
# the linear-algebra rows (minigrad/ops/matrix_rows.py, spectral_rows.py): well-conditioned
# inputs, symmetric ones for eigh, distinct singular values for the svd rows
_la = np.random.default_rng(16)
_WELL = _la.standard_normal((2, 3, 3)) + 3.0 * np.eye(3)


def _sym(x: mg.Tensor) -> mg.Tensor:
    return x + ops.transpose(x, (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2))


SAMPLES["inv"] = [(ops.inv, [_WELL]), (ops.inv, [_la.standard_normal((3, 3)) + 3.0 * np.eye(3)])]
SAMPLES["det"] = [(ops.det, [_la.standard_normal((2, 3, 3))])]
SAMPLES["logabsdet"] = [(ops.logabsdet, [_la.standard_normal((2, 3, 3))])]
NON_DIFFERENTIABLE["det_sign"] = [(ops.det_sign, [_la.standard_normal((4, 3, 3))])]
SAMPLES["solve"] = [(ops.solve, [_WELL, _la.standard_normal((2, 3, 2))]),
                    (ops.solve, [_WELL[0], _la.standard_normal((2, 3, 4))])]
SAMPLES["cholesky"] = [(lambda a: ops.cholesky(ops.matmul(a, ops.transpose(a, (0, 2, 1)))),
                        [_WELL])]
SAMPLES["eigvalsh"] = [(lambda a: ops.eigvalsh(_sym(a)), [_la.standard_normal((2, 3, 3))]),
                       (lambda a: ops.eigvalsh(_sym(a), "U"), [_la.standard_normal((3, 3))])]
SAMPLES["eigh_vectors"] = [(lambda a: ops.eigh_vectors(_sym(a)), [_la.standard_normal((2, 3, 3))]),
                           (lambda a: ops.eigh_vectors(_sym(a), "U"),
                            [_la.standard_normal((3, 3))])]
SAMPLES["svdvals"] = [(ops.svdvals, [_la.standard_normal((2, 4, 3))])]
SAMPLES["svd_u"] = [(ops.svd_u, [_la.standard_normal((2, 4, 3))]),
                    (ops.svd_u, [_la.standard_normal((3, 4))]),
                    (lambda a: ops.index(ops.svd_u(a, True), (Ellipsis, slice(0, 2))),
                     [_la.standard_normal((3, 2))])]
SAMPLES["svd_vh"] = [(ops.svd_vh, [_la.standard_normal((2, 3, 4))]),
                     (ops.svd_vh, [_la.standard_normal((4, 3))]),
                     (lambda a: ops.index(ops.svd_vh(a, True), (slice(0, 2),)),
                      [_la.standard_normal((2, 3))])]
SAMPLES["pinv"] = [(lambda a: ops.pinv(a, rtol=1e-12), [_la.standard_normal((2, 4, 3))]),
                   (lambda a: ops.pinv(a, rtol=1e-12), [_la.standard_normal((3, 4))]),
                   (lambda a: ops.pinv(_sym(a), rtol=1e-12, hermitian=True),
                    [_la.standard_normal((3, 3))])]
# pinv's residual projectors (I - A A+, I - A+ A), nonzero for non-square or low-rank A
_RANK2 = _la.standard_normal((4, 2)) @ _la.standard_normal((2, 3))
SAMPLES["pinv_residual"] = [(lambda a: ops.pinv_residual(a, "left", rtol=1e-12),
                             [_la.standard_normal((2, 4, 3))]),
                            (lambda a: ops.pinv_residual(a, "right", rtol=1e-12),
                             [_la.standard_normal((3, 4))]),
                            (lambda a: ops.pinv_residual(a @ ops.transpose(a, (1, 0)), "right",
                                                         rtol=1e-9, hermitian=True), [_RANK2])]
# numpy's eig of matrices with real, distinct eigenvalues (a small perturbation of a diagonal)
_REAL_EIG = np.diag([1.0, 2.0, 3.5]) + 0.2 * _la.standard_normal((2, 3, 3))
SAMPLES["eig_values"] = [(ops.eig_values, [_REAL_EIG])]
SAMPLES["eig_vectors"] = [(ops.eig_vectors, [_REAL_EIG])]

# the check row: values inside the range pass through unchanged (outside: eager and the
# kernel raise ArgumentError, tests/test_jit_value_checks.py)
SAMPLES["require_range"] = [
    (lambda x: ops.require_range(x, 0.0, 1.0, "sample: x must lie in [0, 1]"),
     [np.random.default_rng(17).uniform(0.05, 0.95, (3, 4))]),
]

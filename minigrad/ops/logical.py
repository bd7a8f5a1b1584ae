"""Boolean rows of any input: the logical functions (truth values: non-zero, NaN included,
is True) and the classification of floats (isnan, isinf, isfinite); the bitwise functions
of integers and bools (the operators ``& | ^ ~``). No gradient."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ArgumentTypeError
from ..tensor import Tensor
from .rows import binary, boolean, unary

LOGICAL_AND, logical_and = boolean("logical_and", np.logical_and,
                                   "(({0} != 0) and ({1} != 0))", doc="a and b (truth values).")
LOGICAL_OR, logical_or = boolean("logical_or", np.logical_or,
                                 "(({0} != 0) or ({1} != 0))", doc="a or b (truth values).")
LOGICAL_XOR, logical_xor = boolean("logical_xor", np.logical_xor,
                                   "(({0} != 0) != ({1} != 0))",
                                   doc="a xor b (truth values).")
LOGICAL_NOT, logical_not = boolean("logical_not", np.logical_not, "({0} == 0)",
                                   doc="not x (truth values).", arity=1)
ISNAN, isnan = boolean("isnan", np.isnan, "({0} != {0})", doc="Whether x is NaN.", arity=1)
ISINF, isinf = boolean("isinf", np.isinf, "(abs({0}) == np.inf)",
                       doc="Whether x is +inf or -inf.", arity=1)
ISFINITE, isfinite = boolean("isfinite", np.isfinite, "(abs({0}) < np.inf)",
                             doc="Whether x is neither infinite nor NaN.", arity=1)
def _signbit_forward(x: np.ndarray) -> np.ndarray:
    """x's sign bit, False at NaN (see SIGNBIT)."""
    return np.signbit(x) & ~np.isnan(x)


# The sign a NaN gets depends on the code that made it, not on the math: numpy's arccos of
# 2 is -nan where libm's (compiled code) is +nan, numpy's tanh of -nan is +nan where libm's
# keeps -nan (fuzz seed 741852963, program 168: signbit(acos(x)) differed between eager and
# mg.jit). So minigrad reports no sign for NaN, eagerly and compiled alike. PyTorch reports
# the bit its own kernels leave.
SIGNBIT, signbit = boolean("signbit", _signbit_forward,
                           "(np.copysign(1.0, {0}) < 0 and {0} == {0})",
                           doc="Whether x's sign bit is set (-0.0 too); False at NaN, whose sign "
                               "depends on the library that computed it.", arity=1)


# ------------------------------------------------------------------ bitwise functions
def _bitwise(name: str, ufunc: np.ufunc) -> Any:
    """``ufunc`` of integer and bool arrays (PyTorch's bitwise ops; bools: the logical
    ones); floats refused, as PyTorch does."""
    def forward(*arrays: np.ndarray) -> np.ndarray:
        if any(a.dtype.kind not in "biu" for a in arrays):
            listed = ", ".join(f"{a.dtype} {a.shape}" for a in arrays)
            raise ArgumentTypeError(f"{name}: integer or bool tensors only, got {listed} (PyTorch "
                                    "refuses floats too)")
        return ufunc(*arrays)

    return forward


BITWISE_AND, bitwise_and = binary(
    "bitwise_and", _bitwise("bitwise_and", np.bitwise_and), None, ("", ""), "({0} & {1})",
    doc="a & b bit by bit (integers) or logically (bools); no gradient.",
    torch="bitwise_and", operator="and")
BITWISE_OR, bitwise_or = binary(
    "bitwise_or", _bitwise("bitwise_or", np.bitwise_or), None, ("", ""), "({0} | {1})",
    doc="a | b bit by bit (integers) or logically (bools); no gradient.",
    torch="bitwise_or", operator="or")
BITWISE_XOR, bitwise_xor = binary(
    "bitwise_xor", _bitwise("bitwise_xor", np.bitwise_xor), None, ("", ""), "({0} ^ {1})",
    doc="a ^ b bit by bit (integers) or logically (bools); no gradient.",
    torch="bitwise_xor", operator="xor")
# Integers only: Numba's ~True is -2, so ``bitwise_not`` sends bools to logical_not.
BITWISE_NOT_INT, _bitwise_not_int = unary(
    "bitwise_not", _bitwise("bitwise_not", np.invert), None, "", "(~{0})",
    doc="~x bit by bit (integers); no gradient.", torch="bitwise_not", method=False)


def bitwise_not(x: Any) -> Any:
    """~x: bit by bit for integers, ``logical_not`` for bools (PyTorch's ``~``)."""
    if getattr(x, "dtype", None) == np.bool_ or isinstance(x, bool):
        return logical_not(x)
    return _bitwise_not_int(x)


Tensor.bitwise_not = bitwise_not  # type: ignore[attr-defined]
Tensor.__invert__ = bitwise_not  # type: ignore[attr-defined]

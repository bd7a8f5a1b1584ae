"""Checks of values inside compiled kernels, raising the error eager raises.

An op row whose eager forward refuses some input values (an integer divisor holding a
zero: ``Op.integer_zero_message``) gets the same refusal in the kernel: the scalar
expression reads the checked input through ``nonzero_divisor`` (``scalars.scalar_expr``),
which returns it unchanged or raises ZeroDivisionError with eager's message (the divisor's
shape and dtype, known when the kernel is generated; no user text). The ``require_range``
row (``ops/checks.py``) reads its input through ``in_range``: ArgumentError (OutOfRangeError
for indices) with the row's label when an element lies outside [lo, hi] or is NaN.
"""

from __future__ import annotations

import numba

from ..errors import ArgumentError, OutOfRangeError


@numba.njit(cache=True, nogil=True)
def nonzero_divisor(b, message):
    """``b``, or ZeroDivisionError(message) when the integer divisor ``b`` is 0."""
    if b == 0:
        raise ZeroDivisionError(message)
    return b


@numba.njit(cache=True, nogil=True)
def in_range(x, lo, hi, label, index):
    """``x``, or ArgumentError(label) when lo <= x <= hi fails (NaN fails); for an
    ``index``, OutOfRangeError(label)."""
    if not (x >= lo and x <= hi):
        if index:
            raise OutOfRangeError(label)
        raise ArgumentError(label)
    return x


@numba.njit(cache=True, nogil=True)
def int_text(n):
    """``str(n)`` of an integer, the most negative int64 included (Numba's str of it fails
    with MemoryError: its negation overflows)."""
    if n == -9223372036854775807 - 1:
        return "-9223372036854775808"
    return str(n)

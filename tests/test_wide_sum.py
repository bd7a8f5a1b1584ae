"""ops.wide_sum: float64 sums of float32 arrays, through the compiled kernel of
minigrad/_wide_sum.py for large C-contiguous arrays over leading axes, else numpy. Checked
against numpy's float64 reduction (np.add.reduce with dtype=float64): bitwise equal, since
the kernel adds the rows in numpy's order."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops

BIG = ops.WIDE_SUM_MIN_ELEMENTS


def _array(shape: tuple[int, ...]) -> np.ndarray:
    """Magnitudes from 1e-8 to 1e8: float64 sums of these round, so the order of the
    additions shows in the last bits (for data of one magnitude they are often exact)."""
    rng = np.random.default_rng(11)
    return (rng.standard_normal(shape) * 10.0 ** rng.uniform(-8, 8, shape)).astype(np.float32)


@pytest.mark.parametrize(("shape", "axes"), [
    ((BIG // 256 + 3, 256), (0,)),          # rows not a multiple of four
    ((4, BIG // 1024 + 1, 256), (0,)),
    ((4, BIG // 1024 + 1, 256), (0, 1)),
    ((BIG // 64, 8, 8), (0,)),
])
@pytest.mark.parametrize("keepdims", [False, True])
def test_large_sums_are_numpy_float64_sums_bitwise(shape, axes, keepdims) -> None:
    x = _array(shape)
    want = np.add.reduce(x, axis=axes, dtype=np.float64, keepdims=keepdims)
    got = ops.wide_sum(x, axes, keepdims)
    assert got.dtype == np.float64 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("case", ["trailing axes", "not contiguous", "float64", "small",
                                  "few columns"])
def test_other_sums_are_numpy_s(case, monkeypatch) -> None:
    """Arrays the kernel does not take give numpy's own result, bit for bit, without it."""
    from minigrad import _wide_sum

    def refuse(*args: object) -> None:
        raise AssertionError("the compiled kernel took an array it should leave to numpy")

    monkeypatch.setattr(_wide_sum, "sum_rows", refuse)
    x = _array((BIG // 128, 128))
    axes = (0,)
    if case == "trailing axes":
        axes = (1,)
    elif case == "not contiguous":
        x = x[:, ::2]
    elif case == "float64":
        x = x.astype(np.float64)
    elif case == "few columns":  # numpy sums one column pairwise: the kernel would differ
        x = x.reshape(-1, 1)
    else:
        x = x[:64]
    want = np.add.reduce(x, axis=axes, dtype=np.float64)
    np.testing.assert_array_equal(ops.wide_sum(x, axes, False), want)


def test_eager_sum_and_mean_use_it_and_keep_float32() -> None:
    """mg.sum / mg.mean over the batch axis of a large float32 tensor: float32 results equal
    to numpy's float64 sum (and mean) rounded to float32; the gradient is unchanged."""
    x = _array((BIG // 256, 256))
    total = np.add.reduce(x, axis=0, dtype=np.float64)
    t = mg.tensor(x, requires_grad=True)
    s, m = ops.sum(t, 0), ops.mean(t, 0)
    assert s.dtype == np.float32 and m.dtype == np.float32
    from minigrad import _wide_sum
    assert _wide_sum.sum_rows.signatures  # the compiled kernel did these sums
    np.testing.assert_array_equal(s.data, total.astype(np.float32))
    np.testing.assert_array_equal(m.data, (total / x.shape[0]).astype(np.float32))
    ops.sum(ops.mul(s, s)).backward()
    np.testing.assert_allclose(t.grad.data, np.broadcast_to(2 * s.data, x.shape), rtol=1e-6)

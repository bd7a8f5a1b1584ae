"""Shifted one-pass sums (minigrad/jit/rewrite.py) and the row-unrolled axis-0 reductions
of the code generator, checked against numpy in float64 (two-pass formulas written here,
not taken from the code under test) and by counting the passes in the kernel plan."""

from __future__ import annotations

import re

import numpy as np
import pytest

import minigrad as mg
from minigrad.jit import jit


def _full_loops(plan: str, shape: tuple[int, ...]) -> int:
    """How many steps of the plan loop over ``shape``."""
    return len(re.findall(rf"loop  over {re.escape(str(shape))}:", plan))


def _run(fn, *arrays: np.ndarray) -> tuple[list[np.ndarray], str]:
    compiled = jit(fn)
    tensors = [mg.tensor(a) for a in arrays]
    compiled(*tensors)  # traces
    result = compiled(*tensors)  # compiled code
    outs = result if isinstance(result, tuple | list) else (result,)
    return [np.asarray(o.data, np.float64) for o in outs], compiled.plan


def _centred(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """x - mean(x) in float64, with the mean rounded to x's dtype as the graph holds it."""
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=axes, keepdims=True).astype(x.dtype).astype(np.float64)
    return x64 - mean


# (name, minigrad fn of (x, g), numpy float64 reference of (x, g), x shape, reduced axes)
CASES = [
    ("var axis 0", lambda x, g: x.var(0, correction=0),
     lambda x, g: (_centred(x, (0,)) ** 2).mean(0), (37, 6), (0,)),
    ("sum (x + g) * (x - m)", lambda x, g: ((x - x.mean(0)) * (x + g)).sum(0),
     lambda x, g: (_centred(x, (0,)) * (x.astype(np.float64) + g)).sum(0), (37, 6), (0,)),
    ("degree 0, 1, 2 mixed", lambda x, g: (((x - x.mean(0)) ** 2) * g * 0.5
                                           + (x - x.mean(0)) * 3.0 - g).sum(0),
     lambda x, g: (_centred(x, (0,)) ** 2 * g * 0.5 + _centred(x, (0,)) * 3.0 - g).sum(0),
     (37, 6), (0,)),
    ("(N, C, L) over (0, 2), keepdims", lambda x, g: x.var((0, 2), keepdims=True, correction=0),
     lambda x, g: (_centred(x, (0, 2)) ** 2).mean((0, 2), keepdims=True), (9, 4, 7), (0, 2)),
    ("all axes", lambda x, g: x.var(correction=0),
     lambda x, g: (_centred(x, (0, 1)) ** 2).mean(), (37, 6), (0, 1)),
    ("inner axis", lambda x, g: ((x - x.mean(1, keepdims=True)) ** 2).sum(1),
     lambda x, g: (_centred(x, (1,)) ** 2).sum(1), (37, 6), (1,)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, fn, reference, shape, axes", CASES, ids=[c[0] for c in CASES])
def test_centred_sums_match_numpy_in_one_pass(name, fn, reference, shape, axes, dtype) -> None:
    rng = np.random.default_rng(len(name))
    x = (rng.standard_normal(shape) * 2.0 + 5.0).astype(dtype)
    g = rng.standard_normal(shape[1:] if axes == (0,) else ()).astype(dtype)
    (got,), plan = _run(fn, x, g)
    want = reference(x, g.astype(np.float64))
    tol = 2e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())
    assert _full_loops(plan, shape) == 1, plan  # mean and centred sums share one pass


@pytest.mark.parametrize("dtype, offset, tol", [(np.float32, 1e4, 1e-6),
                                                (np.float64, 1e6, 1e-11)])
def test_shift_stays_accurate_at_a_large_offset_with_an_outlier_first_row(
        dtype, offset, tol) -> None:
    """K is the first row: make it 40 standard deviations away from the mean."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((500, 8)) + offset
    x[0] += 40.0
    x = x.astype(dtype)
    (got,), _ = _run(lambda x: x.var(0, correction=0), x)
    want = (_centred(x, (0,)) ** 2).mean(0)
    np.testing.assert_allclose(got, want, rtol=tol)


def test_non_polynomial_use_of_the_mean_is_left_alone() -> None:
    """sqrt(.) of x - m is not a polynomial: the sum keeps its own pass, and stays right."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((40, 5))
    (got,), plan = _run(lambda x: ((x - x.mean(0)) ** 2 + 1.0).sqrt().sum(0), x)
    want = np.sqrt(_centred(x, (0,)) ** 2 + 1.0).sum(0)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert _full_loops(plan, (40, 5)) == 2, plan


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_composed_batch_norm_forward_backward_takes_two_passes(dtype) -> None:
    """Statistics with every gradient sum; then out and dx. The statistics pass holds four
    sums (x - K, its square, g, g (x - K)): dbeta's sum(g) in the input dtype and the
    float64 sum(g) of dx are one accumulator."""
    rng = np.random.default_rng(5)
    n, d = 96, 40
    x, dout = (rng.standard_normal((n, d)).astype(dtype) for _ in range(2))
    gamma, beta = (rng.standard_normal(d).astype(dtype) for _ in range(2))

    def step(x, gamma, beta, dout):
        out = mg.nn.functional.batch_norm(x, None, None, gamma, beta, training=True,
                                          impl="composed")
        return (out, *mg.grad(out, [x, gamma, beta], grad_outputs=dout))

    leaves = [mg.tensor(x, requires_grad=True), mg.tensor(gamma, requires_grad=True),
              mg.tensor(beta, requires_grad=True), mg.tensor(dout)]
    compiled = jit(step)
    compiled(*leaves)
    out, dx, dgamma, dbeta = (np.asarray(t.data, np.float64) for t in compiled(*leaves))
    x64, g64, d64 = x.astype(np.float64), gamma.astype(np.float64), dout.astype(np.float64)
    xhat = (x64 - x64.mean(0)) / np.sqrt(x64.var(0) + 1e-5)
    want_dx = g64 / np.sqrt(x64.var(0) + 1e-5) * (
        d64 - d64.mean(0) - xhat * (d64 * xhat).mean(0))
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for got, want in ((out, xhat * g64 + beta), (dx, want_dx), (dgamma, (d64 * xhat).sum(0)),
                      (dbeta, d64.sum(0))):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    assert _full_loops(compiled.plan, (n, d)) == 2, compiled.plan
    assert _sums_in_first_full_loop(compiled.plan, (n, d)) == 4, compiled.plan


def _sums_in_first_full_loop(plan: str, shape: tuple[int, ...]) -> int:
    line = next(line for line in plan.splitlines() if f"loop  over {shape}:" in line)
    return line.count("reduce_sum")


def test_a_float32_sum_taken_in_float64_too_is_one_accumulator() -> None:
    """sum(x) in float32 and sum(float64(x)): one reduction; both values match numpy's
    float64 sum (the float32 one rounded to float32)."""
    x = np.random.default_rng(8).standard_normal((300, 7)).astype(np.float32) + 1e3
    (narrow, wide), plan = _run(lambda t: (t.sum(0), t.astype(np.float64).sum(0)), x)
    assert plan.count("reduce_sum") == 1, plan
    want = x.astype(np.float64).sum(0)
    np.testing.assert_allclose(wide, want, rtol=1e-14)
    np.testing.assert_array_equal(narrow, want.astype(np.float32))


@pytest.mark.parametrize("rows", [3, 8, 11, 13, 300, 301])
def test_axis0_reductions_unrolled_by_rows_match_numpy(rows) -> None:
    """Sums and maxima over axis 0 with a row count that leaves 0..3 rows to the tail loop
    (300 and 301 rows: thread chunks, one serial tail row after them),
    a NaN in an unrolled row and in a tail row, and a 3-D reduction over (0, 2)."""
    rng = np.random.default_rng(rows)
    x = rng.standard_normal((rows, 230))
    cube = rng.standard_normal((rows, 3, 4))
    x[rows // 2, 7] = np.nan
    x[rows - 1, 9] = np.nan
    got, _ = _run(lambda x, c: (x.sum(0), x.amax(0), (x * x).mean(0), c.sum((0, 2))), x, cube)
    want = [x.sum(0), x.max(0), (x * x).mean(0), cube.sum((0, 2))]
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        assert np.array_equal(np.isnan(a), np.isnan(b))


@pytest.mark.parametrize("rows", [8, 11, 301])
def test_row_reductions_beside_axis0_ones_match_numpy(rows) -> None:
    """Sums and maxima that keep axis 0 (over the rows' other axes) in the same loop as a
    reduction over axis 0, which unrolls it by rows: each unrolled row must add into its
    own slot (before: the four rows' terms all went into the last row's, x.sum(1) was
    wrong for (x.sum(0), x.sum(1))); with a NaN in an unrolled and in a tail row."""
    rng = np.random.default_rng(rows)
    x = rng.standard_normal((rows, 230))
    cube = rng.standard_normal((rows, 3, 4))
    x[rows // 2, 7] = np.nan
    x[rows - 1, 9] = np.nan
    got, plan = _run(lambda x, c: (x.sum(0), x.sum(1), x.amax(1), (x * x).mean(1),
                                   c.sum((1, 2)), c.sum(0)), x, cube)
    assert _full_loops(plan, (rows, 230)) == 1, plan
    want = [x.sum(0), x.sum(1), x.max(1), (x * x).mean(1), cube.sum((1, 2)), cube.sum(0)]
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        assert np.array_equal(np.isnan(a), np.isnan(b))


@pytest.mark.parametrize("shape", [(33, 24), (4, 5, 40), (300, 1000)])
def test_five_row_reductions_in_one_loop_match_numpy(shape) -> None:
    """Five reductions over the last axis in one loop nest beside a sum over axis 0 and an
    elementwise result: the row buffers are filled two per loop along the last axis (the
    odd one in a loop of its own), after a loop for the result and the column sum; sums
    and maxima, with a NaN in one row (codegen._buffer_groups, padded row buffers)."""
    rng = np.random.default_rng(shape[-1])
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    x[(1,) * (len(shape) - 1) + (3,)] = np.nan

    def f(x, y):
        return (x.sum(-1), (x * y).sum(-1), x.amax(-1), (y * y).sum(-1), (x - y).amax(-1),
                (x * 2.0 + y).sum(0), x * y + 1.0)

    compiled = jit(f, background=False)
    compiled(mg.tensor(x), mg.tensor(y))  # traces (an eager run)
    got = [t.numpy() for t in compiled(mg.tensor(x), mg.tensor(y))]
    assert compiled.stats()["compiles"] == 1
    want = [x.sum(-1), (x * y).sum(-1), x.max(-1), (y * y).sum(-1), (x - y).max(-1),
            (x * 2.0 + y).sum(0), x * y + 1.0]
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        assert np.array_equal(np.isnan(a), np.isnan(b))
    inner = f"for i{len(shape) - 1} in range({shape[-1]}):"
    assert compiled.source.count(inner) == 4, compiled.source  # result + 2 + 2 + 1


_ROW_TERMS = ("x", "x * y", "x - y", "(x * 1.5 + y).tanh()", "y * y")


@pytest.mark.parametrize("seed", range(6))
def test_random_row_reductions_in_one_loop_equal_eager(seed) -> None:
    """Random functions of 3-6 sums, maxima and means over the last axis of random terms
    (sometimes beside a column sum and an elementwise result, sometimes a NaN), float32
    and float64: the compiled result equals eager minigrad's."""
    rng = np.random.default_rng(1000 + seed)
    shape = (*(int(n) for n in rng.integers(1, 6, size=rng.integers(1, 3))),
             int(rng.integers(8, 300)))
    picks = [(str(rng.choice(["sum", "amax", "mean"])), str(rng.choice(_ROW_TERMS)))
             for _ in range(int(rng.integers(3, 7)))]
    column, elementwise = bool(rng.random() < 0.5), bool(rng.random() < 0.5)
    dtype = (np.float32, np.float64)[seed % 2]

    def f(x, y):
        terms = {"x": x, "x * y": x * y, "x - y": x - y,
                 "(x * 1.5 + y).tanh()": (x * 1.5 + y).tanh(), "y * y": y * y}
        out = [getattr(terms[term], name)(-1) for name, term in picks]
        return tuple(out + ([(x * 2.0 - y).sum(0)] if column else [])
                     + ([x * y + 1.0] if elementwise else []))

    x, y = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
    if seed % 3 == 0:
        x.flat[int(rng.integers(x.size))] = np.nan
    tensors = (mg.tensor(x), mg.tensor(y))
    want = [t.numpy() for t in f(*tensors)]
    compiled = jit(f, background=False)
    compiled(*tensors)  # traces
    got = [t.numpy() for t in compiled(*tensors)]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
        assert np.array_equal(np.isnan(a), np.isnan(b))

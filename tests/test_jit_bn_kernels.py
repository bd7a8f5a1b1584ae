"""The hand-written fused-BatchNorm kernels (minigrad/jit/bn_kernels.py) and their use by mg.jit.

* the kernels against numpy float64 (minigrad.reference), float32 and float64, serial and
  in row blocks run by the prange launcher (private accumulators), at a large mean offset;
  the two-pass kernels (statistics + gradient sums, apply + dx) against the single ones;
* mg.jit of impl="fused" against eager fused: forward, gradients, running statistics,
  second order; the seed's ReLU example (x.grad exactly zero);
* the generated source calls the kernels for fused BN and not for composed BN, and a
  fresh process loads it from the disk cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, ops
from minigrad.jit import bn_kernels, jit
from minigrad.reference import closed_form_backward, seed_forward

EPS = 1e-5


def _kernel_run(x: np.ndarray, g: np.ndarray, w: np.ndarray, b: np.ndarray, threads: int,
                two_pass: bool = False) -> tuple[np.ndarray, ...]:
    """(stats, out, xhat, sums, dx) from the single kernels, or with ``two_pass`` from
    ``stats_grad_sums`` and ``apply_dx``; threads == 1 runs the ``*_serial`` twins, else the
    drivers (row blocks in the prange launcher for arrays of at least THREAD_MIN_ELEMENTS)."""
    k = {name: getattr(bn_kernels, name if threads > 1 else f"{name}_serial") for name in
         ("stats", "apply", "normalize", "grad_sums", "dx", "stats_grad_sums", "apply_dx")}
    if two_pass:
        st = np.empty((3, x.shape[1]), x.dtype)
        sums = k["stats_grad_sums"](x, g, EPS, st, threads)
        out = np.empty_like(x)
        dx = k["apply_dx"](x, st, w, b, g, sums, w, out, np.empty_like(x), threads)
    else:
        st = k["stats"](x, EPS, threads)
        out = k["apply"](x, st, w, b, np.empty_like(x), threads)
        sums = k["grad_sums"](g, x, st, threads)
        dx = k["dx"](g, x, st, sums, w, np.empty_like(x), threads)
    xhat = k["normalize"](x, st, np.empty_like(x), threads)
    return st, out, xhat, sums, dx


def _inputs(shape: tuple[int, int], dtype: type, offset: float = 0.0
            ) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(shape) * 2.0 + offset).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    w = rng.uniform(0.5, 1.5, shape[1]).astype(dtype)
    b = rng.standard_normal(shape[1]).astype(dtype)
    return x, g, w, b


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 3), (64, 256), (1024, 96)])
@pytest.mark.parametrize("threads", [1, 2])
def test_kernels_match_numpy_float64(dtype, shape, threads) -> None:
    """Statistics, forward, xhat, sum(g), sum(g xhat) and dx against the seed in float64."""
    x, g, w, b = _inputs(shape, dtype)
    st, out, xhat, sums, dx = _kernel_run(x, g, w, b, threads)
    x64, g64, w64, b64 = (a.astype(np.float64) for a in (x, g, w, b))
    ref_out, cache = seed_forward(x64, w64, b64, EPS)
    ref_dx, ref_dw, ref_db = closed_form_backward(g64, x64, w64, EPS)
    tol = 2e-6 if dtype == np.float32 else 1e-12
    assert st.dtype == dtype and out.dtype == dtype and dx.dtype == dtype
    for got, want in ((st[0], x64.mean(0)), (st[2], x64.var(0)), (st[1], cache[3]),
                      (out, ref_out), (xhat, cache[0]), (sums[0], ref_db),
                      (sums[1], ref_dw), (dx, ref_dx)):
        assert _rel(got, want) < tol


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("two_pass", [False, True])
def test_row_blocks_in_the_launcher_match_one_block(threads, two_pass) -> None:
    """An array past THREAD_MIN_ELEMENTS (odd row count: uneven blocks, remainder rows) in
    2 and 3 blocks: the same results as one block to rounding, and numpy float64. The
    blocks run one after the other while the launcher compiles in the background, then in
    parallel: the same numbers both ways."""
    rows = bn_kernels.THREAD_MIN_ELEMENTS // 64 + 5
    x, g, w, b = _inputs((rows, 64), np.float32, offset=3.0)
    first = _kernel_run(x, g, w, b, threads, two_pass)
    bn_kernels.finish_background_compiles()
    ready = {key[0] for key in bn_kernels._ready}
    assert {bn_kernels.STATS_SUMS, bn_kernels.APPLY_DX} <= ready if two_pass else (
        {bn_kernels.STATS, bn_kernels.GRAD_SUMS, bn_kernels.DX} <= ready)
    blocked = _kernel_run(x, g, w, b, threads, two_pass)
    assert bn_kernels._launch.signatures  # the launcher ran the blocks
    for got, want in zip(blocked, first, strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(blocked, _kernel_run(x, g, w, b, 1, two_pass), strict=True):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-5 * float(np.max(np.abs(want))))
    x64 = x.astype(np.float64)
    assert _rel(blocked[0][2], x64.var(0)) < 1e-5
    ref_dx, ref_dw, _ = closed_form_backward(g.astype(np.float64), x64, w.astype(np.float64),
                                             EPS)
    assert _rel(blocked[3][1], ref_dw) < 1e-5 and _rel(blocked[4], ref_dx) < 2e-5


class _Every(dict):
    """A dict holding every key (with ``value``): every pass compiling, or failed."""

    def __init__(self, value: object = None) -> None:
        super().__init__()
        self.value = value

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: object) -> object:
        return self.value


@pytest.mark.parametrize("two_pass", [False, True])
def test_blocks_run_in_turn_while_the_launcher_compiles(monkeypatch, two_pass) -> None:
    """While a launcher compiles in the background the drivers run the same row blocks
    themselves, one after the other: bitwise the parallel results, and no launch."""
    rows = bn_kernels.THREAD_MIN_ELEMENTS // 64 + 7
    x, g, w, b = _inputs((rows, 64), np.float32, offset=2.0)
    _kernel_run(x, g, w, b, 2, two_pass)
    bn_kernels.finish_background_compiles()
    parallel = _kernel_run(x, g, w, b, 2, two_pass)

    def no_launch(*args: object) -> None:
        raise AssertionError("launched although the launcher is still compiling")

    monkeypatch.setattr(bn_kernels, "_ready", {})
    monkeypatch.setattr(bn_kernels, "_compiling", _Every())
    monkeypatch.setattr(bn_kernels, "_launch", no_launch)
    for got, want in zip(_kernel_run(x, g, w, b, 2, two_pass), parallel, strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_launcher_that_failed_to_compile_is_an_error_naming_the_pass(monkeypatch) -> None:
    rows = bn_kernels.THREAD_MIN_ELEMENTS // 64 + 1
    x = _inputs((rows, 64), np.float64)[0]
    monkeypatch.setattr(bn_kernels, "_ready", {})
    monkeypatch.setattr(bn_kernels, "_failed", _Every(ValueError("no cfunc today")))
    with pytest.raises(RuntimeError, match="threaded BatchNorm pass 0 did not compile: no cfunc"):
        bn_kernels.stats(x, EPS, 2)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("two_pass", [False, True])
def test_float32_statistics_stay_accurate_at_a_large_offset(threads, two_pass) -> None:
    """x = 1e4 + noise in float32: the shifted one-pass sums keep xhat to ~1e-3."""
    x, g, w, b = _inputs((1024, 128), np.float32, offset=1e4)
    st, _, xhat, sums, dx = _kernel_run(x, g, w, b, threads, two_pass)
    x64 = x.astype(np.float64)
    xhat64 = (x64 - x64.mean(0)) / np.sqrt(x64.var(0) + EPS)
    assert _rel(st[2], x64.var(0)) < 1e-5  # var itself: no catastrophic cancellation
    assert np.max(np.abs(xhat - xhat64)) < 1e-3
    ref_dx, ref_dw, _ = closed_form_backward(g.astype(np.float64), x64,
                                             w.astype(np.float64), EPS)
    assert _rel(sums[1], ref_dw) < 1e-3 and _rel(dx, ref_dx) < 1e-3


def test_zero_variance_with_eps_zero_gives_inf_not_an_error() -> None:
    """error_model='numpy': 1/sqrt(0) is inf, as in eager."""
    x = np.ones((4, 2), np.float64)
    st = bn_kernels.stats_serial(x, 0.0, 1)
    assert np.all(np.isinf(st[1])) and np.all(st[2] == 0.0)


# ------------------------------------------------------------------ under mg.jit
def _step(layer: nn.Module, x: mg.Tensor, g: mg.Tensor) -> mg.Tensor:
    out = layer(x)
    out.backward(g)
    return out


def test_second_order_through_the_fused_node() -> None:
    """mg.grad(create_graph=True) of a fused BN, then backward of the gradient's norm."""
    rng = np.random.default_rng(2)
    xv, wv = rng.standard_normal((12, 4)), rng.uniform(0.5, 1.5, 4)
    cv = rng.standard_normal((12, 4))

    def f(x: mg.Tensor, w: mg.Tensor, c: mg.Tensor) -> mg.Tensor:
        out = nn.functional.batch_norm(x, None, None, w, None, training=True, impl="fused")
        (gx,) = mg.grad(ops.sum(ops.mul(ops.mul(out, out), c)), x, create_graph=True)
        ops.sum(ops.mul(gx, gx)).backward()
        return gx

    results = []
    for fn in (f, jit(f), jit(f)):
        for _ in range(2):
            x, w = mg.tensor(xv, requires_grad=True), mg.tensor(wv, requires_grad=True)
            gx = fn(x, w, mg.tensor(cv))
        results.append((gx.data, x.grad.data, w.grad.data))
    for got in results[1:]:
        for a, b in zip(got, results[0], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("impl", ["composed", "fused"])
def test_only_the_fused_graph_calls_the_kernels(impl) -> None:
    """Composed BatchNorm keeps the generic fusion."""
    layer = nn.BatchNorm1d(8, impl=impl, dtype=np.float32)
    compiled = jit(lambda x, g: _step(layer, x, g))
    xv = np.random.default_rng(0).standard_normal((32, 8)).astype(np.float32)
    for _ in range(2):
        compiled(mg.tensor(xv, requires_grad=True), mg.tensor(np.ones_like(xv)))
    assert ("bn_kernels" in compiled.source) == (impl == "fused")


def test_more_than_two_axes_keep_the_generic_lowering() -> None:
    """(N, C, H, W) input: the fused rows expand into generic reductions and loops."""
    layer = nn.BatchNorm2d(3, impl="fused", dtype=np.float64)
    compiled = jit(lambda x, g: _step(layer, x, g))
    xv = np.random.default_rng(0).standard_normal((4, 3, 2, 2))
    for _ in range(2):
        compiled(mg.tensor(xv, requires_grad=True), mg.tensor(np.ones_like(xv)))
    assert "bn_kernels" not in compiled.source


_CHILD = textwrap.dedent("""
    import numpy as np, minigrad as mg
    from minigrad import nn
    layer = nn.BatchNorm1d(4, impl="fused")
    def step(x, g):
        out = layer(x)
        out.backward(g)
        return out
    f = mg.jit(step)
    x = mg.tensor(np.arange(24, dtype=np.float32).reshape(6, 4), requires_grad=True)
    f(x, mg.tensor(np.ones((6, 4), np.float32)))
    f(x, mg.tensor(np.ones((6, 4), np.float32)))
    assert "bn_kernels" in f.source
    print(sum(f.last.kernel.stats.cache_hits.values()))
""")


_THREADED_MODULE = textwrap.dedent("""
    import numba
    from minigrad.jit import bn_kernels

    @numba.njit(cache=True)
    def kernel(x, g, w, b, out, T):
        st = bn_kernels.stats(x, 1e-5, T)
        sums = bn_kernels.grad_sums(g, x, st, T)
        bn_kernels.apply(x, st, w, b, out, T)
        return st, sums
""")
_THREADED_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    from minigrad.jit import bn_kernels
    import threaded_bn
    rows = bn_kernels.THREAD_MIN_ELEMENTS // 32 + 1
    x = np.linspace(-3.0, 5.0, rows * 32, dtype=np.float32).reshape(rows, 32)
    g, w, b = np.cos(x), np.ones(32, np.float32), np.zeros(32, np.float32)
    out = np.empty_like(x)
    st, sums = threaded_bn.kernel(x, g, w, b, out, 2)  # blocks in turn, launcher compiling
    bn_kernels.finish_background_compiles()
    first = (st.copy(), sums.copy(), out.copy())
    st, sums = threaded_bn.kernel(x, g, w, b, out, 2)  # through the launcher
    assert bn_kernels._launch.signatures
    for a, b in zip(first, (st, sums, out)):
        assert np.array_equal(a, b)
    print(sum(threaded_bn.kernel.stats.cache_hits.values()), repr(float(sums.sum())),
          repr(float(st.sum())), repr(float(out.sum())))
""")


def test_a_cached_kernel_runs_row_blocks_in_a_fresh_process(tmp_path) -> None:
    """Jitted code calling the drivers with T = 2 on a large array (the objmode hop to the
    launchers) compiles, is cached, and a fresh process loads it and gets the same numbers."""
    (tmp_path / "threaded_bn.py").write_text(_THREADED_MODULE)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path),
                                                       os.environ.get("PYTHONPATH")]))}
    runs = [subprocess.run([sys.executable, "-c", _THREADED_CHILD], env=env,
                           capture_output=True, text=True, check=True, timeout=300
                           ).stdout.split() for _ in range(2)]
    assert runs[0][0] == "0" and runs[1][0] == "1", runs
    assert runs[0][1:] == runs[1][1:]


def test_fused_kernel_graph_loads_from_the_disk_cache(tmp_path) -> None:
    """A fresh process loads the kernel (with the bn_kernels code linked in) from disk."""
    env = {**os.environ, "MINIGRAD_CACHE_DIR": str(tmp_path)}
    env.pop("MINIGRAD_DEBUG", None)
    runs = [subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                           text=True, check=True, timeout=180).stdout.split()
            for _ in range(2)]
    assert runs[0][0] == "0" and runs[1][0] == "1", runs



def _bn_grads(affine: bool) -> object:
    """out and its gradients wrt x (and w, b) for grad_outputs dout, fused BatchNorm."""
    def f(x: mg.Tensor, w: mg.Tensor, b: mg.Tensor, dout: mg.Tensor) -> tuple:
        weight, bias = (w, b) if affine else (None, None)
        out = nn.functional.batch_norm(x, None, None, weight, bias, training=True,
                                       impl="fused")
        return (out, *mg.grad(out, [x, w, b] if affine else [x], grad_outputs=dout))
    return f


@pytest.mark.parametrize("rows", [64, bn_kernels.THREAD_MIN_ELEMENTS // 8 + 3])
def test_forward_and_backward_take_two_passes_when_g_is_an_argument(rows) -> None:
    """grad(out, grad_outputs=dout) with dout and w arguments: statistics with the gradient
    sums, then out with dx (in row blocks on 2 threads for the large array); the same
    numbers as eager."""
    rng = np.random.default_rng(4)
    xv, gv = rng.standard_normal((rows, 8)) + 5.0, rng.standard_normal((rows, 8))
    wv, bv = rng.uniform(0.5, 1.5, 8), rng.standard_normal(8)
    f = _bn_grads(affine=True)
    compiled = jit(f)
    for _ in range(2):
        got = compiled(*(mg.tensor(v, requires_grad=k < 3) for k, v in
                         enumerate((xv, wv, bv, gv))))
    want = f(*(mg.tensor(v, requires_grad=k < 3) for k, v in enumerate((xv, wv, bv, gv))))
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-10,
                                   atol=1e-10 * float(np.max(np.abs(b.data))))
    source = compiled.source
    assert "bn_kernels.stats_grad_sums" in source and "bn_kernels.apply_dx" in source
    for single in ("stats", "grad_sums", "apply", "dx"):  # no pass of its own
        assert f"bn_kernels.{single}(" not in source
        assert f"bn_kernels.{single}_serial(" not in source


def test_without_a_weight_argument_dx_keeps_its_own_pass() -> None:
    """affine=False: dx's weight is not a kernel argument, so apply and dx stay apart (the
    gradient sums still join the statistics); results equal eager."""
    rng = np.random.default_rng(5)
    xv, gv = rng.standard_normal((32, 6)), rng.standard_normal((32, 6))
    ones, zeros = np.ones(6), np.zeros(6)
    f = _bn_grads(affine=False)
    compiled = jit(f)
    for _ in range(2):
        got = compiled(mg.tensor(xv, requires_grad=True), mg.tensor(ones), mg.tensor(zeros),
                       mg.tensor(gv))
    want = f(mg.tensor(xv, requires_grad=True), mg.tensor(ones), mg.tensor(zeros),
             mg.tensor(gv))
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-10, atol=1e-12)
    assert "bn_kernels.stats_grad_sums" in compiled.source


@pytest.mark.parametrize("threads", [1, 2])
def test_gradient_sums_in_the_statistics_pass_stay_accurate_at_a_large_offset(threads) -> None:
    """sum(g (x - mean)) from shifted sums, x = 1e4 + noise in float32 (first row far out):
    against numpy float64 on the same float32 inputs."""
    rows = bn_kernels.THREAD_MIN_ELEMENTS // 64 + 9 if threads > 1 else 1000
    x, g, w, _ = _inputs((rows, 64), np.float32, offset=1e4)
    x[0] += 40.0 * 2.0  # the shift row 40 standard deviations out
    run = bn_kernels.stats_grad_sums if threads > 1 else bn_kernels.stats_grad_sums_serial
    st = np.empty((3, 64), np.float32)
    sums = run(x, g, EPS, st, threads)
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    _, ref_dw, ref_db = closed_form_backward(g64, x64, w.astype(np.float64), EPS)
    assert _rel(sums[0], ref_db) < 1e-12
    assert _rel(sums[1], ref_dw) < 1e-6
    assert _rel(st[0], x64.mean(0)) < 1e-7

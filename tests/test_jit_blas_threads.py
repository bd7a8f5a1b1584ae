"""BLAS threads inside compiled kernels (minigrad/jit/blas.py): kernels whose products are
small run them on one BLAS thread and give the count back afterwards, exceptions
included; large products keep the library's count and the kernel's loops run on one Numba
thread; values are unchanged."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import minigrad as mg
from minigrad.jit import blas


def _counts() -> list[int]:
    return [lib.num_threads for lib in blas._controllers()]


def _matmul(n: int, k: int, m: int):
    rng = np.random.default_rng(0)
    return mg.tensor(rng.standard_normal((n, k))), mg.tensor(rng.standard_normal((k, m)))


def test_small_products_run_on_one_thread_and_the_count_comes_back(monkeypatch) -> None:
    a, b = _matmul(64, 64, 64)
    seen: list[list[int]] = []
    one_thread = blas.one_thread

    def spying() -> None:
        one_thread()
        seen.append(_counts())

    monkeypatch.setattr(blas, "one_thread", spying)
    f = mg.jit(lambda x, w: (x @ w).tanh())
    before = _counts()
    for _ in range(3):
        np.testing.assert_allclose(f(a, b).numpy(), np.tanh(a.numpy() @ b.numpy()),
                                   rtol=1e-13)
    assert f.last.one_blas_thread
    assert _counts() == before
    assert before, "scipy's BLAS not found (threadpoolctl is a runtime dependency)"
    assert seen and all(counts == [1] * len(before) for counts in seen)


def test_large_products_keep_the_library_count_and_the_loops_take_one_thread(
        monkeypatch) -> None:
    a, b = _matmul(256, 256, 256)  # 2^24 multiply-adds >= PARALLEL_MIN_MACS
    f = mg.jit(lambda x, w: x @ w)
    np.testing.assert_allclose(f(a, b).numpy(), a.numpy() @ b.numpy(), rtol=1e-12)
    assert not f.last.one_blas_thread and not f.last.parallel
    # a loop over 65,536 elements beside the large product: BLAS keeps its threads and
    # Numba's loops run on one (the two pools would share the cores), given back after
    seen: list[int] = []
    numba_one_thread = blas.numba_one_thread

    def spying() -> int:
        previous = numba_one_thread()
        seen.append(numba.get_num_threads())
        return previous

    monkeypatch.setattr(blas, "numba_one_thread", spying)
    before = numba.get_num_threads()
    h = mg.jit(lambda x, w: (x @ w).tanh())
    for _ in range(2):
        np.testing.assert_allclose(h(a, b).numpy(), np.tanh(a.numpy() @ b.numpy()),
                                   rtol=1e-12)
    assert h.last.parallel and not h.last.one_blas_thread and h.last.numba_one_thread
    assert seen and set(seen) == {1} and numba.get_num_threads() == before
    g = mg.jit(lambda x: x.tanh() * 2.0)  # no product at all
    g(a)
    assert not g.last.one_blas_thread and not g.last.numba_one_thread


def test_the_count_comes_back_when_the_kernel_raises() -> None:
    """A bounds check failing inside a small-product kernel still restores BLAS."""
    a, b = _matmul(8, 8, 8)
    f = mg.jit(lambda x, w, i: (x @ w)[i])
    index = mg.tensor(np.array([0, 3]))
    f(a, b, index)
    before = _counts()
    with pytest.raises(IndexError):
        f(a, b, mg.tensor(np.array([0, 99])))
    assert _counts() == before


def test_the_rule_counts_multiply_adds() -> None:
    from minigrad.jit.ir import Graph

    graph = Graph()
    x = graph.add("input", (128, 64), np.dtype(np.float64), (), slot=0)
    w = graph.add("input", (64, 64), np.dtype(np.float64), (), slot=1)
    graph.add("matmul", (128, 64), np.dtype(np.float64), (x, w))
    assert blas.largest_product(graph) == 128 * 64 * 64
    assert blas.wants_one_thread(graph)

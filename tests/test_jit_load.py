"""jit/load.py: compiled kernels run on one thread while other processes keep the cores
busy. The busy-elsewhere figure from fake /proc tick counts; the switch in a compiled call
(values equal eager, Numba's thread count given back); the environment switch."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import minigrad as mg
from minigrad.jit import blas, load


@pytest.fixture
def fresh_samples(monkeypatch):
    """load's sample state reset; returns a function feeding (machine, own) tick counts."""
    monkeypatch.setitem(load._last, "at", float("-inf"))
    monkeypatch.setitem(load._last, "machine", -1.0)
    monkeypatch.setitem(load._last, "own", -1.0)
    monkeypatch.setitem(load._last, "busy", 0.0)
    feed: list[tuple[float, float] | None] = []
    monkeypatch.setattr(load, "_ticks", lambda: feed.pop(0))
    return feed


def test_busy_elsewhere_is_machine_time_minus_own_time(fresh_samples) -> None:
    ticks = load._TICKS
    fresh_samples += [(1000.0, 100.0), (1000.0 + 1.5 * ticks, 100.0 + 0.5 * ticks),
                      (1000.0 + 2.0 * ticks, 100.0 + 1.5 * ticks)]
    assert load.busy_elsewhere(now=10.0) == 0.0  # the first sample: nothing to compare
    # 1 s later the machine spent 1.5 core-seconds, this process 0.5 of them: 1 core busy
    assert load.busy_elsewhere(now=11.0) == pytest.approx(1.0)
    assert load.busy_elsewhere(now=11.1) == pytest.approx(1.0)  # within INTERVAL: reused
    # the next second: 0.5 machine, 1.0 own (its own threads are never "elsewhere")
    assert load.busy_elsewhere(now=12.0) == 0.0


def test_without_proc_nothing_changes(fresh_samples) -> None:
    fresh_samples.append(None)
    assert load.busy_elsewhere(now=5.0) == 0.0
    assert load.busy_elsewhere(now=50.0) == 0.0  # never sampled again (the feed is empty)


def test_the_environment_switch(monkeypatch) -> None:
    monkeypatch.setattr(load, "busy_elsewhere", lambda: 2.0)
    monkeypatch.setenv("MINIGRAD_ADAPT_THREADS", "1")
    assert load.others_busy()
    monkeypatch.setenv("MINIGRAD_ADAPT_THREADS", "0")
    assert not load.others_busy()


def test_a_parallel_kernel_under_load_runs_on_one_thread_with_eager_values(monkeypatch):
    monkeypatch.setenv("MINIGRAD_ADAPT_THREADS", "1")
    monkeypatch.setattr(load, "busy_elsewhere", lambda: 1.5)
    seen: list[int] = []
    numba_one_thread = blas.numba_one_thread

    def spy() -> int:
        previous = numba_one_thread()
        seen.append(numba.get_num_threads())
        return previous

    monkeypatch.setattr(blas, "numba_one_thread", spy)
    before = numba.get_num_threads()
    x = mg.tensor(np.linspace(-2.0, 2.0, 64 * 1024).reshape(1024, 64))

    def f(t):
        return (t.tanh() * 3.0).sum(0)

    compiled = mg.jit(f, background=False)
    compiled(x)
    seen.clear()
    np.testing.assert_allclose(compiled(x).numpy(), f(x).numpy(), rtol=1e-10)  # sum order
    assert compiled.last is not None and compiled.last.adapt_threads
    assert seen == [1], "the call did not switch to one thread"
    assert numba.get_num_threads() == before

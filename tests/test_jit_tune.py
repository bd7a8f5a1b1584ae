"""jit/tune.py: each compiled kernel times its calls under the thread settings it may use
and keeps the fastest. The choice from fake call times (lowest median wins, the first call
is not a sample, a new comparison every RECHECK calls); what each setting sets (BLAS's and
Numba's threads, the kernel's thread count), checked with spies; a compiled MNIST-sized
step equal to eager in every setting, Numba's thread count given back."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import minigrad as mg
from minigrad.jit import blas, load, tune
from minigrad.jit.tune import LOOPS, ONE, RECHECK, SAMPLES, WIDE, CallThreads, ThreadTuner


def feed(tuner: ThreadTuner, seconds: dict[int, float], calls: int) -> list[int]:
    """Make ``calls`` calls, each taking ``seconds[setting]``; the settings picked."""
    picked = []
    for _ in range(calls):
        mode = tuner.pick()
        picked.append(mode)
        tuner.record(mode, seconds[mode])
    return picked


def test_the_setting_with_the_lowest_median_wins() -> None:
    tuner = ThreadTuner((WIDE, ONE, LOOPS))
    seconds = {WIDE: 4e-3, ONE: 3e-3, LOOPS: 5e-3}
    picked = feed(tuner, seconds, 3 * (SAMPLES + 1))
    # each setting in a block (one untimed call, then SAMPLES), the one in use last
    assert picked == [ONE] * (SAMPLES + 1) + [LOOPS] * (SAMPLES + 1) + [WIDE] * (SAMPLES + 1)
    assert tuner.best == ONE
    assert feed(tuner, seconds, 20) == [ONE] * 20


def test_the_first_call_of_a_block_is_not_a_sample() -> None:
    """A pool put to sleep by the other setting is slow on its first call back."""
    tuner = ThreadTuner((WIDE, ONE))
    times = iter([9.0] + [2e-3] * SAMPLES + [9.0] + [1e-3] * SAMPLES)  # ONE's block, WIDE's
    for _ in range(2 * (SAMPLES + 1)):
        tuner.record(tuner.pick(), next(times))
    assert tuner.best == WIDE


def test_one_slow_sample_does_not_decide() -> None:
    tuner = ThreadTuner((WIDE, ONE))
    times = iter([0.0, 5e-3] + [1e-3] * (SAMPLES - 1) + [0.0] + [2e-3] * SAMPLES)
    for _ in range(2 * (SAMPLES + 1)):  # ONE: one slow sample of five; WIDE: all 2 ms
        tuner.record(tuner.pick(), next(times))
    assert tuner.best == ONE


def test_the_comparison_is_made_again_every_recheck_calls() -> None:
    tuner = ThreadTuner((WIDE, ONE))
    feed(tuner, {WIDE: 1e-3, ONE: 2e-3}, 2 * (SAMPLES + 1))
    assert tuner.best == WIDE
    # the machine changes: WIDE gets slow; the tuner notices at the next comparison
    picked = feed(tuner, {WIDE: 5e-3, ONE: 2e-3}, RECHECK + 2 * (SAMPLES + 1))
    assert picked.count(ONE) >= SAMPLES + 1 and tuner.best == ONE


def test_one_setting_is_never_compared() -> None:
    tuner = ThreadTuner((WIDE,))
    assert feed(tuner, {WIDE: 1e-3}, 50) == [WIDE] * 50


def test_which_settings_a_kernel_may_use(monkeypatch) -> None:
    monkeypatch.setenv("MINIGRAD_ADAPT_THREADS", "1")
    assert tune.modes_for(numba_one_thread=True, parallel=True) == (WIDE, ONE, LOOPS)
    assert tune.modes_for(True, False) == (WIDE, ONE)
    assert tune.modes_for(False, True) == (WIDE,)  # Numba's loops keep the cores
    assert tune.modes_for(False, False) == (WIDE,)
    monkeypatch.setenv("MINIGRAD_ADAPT_THREADS", "0")
    assert tune.modes_for(True, True) == (WIDE,)


@pytest.fixture
def spies(monkeypatch):
    """Calls of the thread switches, as names; Numba's count is not really changed."""
    calls: list[str] = []
    monkeypatch.setattr(blas, "one_thread", lambda: calls.append("blas 1"))
    monkeypatch.setattr(blas, "restore", lambda: calls.append("blas back"))
    monkeypatch.setattr(blas, "numba_one_thread", lambda: calls.append("numba 1") or 7)
    monkeypatch.setattr(blas, "numba_restore", lambda n: calls.append(f"numba back {n}"))
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    monkeypatch.setattr(load, "others_busy", lambda: False)
    return calls


@pytest.mark.parametrize(("mode", "threads", "switched"), [
    (WIDE, 1, ["numba 1", "numba back 7"]),  # the rule for a large product: BLAS's threads
    (ONE, 1, ["blas 1", "numba 1", "numba back 7", "blas back"]),
    (LOOPS, 2, ["blas 1", "blas back"]),  # Numba's loops on the cores, BLAS on one
])
def test_what_each_setting_sets_for_a_large_product(spies, mode, threads, switched) -> None:
    call = CallThreads(one_blas_thread=False, numba_one_thread=True, parallel=True, adapt=True)
    call.tuner.queue = [(mode, True)]
    token = call.begin()
    assert token[0] == threads
    call.end(token, 1e-3)
    assert spies == switched


def test_a_busy_machine_means_one_thread_untimed(spies, monkeypatch) -> None:
    monkeypatch.setattr(load, "others_busy", lambda: True)
    call = CallThreads(one_blas_thread=True, numba_one_thread=False, parallel=True, adapt=True)
    for _ in range(3):
        token = call.begin()
        assert token[0] == 1
        call.end(token, 1e-3)
    assert spies == ["blas 1", "numba 1", "numba back 7", "blas back"] * 3
    assert call.tuner.calls == 0  # nothing recorded
    spies.clear()  # a serial kernel with small products: Numba's count is left alone
    call = CallThreads(one_blas_thread=True, numba_one_thread=False, parallel=False, adapt=True)
    token = call.begin()
    call.end(token, 1e-3)
    assert token[0] == 1 and spies == ["blas 1", "blas back"]
    spies.clear()  # parallel loops, no products: BLAS is left alone
    call = CallThreads(one_blas_thread=False, numba_one_thread=False, parallel=True, adapt=True)
    token = call.begin()
    call.end(token, 1e-3)
    assert token[0] == 1 and spies == ["numba 1", "numba back 7"]


def test_a_kernel_without_threads_of_its_own_sets_nothing(spies) -> None:
    call = CallThreads(one_blas_thread=False, numba_one_thread=False, parallel=False,
                       adapt=False)
    for _ in range(5):
        token = call.begin()
        assert token[0] == 1
        call.end(token, 1e-3)
    assert spies == [] and call.tuner.calls == 0


def test_a_compiled_step_equals_eager_in_every_setting(monkeypatch) -> None:
    """An MNIST-sized layer (products over 2^22 multiply-adds): BLAS takes the cores by
    rule; the tuner tries all three settings; each call equals eager."""
    monkeypatch.setenv("MINIGRAD_ADAPT_THREADS", "1")
    monkeypatch.setattr(load, "others_busy", lambda: False)
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((256, 784)))
    w = mg.tensor(rng.standard_normal((784, 256)) * 0.05, requires_grad=True)

    def step(x, w):
        loss = ((x @ w).tanh() * 2.0).mean()
        return loss, mg.grad(loss, [w])[0]

    compiled = mg.jit(step, background=False)
    before = numba.get_num_threads()
    want = [t.numpy() for t in step(x, w)]
    seen: set[int] = set()
    for _ in range(3 * (SAMPLES + 1) + 2):
        seen.add(compiled.last.threads.tuner.pick() if compiled.last else WIDE)
        got = [t.numpy() for t in compiled(x, w)]
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
        assert numba.get_num_threads() == before
    assert compiled.last is not None and compiled.last.numba_one_thread
    assert seen == {WIDE, ONE, LOOPS}
    assert compiled.stats()["threads"]["in use"] in ("default", "one thread",
                                                     "loops on the cores")

"""Values fn takes from outside minigrad while mg.jit traces: guarded or refused (issue 13).

A numpy array fn reaches (a global, a closure variable, an attribute, a class attribute)
enters the trace as a constant whatever way fn reads it (``x * W``, ``mg.tensor(W)``,
``W.sum()``, ``W[1:]``); a random draw from Python's ``random``, numpy's global generator
or a generator object, and a clock reading, enter it as numbers. Before this, each case
below returned the traced call's value on later calls (e.g. ``x * W`` after ``W[:] = 2``
still multiplied by 1). Arrays are now compared with a copy at every call (a change
retraces; arrays too big to compare are refused); draws and clocks are refused.
"""

from __future__ import annotations

import random
import time
import types
import uuid

import numpy as np
import pytest

import minigrad as mg
from minigrad.jit import NotCompilableError, guards

X = np.arange(3.0)
W_GLOBAL = np.ones(3)
BIG = np.ones(guards.MAX_ARRAY + 1)
RNG = np.random.default_rng(0)


class Holder:
    """A class attribute and a plain object's attribute holding arrays."""

    W = np.ones(3)


def _follows(fn, change) -> None:
    """``mg.jit(fn)`` equals eager before and after ``change()`` mutates what fn reads."""
    jitted = mg.jit(fn, background=False)
    x = mg.tensor(X)
    for _ in range(2):  # the trace, then the kernel
        np.testing.assert_array_equal(jitted(x).data, fn(x).data)
    change()
    for _ in range(2):
        np.testing.assert_array_equal(jitted(x).data, fn(x).data)


def _set(array, value):
    return lambda: array.__setitem__(slice(None), value)


def test_a_global_array_changed_in_place_is_followed() -> None:
    saved = W_GLOBAL.copy()
    try:
        _follows(lambda x: x * W_GLOBAL, _set(W_GLOBAL, 2.0))
    finally:
        W_GLOBAL[:] = saved


@pytest.mark.parametrize("use", ["mul", "mg.tensor", "sum", "view", "exp"])
def test_a_closure_array_read_any_way_is_followed(use) -> None:
    w = np.ones(3)
    fns = {
        "mul": lambda x: x * w,
        "mg.tensor": lambda x: x * mg.tensor(w),
        "sum": lambda x: x * w.sum(),
        "view": lambda x: x[1:] * w[1:],
        "exp": lambda x: x * np.exp(w),  # derived through numpy: a fresh array each call
    }
    _follows(fns[use], _set(w, 3.0))


def test_attributes_holding_arrays_are_followed() -> None:
    holder = Holder()
    holder.w = np.ones(3)
    _follows(lambda x: x * holder.w, _set(holder.w, 4.0))
    saved = Holder.W.copy()
    try:
        _follows(lambda x: x * Holder.W, _set(Holder.W, 5.0))
    finally:
        Holder.W[:] = saved


def test_a_rebound_array_and_bit_level_changes_are_followed() -> None:
    """A new array under the same name retraces; -0.0 for 0.0 and NaN for NaN compare by
    their bits (copysign tells -0.0 apart; NaN == NaN must not retrace forever)."""
    box = types.SimpleNamespace(w=np.zeros(3))
    _follows(lambda x: mg.copysign(x + 1.0, mg.tensor(box.w)), _set(box.w, -0.0))
    _follows(lambda x: x * box.w, lambda: setattr(box, "w", np.full(3, 6.0)))
    box.w = np.full(3, np.nan)
    jitted = mg.jit(lambda x: x + box.w, background=False)
    for _ in range(3):
        jitted(mg.tensor(X))
    assert jitted.stats()["traces"] == 1, jitted.stats()


def test_an_array_too_big_to_compare_is_refused() -> None:
    with pytest.raises(NotCompilableError, match=r"numpy array of shape \(65537,\).*BIG"):
        mg.jit(lambda x: x * float(BIG[0]), background=False)(mg.tensor(X))


DRAWS = {
    "random.random": lambda x: x * random.random(),
    "random.gauss": lambda x: x * random.gauss(0.0, 1.0),
    "np.random.rand": lambda x: x * float(np.random.rand()),
    "global Generator": lambda x: x * float(RNG.normal()),
    "time.time": lambda x: x * (time.time() % 7.0),
    "time.perf_counter": lambda x: x * time.perf_counter(),
    "uuid4": lambda x: x * float(uuid.uuid4().int % 5),
}


@pytest.mark.parametrize("name", list(DRAWS))
def test_draws_and_clocks_are_refused(name) -> None:
    with pytest.raises(NotCompilableError, match=r"tracing for mg\.jit"):
        mg.jit(DRAWS[name], background=False)(mg.tensor(X))
    DRAWS[name](mg.tensor(X))  # eager still runs


def test_a_generator_held_deeper_is_refused() -> None:
    """A generator three attributes down from what fn names (``cfg.noise.rng``)."""
    cfg = types.SimpleNamespace(noise=types.SimpleNamespace(
        rng=np.random.default_rng(1)))
    with pytest.raises(NotCompilableError, match="Generator"):
        mg.jit(lambda x: x * float(cfg.noise.rng.normal()), background=False)(mg.tensor(X))


def test_functions_without_outside_values_still_compile_once() -> None:
    """A literal array made in fn and mg.manual_seed's dropout are not refused."""
    jitted = mg.jit(lambda x: mg.nn.functional.dropout(x * np.array([1.0, 2.0, 3.0]), 0.5),
                    background=False)
    mg.manual_seed(3)
    for _ in range(3):
        jitted(mg.tensor(X))
    assert jitted.stats()["traces"] == 1


def test_clock_reads_of_gc_callbacks_are_not_fns() -> None:
    """A gc callback timing collections (hypothesis registers one) runs inside the trace
    when a collection happens there: its perf_counter is not fn's, so a trace with a
    collection compiles, and a clock fn reads after the collection is still refused (the
    callback's call used to switch the watch off)."""
    import gc

    def timed(phase, info):
        time.perf_counter()

    def collects(x):
        gc.collect()
        return x * 2.0

    def collects_then_reads_the_clock(x):
        gc.collect()
        return x * (time.time() % 3.0)

    gc.callbacks.append(timed)
    try:
        jitted = mg.jit(collects, background=False)
        for _ in range(2):
            np.testing.assert_array_equal(jitted(mg.tensor(X)).data, X * 2.0)
        with pytest.raises(NotCompilableError, match=r"time\.time"):
            mg.jit(collects_then_reads_the_clock, background=False)(mg.tensor(X))
    finally:
        gc.callbacks.remove(timed)


def test_an_eager_op_compiling_its_numba_helper_while_traced_is_not_a_clock_read(
        tmp_path) -> None:
    """A float32 sum over the leading axes of >= 2**18 elements runs minigrad's Numba
    helper (``_wide_sum``), dispatched on its first use in a process; Numba's compile events
    read time.perf_counter from inside Numba, under minigrad's frame, not fn's. In a fresh
    process whose first such sum came inside a trace, mg.jit refused every program with a
    large float32 broadcast gradient ('fn called time.perf_counter'). Checked in a child
    process (here the helper may have run already), against eager's sums."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    program = (
        "import numpy as np, minigrad as mg\n"
        "rng = np.random.default_rng(0)\n"
        "x = mg.tensor(rng.standard_normal((1024, 256)).astype(np.float32))\n"
        "w = mg.tensor(np.ones(256, np.float32), requires_grad=True)\n"
        "f = mg.jit(lambda x, w: mg.grad((x * w).sum(), [w])[0], background=False)\n"
        "got = [f(x, w).data for _ in range(2)]\n"
        "print(f.stats()['compiles'])\n"
        "np.save('got.npy', np.stack(got))\n")
    root = str(Path(mg.__file__).resolve().parent.parent)
    result = subprocess.run([sys.executable, "-c", program], check=False, cwd=tmp_path,
                            capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHONPATH": root,
                                 "MINIGRAD_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["1"]  # compiled, not refused
    x = np.random.default_rng(0).standard_normal((1024, 256)).astype(np.float32)
    for got in np.load(tmp_path / "got.npy"):  # the trace's (eager) and the kernel's
        np.testing.assert_allclose(got, x.sum(0, dtype=np.float64), rtol=1e-5, atol=1e-4)

"""mg.jit at run time (issue 13): argument arrays in any layout and byte order, concurrent
first calls and state restored after a failed trace, entries freed with their function, an
unusable cache directory, ``stats()`` and the retrace warning, the runtime dependencies,
and numbers the trace read. Each case compares with eager, as in test_jit_guards.py (whose
helpers it uses).
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import threading
import warnings
import weakref
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import _state, nn, optim
from minigrad._state import STATE
from minigrad.jit import NotCompilableError, jit

from .test_jit_guards import _close, _rand, _twin_steps_agree

ROOT = Path(mg.__file__).resolve().parents[1]  # the minigrad under test (its pyproject)

# ------------------------------------------------------------------ argument arrays
@pytest.mark.parametrize("layout", ["big-endian", "strided", "fortran", "reversed"])
def test_argument_arrays_in_any_layout_or_byte_order(layout: str) -> None:
    base = _rand(4, 6)
    arrays = {"big-endian": base.astype(">f8"), "strided": base[:, ::2],
              "fortran": np.asfortranarray(base), "reversed": base[::-1]}
    x = arrays[layout]
    f = jit(lambda t: (t * 2.0).sum(axis=0) + t[0])
    for _ in range(2):
        expected = (mg.Tensor(x) * 2.0).sum(axis=0) + mg.Tensor(x)[0]
        _close(f(mg.Tensor(x)), expected)


def test_a_big_endian_parameter_trains_like_eager() -> None:
    def build():
        w = nn.Parameter(_rand(3).astype(">f8"))
        opt = optim.SGD([w], lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = (x * w).sum() ** 2
            loss.backward()
            opt.step()
            return loss

        return step, w

    _twin_steps_agree(build, [(mg.Tensor(_rand(3, seed=seed)),) for seed in range(3)])


# ------------------------------------------------------------------- threads and state
def test_concurrent_first_calls_are_correct_and_leave_the_generator_alone() -> None:
    rng_before = _state.rng
    f = jit(lambda x: (x * 3.0).tanh().sum(axis=1))
    inputs = [_rand(6, 5, seed=k) for k in range(4)]
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def call(k: int) -> None:
        try:
            barrier.wait()
            results[k] = f(mg.Tensor(inputs[k])).data
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=call, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for k, x in enumerate(inputs):
        _close(results[k], np.tanh(3 * x).sum(axis=1))
    assert _state.rng is rng_before
    mg.manual_seed(11)
    np.testing.assert_array_equal(_state.rng().random(2), np.random.default_rng(11).random(2))
    assert f.trace_count == 1


def test_state_is_restored_when_tracing_fails() -> None:
    stack = STATE.module_stack

    def bad(x):
        with mg.no_grad():
            y = x * 2.0
            return y.sum().item()

    f = jit(bad)
    with pytest.raises(NotCompilableError):
        f(mg.Tensor(_rand(3)))
    assert STATE.grad_enabled
    assert not STATE.node_hooks and not STATE.assign_hooks and not STATE.grad_hooks
    assert not STATE.read_hooks and STATE.recording == 0
    assert STATE.rng_guard is None and STATE.uniform_recorder is None
    assert STATE.module_stack is stack and not stack
    mg.manual_seed(2)
    np.testing.assert_array_equal(_state.rng().random(2), np.random.default_rng(2).random(2))


def test_a_jitted_function_called_while_tracing_runs_eagerly_inside_the_trace() -> None:
    inner = jit(lambda x: x * 2.0)
    outer = jit(lambda x: inner(x) + 1.0)
    inner(mg.Tensor(_rand(3)))  # compiled on its own first
    for seed in range(3):
        x = _rand(3, seed=seed)
        _close(outer(mg.Tensor(x)), 2 * x + 1)


# ------------------------------------------------------------------- lifetime, memory
def test_entries_are_freed_with_their_function() -> None:
    model = nn.Linear(3, 2)
    f = jit(lambda x: model(x) * 1.0)
    f(mg.Tensor(_rand(4, 3)))
    f(mg.Tensor(_rand(4, 3)))
    entry = weakref.ref(f.last)
    function = weakref.ref(f)
    gc.disable()  # freed by reference counting: no cycle through the entry
    try:
        del f
        assert function() is None and entry() is None
    finally:
        gc.enable()


def test_an_entry_keeps_no_tracing_values() -> None:
    """After the first (traced) call of a BatchNorm training step, only the caller's
    tensors and the parameters hold data-sized arrays: no traced value, no index map."""
    x_data = _rand(512, 16).astype(np.float32)
    dout = mg.Tensor(_rand(512, 16, seed=1).astype(np.float32))
    bn = nn.BatchNorm1d(16)

    def step(x, g):
        out = bn(x)
        dx, = mg.grad(out, [x], grad_outputs=g)
        return out, dx

    f = jit(step)
    x = mg.Tensor(x_data, requires_grad=True)
    result = f(x, dout)
    del result
    gc.collect()
    kept = [t for t in gc.get_objects()
            if issubclass(type(t), mg.Tensor) and t.numel() >= x_data.size
            and t is not x and t is not dout]
    assert kept == []
    constants = f.last.constants
    assert all(c.base is None and c.nbytes < x_data.nbytes for c in constants)


# --------------------------------------------------------------------- cache directory
def test_an_unusable_cache_directory_warns_and_compiles_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    script = textwrap.dedent("""
        import warnings
        import numpy as np
        import minigrad as mg
        from minigrad.jit import jit
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            f = jit(lambda x: x * 2.0 + 1.0)
            x = np.arange(6.0).reshape(2, 3)
            for _ in range(2):
                assert np.allclose(f(mg.Tensor(x)).data, 2 * x + 1)
        print("WARN", [str(w.message) for w in caught])
    """)
    env = dict(os.environ, MINIGRAD_CACHE_DIR=str(blocker / "jit"))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert "MINIGRAD_CACHE_DIR" in done.stdout and str(blocker / "jit") in done.stdout
    assert "Traceback" not in done.stderr


# ----------------------------------------------------------------- stats and debugging
def test_stats_count_calls_traces_and_guard_failures(capsys) -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    f = jit(lambda x: model(x) * 1.0)
    x = mg.Tensor(_rand(2, 3))
    f(x)
    f(x)
    model[1].training = False
    os.environ["MINIGRAD_DEBUG"] = "1"
    try:
        f(x)
    finally:
        del os.environ["MINIGRAD_DEBUG"]
    assert "tracing (guard failed: Dropout.training changed" in capsys.readouterr().err
    stats = f.stats()
    assert stats["calls"] == 3 and stats["traces"] == 2 and stats["compiles"] == 2
    assert stats["guard_failures"] == {"training": 1} and stats["cache_entries"] == 2


def test_retracing_again_and_again_warns_once() -> None:
    scope: dict = {"W": mg.Tensor(_rand(2))}
    exec("def f(x):\n    return x * W\n", scope)
    f = jit(scope["f"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(11):
            scope["W"] = mg.Tensor(_rand(2, seed=k))
            _close(f(mg.Tensor(np.ones(2))), scope["W"])
    messages = [str(w.message) for w in caught if "traced" in str(w.message)]
    assert len(messages) == 1 and "stats()" in messages[0]
    assert f.stats()["cache_entries"] <= 8


# ------------------------------------------------------------------ runtime dependency
def test_scipy_is_a_declared_runtime_dependency() -> None:
    """Numba's np.dot (every jitted matmul) needs scipy."""
    text = (ROOT / "pyproject.toml").read_text()
    dependencies = text.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert '"scipy>=' in dependencies


# ------------------------------------------------ numbers the trace read (session 10)
class _Holder:
    pass


class _Settings:
    k = 2.0


def _deep(value):
    top = node = _Holder()
    for _ in range(5):
        node.next = _Holder()
        node = node.next
    node.scale = value
    return top, node


@pytest.mark.parametrize("case", ["numpy scalar attribute", "class attribute",
                                  "attribute 6 edges away", "int becomes float"])
def test_a_number_the_trace_read_is_guarded(case) -> None:
    """Each change below returned the first call's answer from the compiled code: numpy's
    scalar types were not guarded as numbers, a class's attributes not at all, a plain
    object's only within 3 edges (guards.NEAR), and 2 -> 2.0 compared equal though it
    changes an integer result's dtype. The changed call must retrace and equal eager."""
    holder, numbers, (top, last) = _Holder(), _Holder(), _deep(2.0)
    numbers.s = np.float64(2.0)  # its only attribute: no Python number beside it
    fns = {"numpy scalar attribute": (lambda x: x * numbers.s,
                                      lambda: setattr(numbers, "s", np.float64(3.0))),
           "class attribute": (lambda x: x * _Settings.k, lambda: setattr(_Settings, "k", 5.0)),
           "attribute 6 edges away": (lambda x: x * top.next.next.next.next.next.scale,
                                      lambda: setattr(last, "scale", 4.0)),
           "int becomes float": (lambda x: x * holder.n, lambda: setattr(holder, "n", 2.0))}
    holder.n = 2
    fn, change = fns[case]
    x = mg.tensor(np.arange(3)) if case == "int becomes float" else mg.tensor(np.arange(3.0))
    compiled = jit(fn)
    compiled(x), compiled(x)  # the trace, the kernel
    try:
        change()
        want, got = fn(x), compiled(x)
        assert got.dtype == want.dtype and np.array_equal(got.data, want.data), (got, want)
        assert compiled.stats()["traces"] == 2
    finally:
        _Settings.k = 2.0

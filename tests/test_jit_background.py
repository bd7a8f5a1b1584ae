"""mg.jit's background compile: the first call returns after the trace, calls made while
Numba compiles run eagerly (same values as eager), the compiled entry takes over once it
is ready, and a compile error reaches the next call."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.jit import api
from minigrad.jit.ir import NotCompilableError


def _trainer(seed: int = 4):
    mg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Tanh(),
                          nn.Linear(8, 1)).double()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    return model, step


def _batch(k: int):
    rng = np.random.default_rng(k)
    return mg.tensor(rng.standard_normal((5, 3))), mg.tensor(rng.standard_normal((5, 1)))


def _slow_compile(monkeypatch, seconds: float) -> threading.Event:
    """Make the Numba compile wait ``seconds`` (or until the returned event is set)."""
    release = threading.Event()
    compile_kernel = api.compile_kernel

    def slow(source, signature):
        release.wait(seconds)
        return compile_kernel(source, signature)

    monkeypatch.setattr(api, "compile_kernel", slow)
    return release


def test_calls_while_compiling_run_eagerly_then_the_kernel_takes_over(monkeypatch) -> None:
    release = _slow_compile(monkeypatch, 30.0)
    eager_model, eager_step = _trainer()
    model, step = _trainer()
    compiled = mg.jit(step, background=True)
    losses = []
    for k in range(3):  # the compile waits: every call runs eagerly
        x, y = _batch(k)
        losses.append((compiled(x, y).item(), eager_step(x, y).item()))
    assert compiled.stats()["compiles"] == 0 and compiled.stats()["traces"] == 1
    release.set()
    compiled.wait()
    assert compiled.stats()["compiles"] == 1 and compiled.last is not None
    for k in range(3, 6):  # now the kernel
        x, y = _batch(k)
        losses.append((compiled(x, y).item(), eager_step(x, y).item()))
    assert compiled.stats()["traces"] == 1  # no retrace: the entry's guards held
    ours, theirs = np.array(losses).T
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    for p, q in zip(model.parameters(), eager_model.parameters(), strict=True):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-10, atol=1e-12)


def test_a_background_compile_error_reaches_the_next_call(monkeypatch) -> None:
    def failing(source, signature):
        raise NotCompilableError("mg.jit: Numba could not compile (test)")

    monkeypatch.setattr(api, "compile_kernel", failing)
    f = mg.jit(lambda x: x.tanh() * 3.0, background=True)
    x = mg.tensor([0.5, 1.0])
    np.testing.assert_allclose(f(x).numpy(), np.tanh([0.5, 1.0]) * 3.0)
    f.wait()
    with pytest.raises(NotCompilableError, match="could not compile"):
        f(x)


def test_threads_calling_while_it_compiles_get_eager_values(monkeypatch) -> None:
    release = _slow_compile(monkeypatch, 30.0)
    f = mg.jit(lambda x: (x * 2.0).exp().sum(), background=True)
    x = mg.tensor(np.linspace(0, 1, 7))
    expected = np.exp(2 * np.linspace(0, 1, 7)).sum()
    f(x)
    got: list[float] = []
    threads = [threading.Thread(target=lambda: got.append(f(x).item())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    release.set()
    f.wait()
    got.append(f(x).item())
    np.testing.assert_allclose(got, [expected] * 5, rtol=1e-13)
    assert f.stats()["traces"] == 1 and f.stats()["compiles"] == 1


def test_the_environment_switch(monkeypatch) -> None:
    """MINIGRAD_JIT_BACKGROUND=0 compiles before the first call returns; unset, the first
    call returns before the compile is done."""
    _slow_compile(monkeypatch, 0.5)
    monkeypatch.setenv("MINIGRAD_JIT_BACKGROUND", "0")
    f = mg.jit(lambda x: x.sin() + 1.0)
    f(mg.tensor([1.0]))
    assert f.stats()["compiles"] == 1
    monkeypatch.delenv("MINIGRAD_JIT_BACKGROUND")
    g = mg.jit(lambda x: x.cos() + 1.0)
    g(mg.tensor([1.0]))
    assert g.stats()["compiles"] == 0  # returned while the (0.5 s) compile still runs
    g.wait()
    assert g.stats()["compiles"] == 1


def _fresh_graph(scale: float):
    """A small function whose generated source is new to the cache (``scale`` differs)."""
    return lambda x: ((x.tanh() * scale).exp() - x).sum()


def test_a_child_process_compiles_and_the_caller_loads_the_machine_code(monkeypatch,
                                                                       tmp_path) -> None:
    """worker.py: the kernel is compiled by a child into the disk cache; the caller's
    Numba dispatcher then loads it from there (a cache hit, no compile of its own)."""
    monkeypatch.setenv("MINIGRAD_CACHE_DIR", str(tmp_path))
    fn = _fresh_graph(1.25)
    x = mg.tensor(np.linspace(-1.0, 1.0, 12).reshape(3, 4))
    compiled = mg.jit(fn, background=True)
    first = compiled(x)
    compiled.wait()
    entry = compiled.last
    assert entry is not None and entry.compiled_in_child
    assert entry.kernel.stats.cache_hits, "the caller compiled instead of loading"
    np.testing.assert_allclose(compiled(x).numpy(), fn(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(first.numpy(), fn(x).numpy(), rtol=1e-6)
    assert compiled.stats()["traces"] == 1


def test_when_the_child_cannot_compile_the_caller_compiles(monkeypatch, tmp_path) -> None:
    """A child that fails (here: no Python to run) is no error: the caller compiles in
    its own process, as without a child; an unusable cache directory likewise."""
    from minigrad.jit import worker

    monkeypatch.setenv("MINIGRAD_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(worker.sys, "executable", "/bin/false")
    fn = _fresh_graph(1.5)
    x = mg.tensor(np.linspace(-1.0, 1.0, 12).reshape(3, 4))
    compiled = mg.jit(fn, background=True)
    compiled(x)
    compiled.wait()
    assert compiled.last is not None and not compiled.last.compiled_in_child
    np.testing.assert_allclose(compiled(x).numpy(), fn(x).numpy(), rtol=1e-6)
    blocked = tmp_path / "a file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("MINIGRAD_CACHE_DIR", str(blocked))
    assert worker.compile_in_child("x = 1\n", ()) is False

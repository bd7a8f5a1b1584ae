"""A training step that clears its own gradients (``opt.zero_grad()`` or
``model.zero_grad()``) is traced and compiled once: the ``.grad is None`` guard of the
first trace is needed only when the step accumulates into gradients it does not clear."""

from __future__ import annotations

import time

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim


def _model(seed: int) -> nn.Module:
    mg.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 2)).double()


def _pair(clear: str):
    """Two identical models and SGD steps: one to run eagerly, one to jit."""
    made = []
    for _ in range(2):
        model = _model(3)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y, model=model, opt=opt):
            if clear == "optimizer":
                opt.zero_grad()
            elif clear == "module":
                model.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        made.append((model, step))
    return made


def _data(k: int):
    rng = np.random.default_rng(k)
    return mg.tensor(rng.standard_normal((6, 3))), mg.tensor(rng.standard_normal((6, 2)))


@pytest.mark.parametrize("clear", ["optimizer", "module"])
def test_a_step_that_clears_its_gradients_is_traced_once(clear: str) -> None:
    (eager_model, eager_step), (model, step) = _pair(clear)
    compiled = mg.jit(step)
    for k in range(4):
        x, y = _data(k)
        np.testing.assert_allclose(compiled(x, y).numpy(), eager_step(x, y).numpy(),
                                   rtol=1e-10, atol=1e-12)
    assert compiled.stats()["traces"] == 1 and compiled.stats()["compiles"] == 1
    for p, q in zip(model.parameters(), eager_model.parameters(), strict=True):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_a_step_that_accumulates_keeps_the_guard() -> None:
    """Without zero_grad the second call adds to the first call's gradients: the first
    trace (which stored into None) must not run then; the retrace accumulates, as eager."""
    (eager_model, eager_step), (model, step) = _pair("none")
    compiled = mg.jit(step)
    for k in range(3):
        x, y = _data(k)
        np.testing.assert_allclose(compiled(x, y).numpy(), eager_step(x, y).numpy(),
                                   rtol=1e-10, atol=1e-12)
    assert compiled.stats()["traces"] == 2
    for p, q in zip(model.parameters(), eager_model.parameters(), strict=True):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_a_cleared_gradient_that_is_not_stored_again_is_cleared_at_every_call() -> None:
    """zero_grad clears a parameter the loss does not use: a .grad set between calls is
    cleared by the compiled step too."""
    used, unused = mg.tensor([1.0, 2.0], requires_grad=True), mg.tensor([3.0],
                                                                         requires_grad=True)
    opt = optim.SGD([used, unused], lr=0.5)

    def step(x):
        opt.zero_grad()
        loss = (used * x).sum()
        loss.backward()
        opt.step()
        return loss

    compiled = mg.jit(step)
    compiled(mg.tensor([1.0, 1.0]))
    unused.grad = mg.tensor([7.0])
    compiled(mg.tensor([1.0, 1.0]))
    assert unused.grad is None
    np.testing.assert_allclose(used.grad.numpy(), [1.0, 1.0])
    np.testing.assert_allclose(used.numpy(), [0.0, 1.0])
    assert compiled.stats()["traces"] == 1


def test_a_slow_compile_says_so_on_stderr(monkeypatch, capsys) -> None:
    """A compile over SLOW_SECONDS prints what compiles and, at its end, how long it took;
    MINIGRAD_QUIET=1 silences it."""
    from minigrad.jit import entry, progress

    monkeypatch.delenv("MINIGRAD_QUIET", raising=False)
    monkeypatch.setattr(progress, "SLOW_SECONDS", 0.05)
    compile_kernel = entry.compile_kernel

    def slow(source, signature):
        time.sleep(0.3)
        return compile_kernel(source, signature)

    monkeypatch.setattr("minigrad.jit.api.compile_kernel", slow)

    def shifted_tanh(x):
        return (x * 0.5).tanh() + 1.0

    mg.jit(shifted_tanh)(mg.tensor([1.0, 2.0]))
    err = capsys.readouterr().err
    assert "mg.jit: compiling " in err and "shifted_tanh (" in err and "generated lines" in err
    assert "mg.jit: compiled " in err and " s\n" in err
    monkeypatch.setenv("MINIGRAD_QUIET", "1")
    mg.jit(shifted_tanh)(mg.tensor([1.0, 2.0, 3.0]))
    assert capsys.readouterr().err == ""

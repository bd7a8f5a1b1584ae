"""The losses under mg.jit equal eager mode, with targets that change between calls: the
ignore_index mask and the picked class weights are computed from each call's targets,
never baked into the compiled code. Two compilations in all (each costs seconds)."""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad import nn, optim
from minigrad.jit import jit
from minigrad.nn import functional as F

# Targets per call: the first call ignores nothing; later calls ignore other positions.
IGNORED = 2
CLASS_TARGETS = [
    np.array([0, 1, 3, 1, 0, 3]),
    np.array([2, 1, 3, 2, 0, 3]),
    np.array([2, 2, 2, 2, 2, 1]),
    np.array([3, 0, 2, 1, 1, 0]),
]


def _run_training(use_jit: bool) -> tuple[list[float], list[np.ndarray], object]:
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8, dtype=np.float64), nn.Tanh(),
                          nn.Linear(8, 4, dtype=np.float64))
    opt = optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.CrossEntropyLoss(weight=np.array([0.5, 1.0, 2.0, 1.5]),
                                  ignore_index=IGNORED, label_smoothing=0.1)

    def step(x: mg.Tensor, y: mg.Tensor) -> mg.Tensor:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for param in model.parameters():  # as after a first step: one trace, not two
        param.grad = mg.tensor(np.zeros_like(param.data))
    fn = jit(step) if use_jit else step
    rng = np.random.default_rng(1)
    losses = []
    for targets in CLASS_TARGETS:
        x = rng.standard_normal((6, 3))
        losses.append(float(fn(mg.tensor(x), mg.tensor(targets)).data))
    return losses, [p.data.copy() for p in model.parameters()], fn


def test_jitted_training_step_with_cross_entropy_options_equals_eager() -> None:
    eager_losses, eager_params, _ = _run_training(use_jit=False)
    jit_losses, jit_params, compiled = _run_training(use_jit=True)
    np.testing.assert_allclose(jit_losses, eager_losses, rtol=1e-12)
    for a, b in zip(jit_params, eager_params, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert compiled.trace_count == 1  # new targets are new inputs, not a new trace
    # the third call's targets were all ignored but one: its loss is that one's alone
    assert eager_losses[2] != eager_losses[1]


def test_jitted_nd_and_probability_cross_entropy_equal_eager() -> None:
    """(N, C, d1, d2) logits with class targets (ignore_index, weights) and probability
    targets, forward and backward, compiled once and called with changing targets."""
    rng = np.random.default_rng(2)
    start = rng.standard_normal((2, 3, 2, 2))
    weight = mg.tensor([0.3, 1.0, 2.0])
    calls = [(rng.integers(-1, 3, (2, 2, 2)),
              np.moveaxis(rng.dirichlet(np.ones(3), size=(2, 2, 2)), -1, 1).copy())
             for _ in range(3)]
    calls[0][0][...] = np.abs(calls[0][0])  # nothing ignored at the first call
    results = []
    for use_jit in (False, True):
        logits = mg.tensor(start.copy(), requires_grad=True)
        logits.grad = mg.tensor(np.zeros_like(start))  # one trace (.grad set at every call)

        def loss_of(targets: mg.Tensor, probs: mg.Tensor, logits=logits) -> mg.Tensor:
            loss = (F.cross_entropy(logits, targets, weight=weight, ignore_index=-1,
                                    label_smoothing=0.2)
                    + F.cross_entropy(logits, probs, reduction="sum"))
            loss.backward()
            return loss

        fn = jit(loss_of) if use_jit else loss_of
        values = [float(fn(mg.tensor(t), mg.tensor(p)).data) for t, p in calls]
        results.append((values, logits.grad.numpy().copy()))
        if use_jit:
            assert fn.trace_count == 1
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12, atol=1e-14)

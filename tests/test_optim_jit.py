"""A jitted training step under every scheduler, and with learning rates or momenta set by
hand, equals the eager step (1e-12, float64) and does not retrace per step: the numbers a
schedule changes live in tensors the compiled step reads at call time (optim/_groups.py).
Few compilations: each optimizer's step compiles to the same source, cached on disk."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.optim import lr_scheduler

pytest.importorskip("numba")

STEPS = 6
SCHEDULES = {
    "step": ("SGD", lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5)),
    "multistep": ("SGD", lambda o: lr_scheduler.MultiStepLR(o, milestones=[1, 3], gamma=0.3)),
    "exponential": ("SGD", lambda o: lr_scheduler.ExponentialLR(o, gamma=0.8)),
    "cosine": ("SGD", lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.01)),
    "linear": ("SGD", lambda o: lr_scheduler.LinearLR(o, start_factor=0.2, total_iters=4)),
    "onecycle_sgd": ("SGD", lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.5,
                                                              total_steps=STEPS)),
    "onecycle_adam": ("Adam", lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.3,
                                                                total_steps=STEPS)),
    # lr reaches exactly 0 at epochs 2 and 6: no retrace for that either
    "cosine_to_zero_rmsprop": ("RMSprop", lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=2)),
    "warm_restarts": ("SGD", lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2)),
    "sequential": ("SGD", lambda o: lr_scheduler.SequentialLR(
        o, [lr_scheduler.ConstantLR(o, factor=0.5, total_iters=2),
            lr_scheduler.ExponentialLR(o, gamma=0.7)], milestones=[3])),
    "plateau": ("SGD", lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=0, factor=0.5,
                                                                threshold=0.5)),
}
OPTIONS = {"SGD": {"lr": 0.1, "momentum": 0.9}, "Adam": {"lr": 0.1},
           "RMSprop": {"lr": 0.01, "momentum": 0.5, "centered": True}}


def _setup(kind: str, set_to_none: bool = True):
    rng = np.random.default_rng(3)
    w = mg.nn.Parameter(rng.standard_normal((2, 3)))
    b = mg.nn.Parameter(rng.standard_normal(2))
    opt = getattr(optim, kind)([{"params": [w]}, {"params": [b]}], **OPTIONS[kind])

    def step(x: mg.Tensor, y: mg.Tensor) -> mg.Tensor:
        opt.zero_grad(set_to_none=set_to_none)
        r = mg.tanh(x @ w.T + b) - y
        loss = (r * r).mean()
        loss.backward()
        opt.step()
        return loss

    return [w, b], opt, step


def _data():
    rng = np.random.default_rng(4)
    return mg.tensor(rng.standard_normal((8, 3))), mg.tensor(rng.standard_normal((8, 2)))


def _train(kind: str, schedule, use_jit: bool):
    params, opt, step = _setup(kind)
    scheduler = schedule(opt)
    fn = mg.jit(step) if use_jit else step
    x, y = _data()
    lrs = []
    for _ in range(STEPS):
        loss = fn(x, y)
        lrs.append(opt.param_groups[0]["lr"])
        if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
            scheduler.step(float(loss.data))
        elif scheduler.last_epoch < STEPS:
            scheduler.step()
    return [p.numpy().copy() for p in params], lrs, fn


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_jitted_step_follows_each_scheduler_without_retracing(name):
    kind, schedule = SCHEDULES[name]
    eager, eager_lrs, _ = _train(kind, schedule, use_jit=False)
    compiled, lrs, fn = _train(kind, schedule, use_jit=True)
    assert lrs == eager_lrs and len(set(lrs)) >= 2  # the lr really changed between calls
    for ours, theirs in zip(compiled, eager, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    stats = fn.stats()
    # the step clears its gradients (zero_grad): call 1 (no gradients yet) and call 2
    # (gradients from call 1) run the same trace
    assert stats["calls"] == STEPS and stats["traces"] == 1, stats


def test_hand_written_lr_and_option_changes_reach_the_jitted_step():
    """``for g in opt.param_groups: g['lr'] = ...`` every step: no retrace; momentum
    turned off (the step's structure changes) and a new weight_decay: one retrace each."""
    runs = []
    for use_jit in (False, True):
        params, opt, step = _setup("SGD")
        fn = mg.jit(step) if use_jit else step
        x, y = _data()
        for k in range(8):
            for group in opt.param_groups:
                group["lr"] = 0.05 * (k + 1)
            if k == 5:
                opt.param_groups[1]["momentum"] = 0.0
            if k == 6:
                opt.param_groups[0]["weight_decay"] = 0.1
            fn(x, y)
        runs.append([p.numpy().copy() for p in params])
    for ours, theirs in zip(runs[1], runs[0], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    stats = fn.stats()
    assert stats["traces"] == 3 and stats["guard_failures"].get("value") == 2, stats


class _Trainer:
    """A jitted method whose ``self`` reaches the scheduler: its counters change every
    step, and would retrace every step if the guards saw them (schedulers use slots)."""

    def __init__(self) -> None:
        self.params, self.opt, self.step = _setup("SGD")
        self.scheduler = lr_scheduler.StepLR(self.opt, step_size=2, gamma=0.5)

    def train_step(self, x: mg.Tensor, y: mg.Tensor) -> mg.Tensor:
        return self.step(x, y)


def test_a_scheduler_the_jitted_function_can_reach_causes_no_retrace():
    runs = []
    for use_jit in (False, True):
        trainer = _Trainer()
        fn = mg.jit(trainer.train_step) if use_jit else trainer.train_step
        x, y = _data()
        for _ in range(STEPS):
            fn(x, y)
            trainer.scheduler.step()
        runs.append([p.numpy().copy() for p in trainer.params])
    for ours, theirs in zip(runs[1], runs[0], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    assert fn.stats()["traces"] == 1, fn.stats()


def test_zero_grad_to_zeros_inside_a_jitted_step():
    """zero_grad(set_to_none=False) writes zeros through assign_ with a tensor (a numpy
    array there was refused by the tracer), then backward accumulates onto them."""
    runs = []
    for use_jit in (False, True):
        params, _, step = _setup("SGD", set_to_none=False)
        fn = mg.jit(step) if use_jit else step
        x, y = _data()
        for _ in range(4):
            fn(x, y)
        runs.append([p.numpy().copy() for p in params] + [p.grad.numpy().copy() for p in params])
    for ours, theirs in zip(runs[1], runs[0], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    assert fn.stats()["traces"] == 2, fn.stats()


def test_a_momentum_turned_negative_after_construction_retraces_rmsprop():
    """RMSprop keeps a momentum buffer only for momentum > 0. A momentum set to -0.5 after
    construction (no check then, as PyTorch) makes the eager step plain RMSprop; the jitted
    step kept its traced buffer and momentum until the group's guard saw the sign."""
    runs = []
    for use_jit in (False, True):
        params, opt, step = _setup("RMSprop")
        fn = mg.jit(step, background=False) if use_jit else step
        x, y = _data()
        for k in range(5):
            if k == 2:
                opt.param_groups[0]["momentum"] = -0.5
            if k == 4:
                opt.param_groups[1]["momentum"] = float("nan")
            fn(x, y)
        runs.append([p.numpy().copy() for p in params])
    for ours, theirs in zip(runs[1], runs[0], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)

"""Optimizers and StepLR: trajectories equal PyTorch 2.13's to 1e-9 in float64
(committed reference values, and live PyTorch when importable)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad._state import STATE
from minigrad.nn import functional as F
from tests.reference import gen_nn_optim as gen

COMMITTED = gen.committed()
CONFIGS = {**{k: ("SGD", v) for k, v in gen.SGD_CONFIGS.items()},
           **{k: ("Adam", v) for k, v in gen.ADAM_CONFIGS.items()}}


def trajectory(kind: str, config: dict, data: dict[str, np.ndarray]) -> np.ndarray:
    """gen._trajectory's regression, run with minigrad's optimizer."""
    w = mg.nn.Parameter(data["opt_w0"])
    b = mg.nn.Parameter(data["opt_b0"])
    opt = getattr(mg.optim, kind)([w, b], **config)
    rows = []
    for _ in range(gen.OPTIM_STEPS):
        opt.zero_grad()
        loss = F.mse_loss(mg.tensor(data["opt_x"]) @ w.T + b, data["opt_y"])
        loss.backward()
        opt.step()
        rows.append(np.concatenate([w.numpy().ravel(), b.numpy()]))
    return np.array(rows)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_trajectory_equals_torch(ref, name):
    kind, config = CONFIGS[name]
    ours = trajectory(kind, config, ref)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours, ref[f"traj_{name}"], rtol=0, atol=1e-9)
    # the trajectory actually moves (a no-op optimizer would fail above, but make it plain)
    assert np.abs(ours[-1] - ours[0]).max() > 1e-3


def test_steplr_matches_torch(ref):
    p = mg.nn.Parameter(np.zeros(1))
    opt = mg.optim.SGD([p], lr=0.3)
    scheduler = mg.optim.StepLR(opt, step_size=3, gamma=0.5)
    lrs = []
    for _ in range(10):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    np.testing.assert_allclose(lrs, ref["steplr_lrs"], rtol=1e-15)


def test_zero_grad_forgets_and_params_without_grad_stay():
    a, b = mg.nn.Parameter(np.ones(2)), mg.nn.Parameter(np.ones(2))
    opt = mg.optim.Adam([a, b], lr=0.1)
    (a * 3).sum().backward()
    opt.step()
    np.testing.assert_array_equal(b.numpy(), [1.0, 1.0])
    assert a.numpy()[0] == pytest.approx(0.9)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_steps_go_through_assign_and_never_write_arrays_in_place():
    p = mg.nn.Parameter(np.array([1.0, 2.0]))
    opt = mg.optim.SGD([p], lr=0.1, momentum=0.9)
    seen = []
    STATE.assign_hooks.append(lambda target, value: seen.append(target.name))
    try:
        for _ in range(2):
            old = p.data
            snapshot = old.copy()
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
            np.testing.assert_array_equal(old, snapshot)  # the old array is untouched
    finally:
        STATE.assign_hooks.pop()
    assert seen.count("momentum_buffer") == 2 and seen.count(None) == 2


def test_float32_parameters_stay_float32():
    p = mg.nn.Parameter(np.ones(3, np.float32))
    for opt in (mg.optim.SGD([p], lr=0.1, momentum=0.5), mg.optim.Adam([p], lr=0.1)):
        (p * p).sum().backward()
        opt.step()
        opt.zero_grad()
        assert p.dtype == np.float32


def test_lr_is_settable_and_bad_arguments_are_errors():
    p = mg.nn.Parameter(np.ones(1))
    opt = mg.optim.SGD([p], lr=0.1)
    opt.lr = 0.5
    assert opt.lr == 0.5
    with pytest.raises(ValueError, match="nesterov"):
        mg.optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        mg.optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty"):
        mg.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        mg.optim.Adam([p], lr=-1)

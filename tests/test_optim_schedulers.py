"""Learning-rate schedulers against PyTorch 2.13: each group's lr (and OneCycleLR's
momentum or beta1) after every step, to 1e-12 over 10-40 steps (tests/reference/gen_optim.py:
committed values, and live PyTorch when importable)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import lr_scheduler
from tests.reference import gen_optim as gen

TOL = {"rtol": 1e-12, "atol": 0}


@pytest.fixture(params=["committed", "live"])
def ref(request: pytest.FixtureRequest) -> dict[str, np.ndarray]:
    if request.param == "live":
        pytest.importorskip("torch")
        return gen.compute()
    return gen.committed()


def _two_groups(kind: str, options: dict, ref: dict[str, np.ndarray], **second
                ) -> mg.optim.Optimizer:
    w, b = mg.nn.Parameter(ref["w0"].copy()), mg.nn.Parameter(ref["b0"].copy())
    return getattr(mg.optim, kind)([{"params": [w]}, {"params": [b], **second}], **options)


def _momenta(opt: mg.optim.Optimizer) -> list[float]:
    return [g["betas"][0] if "betas" in g else g.get("momentum", 0.0)
            for g in opt.param_groups]


@pytest.mark.parametrize("name", list(gen.SCHEDULERS))
def test_lr_sequence_equals_torch(ref, name):
    kind, options, sched, sched_options, steps = gen.SCHEDULERS[name]
    opt = _two_groups(kind, options, ref)
    scheduler = gen.build_scheduler(lr_scheduler, opt, sched, sched_options)
    lrs, momenta = [scheduler.get_last_lr()], [_momenta(opt)]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
        momenta.append(_momenta(opt))
        assert [g["lr"] for g in opt.param_groups] == lrs[-1]
    np.testing.assert_allclose(lrs, ref[f"lrs:{name}"], **TOL)
    np.testing.assert_allclose(momenta, ref[f"momenta:{name}"], **TOL)
    assert len({tuple(row) for row in lrs}) >= 2  # the schedule really moves
    # and the step reads it: the group's lr tensor holds the same number
    assert float(opt.param_groups[0].tensor("lr").data) == lrs[-1][0]


@pytest.mark.parametrize("name", list(gen.PLATEAU))
def test_reduce_on_plateau_equals_torch(ref, name):
    opt = _two_groups("SGD", {"lr": 0.5}, ref, lr=0.2)
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, **gen.PLATEAU[name])
    lrs = []
    for value in ref["metric"][:gen.PLATEAU_STEPS]:
        scheduler.step(mg.tensor(value))  # a 0-d tensor metric, as PyTorch users pass
        lrs.append(scheduler.get_last_lr())
    np.testing.assert_allclose(lrs, ref[f"lrs:{name}"], **TOL)
    assert lrs[-1] != lrs[0]


def test_closed_form_epoch_argument_and_state_dict_round_trip():
    p = mg.nn.Parameter(np.zeros(1))
    opt = mg.optim.SGD([p], lr=0.3)
    scheduler = lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.5)
    for _ in range(3):
        scheduler.step()
    saved = scheduler.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 3
    assert saved["base_lrs"] == [0.3] and opt.param_groups[0]["initial_lr"] == 0.3
    scheduler.step(epoch=5)  # closed form: both milestones passed
    assert scheduler.get_last_lr() == [0.3 * 0.5 ** 2]
    scheduler.load_state_dict(saved)
    assert scheduler.last_epoch == 3


def test_bad_scheduler_arguments_are_errors():
    p = mg.nn.Parameter(np.zeros(1))
    opt = mg.optim.SGD([p], lr=0.3)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="step_size must be >= 1, got 0"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="start_factor must lie in"):
        lr_scheduler.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="total_steps"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match=r"expected 1 values for max_lr, got 2"):
        lr_scheduler.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=5)
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.OneCycleLR(mg.optim.Adagrad([p]), max_lr=1.0, total_steps=5)
    with pytest.raises(ValueError, match=r"factor should be < 1\.0, got 1\.5"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.ExponentialLR(mg.optim.SGD([p], lr=0.1), gamma=0.5, last_epoch=3)
    cycle = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    cycle.step()
    cycle.step()
    with pytest.raises(ValueError, match="tried to step 3 times"):
        cycle.step()


def test_old_import_paths_still_work():
    assert mg.optim.StepLR is lr_scheduler.StepLR
    from minigrad.optim import SGD, Adagrad, Adam, AdamW, RMSprop  # noqa: F401


def test_composite_and_lambda_state_dicts():
    p = mg.nn.Parameter(np.zeros(1))
    opt = mg.optim.SGD([p], lr=0.3)
    first = lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
    sequence = lr_scheduler.SequentialLR(
        opt, [first, lr_scheduler.ExponentialLR(opt, gamma=0.5)], milestones=[2])
    for _ in range(3):
        sequence.step()
    saved = sequence.state_dict()
    assert saved["last_epoch"] == 3 and saved["_milestones"] == [2]
    assert [s["last_epoch"] for s in saved["_schedulers"]] == [1, 1]
    sequence.step()
    sequence.load_state_dict(saved)
    assert sequence.last_epoch == 3 and first.last_epoch == 1

    class Halve:
        def __init__(self) -> None:
            self.rate = 0.5

        def __call__(self, epoch: int) -> float:
            return self.rate ** epoch

    halve = Halve()
    scheduler = lr_scheduler.LambdaLR(opt, [halve])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}]  # a callable object's attributes, no code
    halve.rate = 0.1
    scheduler.load_state_dict(state)
    assert halve.rate == 0.5
    with pytest.raises(ValueError, match="same optimizer"):
        lr_scheduler.ChainedScheduler([scheduler, lr_scheduler.StepLR(
            mg.optim.SGD([mg.nn.Parameter(np.zeros(1))]), step_size=2)])

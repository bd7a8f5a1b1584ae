"""Every optimizer and option combination against PyTorch 2.13, step by step to 1e-12 in
float64 (tests/reference/gen_optim.py: committed values, and live PyTorch when importable):
trajectories, per-group options, ``state_dict`` layout and values, loading PyTorch's."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import minigrad as mg
from tests.reference import gen_optim as gen

TOL = {"rtol": 1e-12, "atol": 1e-12}


@pytest.fixture(params=["committed", "live"])
def ref(request: pytest.FixtureRequest) -> dict[str, np.ndarray]:
    if request.param == "live":
        pytest.importorskip("torch")
        return gen.compute()
    return gen.committed()


def _params(ref: dict[str, np.ndarray]) -> list[mg.Tensor]:
    return [mg.nn.Parameter(ref["w0"].copy()), mg.nn.Parameter(ref["b0"].copy())]


def _loss(ref: dict[str, np.ndarray], w: mg.Tensor, b: mg.Tensor) -> mg.Tensor:
    r = mg.tanh(mg.tensor(ref["x"]) @ w.T + b) - mg.tensor(ref["y"])
    return (r * r).mean()


def _run(ref: dict[str, np.ndarray], opt: mg.optim.Optimizer, params: list, steps: int
         ) -> np.ndarray:
    rows = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(ref, *params).backward()
        opt.step()
        rows.append(np.concatenate([p.numpy().ravel() for p in params]))
    return np.array(rows)


@pytest.mark.parametrize("name", list(gen.OPTIMIZERS))
def test_trajectory_and_state_equal_torch(ref, name):
    kind, options = gen.OPTIMIZERS[name]
    params = _params(ref)
    opt = getattr(mg.optim, kind)(params, **options)
    ours = _run(ref, opt, params, gen.STEPS)
    np.testing.assert_allclose(ours, ref[f"traj:{name}"], **TOL)
    assert np.abs(ours[-1] - ours[0]).max() > 1e-2  # the parameters really moved
    theirs = {k: v for k, v in ref.items() if k.startswith(f"state:{name}:")}
    state = opt.state_dict()["state"]
    for key, value in theirs.items():
        _, _, position, slot = key.split(":")
        np.testing.assert_allclose(np.asarray(state[int(position)][slot]), value, **TOL)
    # every state entry PyTorch keeps, we keep (SGD's dampening adds its own 'step')
    ours_keys = {(k, s) for k, slot in state.items() for s in slot}
    theirs_keys = {(int(k.split(":")[2]), k.split(":")[3]) for k in theirs}
    assert theirs_keys <= ours_keys
    assert ours_keys - theirs_keys <= {(k, "step") for k in state}


@pytest.mark.parametrize("name", list(gen.GROUPS))
def test_param_groups_with_their_own_options_equal_torch(ref, name):
    kind, defaults, second = gen.GROUPS[name]
    w, b = _params(ref)
    opt = getattr(mg.optim, kind)([{"params": [w]}, {"params": [b], **second}], **defaults)
    assert [len(g["params"]) for g in opt.param_groups] == [1, 1]
    assert opt.param_groups[1]["lr"] == second.get("lr", defaults["lr"])
    np.testing.assert_allclose(_run(ref, opt, [w, b], gen.STEPS), ref[f"traj:{name}"], **TOL)


def test_add_param_group_takes_the_defaults_and_refuses_a_shared_parameter():
    a, b = mg.nn.Parameter(np.ones(2)), mg.nn.Parameter(np.ones(3))
    opt = mg.optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.5})
    group = opt.param_groups[1]
    assert group["params"] == [b] or group["params"][0] is b
    assert (group["lr"], group["momentum"], group["nesterov"]) == (0.5, 0.9, False)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="ordered collection"):
        opt.add_param_group({"params": {mg.nn.Parameter(np.ones(1))}})
    with pytest.raises(ValueError, match="non-leaf"):
        mg.optim.Adam([a * 2])


def test_state_dict_layout_is_pytorchs_and_loading_it_continues_the_same_run(ref):
    options = gen.OPTIMIZERS["adam_amsgrad_wd"][1]
    params = _params(ref)
    opt = mg.optim.Adam(params, **options)
    _run(ref, opt, params, 3)
    saved = copy.deepcopy(opt.state_dict())
    assert sorted(saved) == ["param_groups", "state"]
    assert saved["param_groups"][0]["params"] == [0, 1]
    assert saved["param_groups"][0]["lr"] == options["lr"]
    assert set(saved["state"][1]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    rest = _run(ref, opt, params, gen.STEPS - 3)
    # a new optimizer on the parameters as they were after 3 steps, loaded from the copy
    again = [mg.nn.Parameter(np.array(ref["traj:adam_amsgrad_wd"][2][:6].reshape(2, 3))),
             mg.nn.Parameter(np.array(ref["traj:adam_amsgrad_wd"][2][6:]))]
    fresh = mg.optim.Adam(again, lr=1.0)  # options come from the state dict
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == options["lr"]
    np.testing.assert_allclose(_run(ref, fresh, again, gen.STEPS - 3), rest, **TOL)
    np.testing.assert_allclose(rest, ref["traj:adam_amsgrad_wd"][3:], **TOL)


def test_loading_pytorchs_own_state_dict_continues_its_run():
    torch = pytest.importorskip("torch")
    x = gen.inputs()
    names = ["sgd_dampening_wd", "rmsprop_centered_all", "adagrad_all", "adamw_amsgrad"]
    for kind, options in [gen.OPTIMIZERS[name] for name in names]:
        tparams = gen._params(torch, x)
        topt = getattr(torch.optim, kind)(tparams, **options)
        gen._run(torch, x, topt, tparams, 3)
        params = [mg.nn.Parameter(p.detach().numpy().copy()) for p in tparams]
        opt = getattr(mg.optim, kind)(params)
        opt.load_state_dict(topt.state_dict())
        theirs = gen._run(torch, x, topt, tparams, 3)
        np.testing.assert_allclose(_run(x, opt, params, 3), theirs, **TOL, err_msg=kind)


def test_load_state_dict_refuses_a_mismatch_by_naming_the_counts():
    a, b = mg.nn.Parameter(np.ones(2)), mg.nn.Parameter(np.ones(3))
    saved = mg.optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="has 1 parameter groups, the optimizer has 2"):
        mg.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="group 0 has 2 parameters, the optimizer's has 1"):
        mg.optim.SGD([a], lr=0.1).load_state_dict(saved)


def test_zero_grad_set_to_none_false_keeps_zero_tensors():
    p = mg.nn.Parameter(np.ones(3))
    opt = mg.optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), np.zeros(3))
    (p * 2.0).sum().backward()  # accumulates onto the zeros
    np.testing.assert_array_equal(p.grad.numpy(), np.full(3, 2.0))
    opt.zero_grad()
    assert p.grad is None


def test_group_options_read_as_numbers_and_write_through_to_the_step():
    p = mg.nn.Parameter(np.array([1.0]))
    opt = mg.optim.Adam([p], lr=0.1, betas=(0.9, 0.99))
    group = opt.param_groups[0]
    assert isinstance(group["lr"], float) and group["betas"] == (0.9, 0.99)
    assert dict(group.items())["betas"] == (0.9, 0.99) and "Tensor" not in repr(group)
    lr_tensor = group.tensor("lr")
    group["lr"] = 0.25
    assert group.tensor("lr") is lr_tensor and float(lr_tensor.data) == 0.25
    assert opt.lr == 0.25 and opt.state_dict()["param_groups"][0]["lr"] == 0.25
    (p * 1.0).sum().backward()
    opt.step()  # first Adam step moves by lr (m / sqrt(v) = 1)
    np.testing.assert_allclose(p.numpy(), [1 - 0.25 / (1 + 1e-8)], rtol=1e-15)
    with pytest.raises(TypeError, match="'lr' must be one real number"):
        group["lr"] = "fast"
    clone = copy.deepcopy(group)
    clone["lr"] = 1.0
    assert group["lr"] == 0.25  # a deep copy has its own tensors


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: mg.optim.SGD(p, lr=-0.1), "invalid lr value: -0.1"),
    (lambda p: mg.optim.SGD(p, lr=0.1, momentum=-1), "invalid momentum value: -1"),
    (lambda p: mg.optim.SGD(p, lr=0.1, nesterov=True), "Nesterov momentum requires"),
    (lambda p: mg.optim.Adam(p, betas=(0.9, 1.0)), "beta parameter at index 1: 1.0"),
    (lambda p: mg.optim.AdamW(p, eps=-1e-8), "invalid eps value"),
    (lambda p: mg.optim.RMSprop(p, alpha=-0.5), "invalid alpha value: -0.5"),
    (lambda p: mg.optim.Adagrad(p, lr_decay=-1), "invalid lr_decay value: -1"),
    (lambda p: mg.optim.Adam([]), "empty parameter list"),
    (lambda p: mg.optim.SGD([{"params": p}, {"params": [], "weight_decay": -2}]),
     "invalid weight_decay value: -2"),
])
def test_bad_options_are_errors_naming_the_value(make, message):
    with pytest.raises(ValueError, match=message):
        make([mg.nn.Parameter(np.ones(1))])


def test_float32_parameters_stay_float32_in_every_optimizer():
    for kind in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        p = mg.nn.Parameter(np.ones(3, np.float32))
        opt = getattr(mg.optim, kind)([p], lr=0.1, **({"momentum": 0.5} if kind == "SGD" else {}))
        for _ in range(2):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
        assert p.dtype == np.float32, kind
        assert all(v.dtype == np.float32 for k, v in opt.state[p].items() if k != "step")


@pytest.mark.parametrize("kind", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_defaults_and_saved_groups_have_torchs_keys_and_values(kind):
    torch = pytest.importorskip("torch")
    ours = getattr(mg.optim, kind)([mg.nn.Parameter(np.ones(2))])
    theirs = getattr(torch.optim, kind)([torch.ones(2, requires_grad=True)])
    assert list(ours.defaults) == list(theirs.defaults)
    assert ours.defaults == theirs.defaults
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]


def test_adam_with_decoupled_weight_decay_is_adamw_and_differentiable_is_refused(ref):
    params = _params(ref)
    opt = mg.optim.Adam(params, lr=0.05, weight_decay=0.3, amsgrad=True,
                        decoupled_weight_decay=True, foreach=False, fused=None)
    np.testing.assert_allclose(_run(ref, opt, params, gen.STEPS), ref["traj:adamw_amsgrad"],
                               **TOL)
    with pytest.raises(ValueError, match="differentiable=True is not supported"):
        mg.optim.SGD(params, lr=0.1, differentiable=True)


@pytest.mark.parametrize("name", list(gen.OPTIMIZERS))
def test_float32_trajectories_follow_torchs_float32(name):
    """Float32 parameters: the lr and betas are cast once per step, bias corrections are
    float64 like PyTorch's Python floats; measured differences are a few float32 ulps
    (at most 2.4e-7 over 7 steps), the tolerance is 2e-6."""
    torch = pytest.importorskip("torch")
    kind, options = gen.OPTIMIZERS[name]
    x = {k: v.astype(np.float32) for k, v in gen.inputs().items()}
    tparams = [torch.tensor(x["w0"], requires_grad=True), torch.tensor(x["b0"], requires_grad=True)]
    theirs = gen._run(torch, x, getattr(torch.optim, kind)(tparams, **options), tparams, gen.STEPS)
    params = [mg.nn.Parameter(x["w0"].copy()), mg.nn.Parameter(x["b0"].copy())]
    ours = _run(x, getattr(mg.optim, kind)(params, **options), params, gen.STEPS)
    assert ours.dtype == theirs.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-6)

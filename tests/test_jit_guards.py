"""mg.jit guards and runtime inputs (issue 13); thread safety, lifetime, the cache directory
and stats are in test_jit_runtime.py.

Every case runs the same program eagerly and under ``mg.jit`` (on twin models built from the
same weights) and compares the results call by call: a compiled entry must never run once
something its trace assumed has changed, and arguments are never baked in.
"""

from __future__ import annotations

import functools
import types

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.jit import NotCompilableError, jit


def _rand(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _close(a: object, b: object) -> None:
    np.testing.assert_allclose(getattr(a, "data", a), getattr(b, "data", b), rtol=1e-12,
                               atol=1e-12)


def _twins(build):
    """(eager objects, jit objects): ``build()`` twice from the same seed."""
    mg.manual_seed(0)
    eager = build()
    mg.manual_seed(0)
    return eager, build()


def _linear_setup():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    return types.SimpleNamespace(model=model, opt=opt, step=step)


def _assert_same_params(a: nn.Module, b: nn.Module) -> None:
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-12, atol=1e-12, err_msg=name)


def _twin_steps_agree(build, calls: list[tuple]) -> None:
    """``build() -> (step, parameter)`` twice from one seed, the second step under mg.jit:
    after each call (with the arguments in ``calls``) both give the same loss and the same
    parameter."""
    (eager, p_eager), (compiled, p_jit) = _twins(build)
    compiled = jit(compiled)
    for args in calls:
        _close(eager(*args), compiled(*args))
        _close(p_eager, p_jit)


# ---------------------------------------------------------------- arguments at run time
def test_detach_of_an_argument_is_read_at_every_call() -> None:
    f = jit(lambda x: x.detach() * 2.0 + x)
    for seed in range(3):
        x = _rand(4, 3, seed=seed)
        _close(f(mg.Tensor(x)), 3 * x)


def test_detach_of_a_traced_value_and_of_an_updated_parameter() -> None:
    def build():
        w = nn.Parameter(_rand(3))
        opt = optim.SGD([w], lr=0.5)

        def step(x):
            opt.zero_grad()
            h = x * w
            loss = ((h - h.detach().mean()) ** 2).sum()
            loss.backward()
            opt.step()
            return w.detach() * 1.0, loss

        return step

    eager, compiled = _twins(build)
    compiled = jit(compiled)
    for seed in range(4):
        x = _rand(5, 3, seed=seed)
        for a, b in zip(eager(mg.Tensor(x)), compiled(mg.Tensor(x)), strict=True):
            _close(a, b)


@pytest.mark.parametrize("key", ["rows", "columns", "matrix", "scalar"])
def test_an_index_tensor_argument_is_a_runtime_input(key: str) -> None:
    def fn(x, i):
        if key == "columns":
            return x[:, i] * 1.0
        if key == "scalar":
            return x[i] * 1.0
        return x[i] * 1.0

    compiled = jit(fn)
    x = mg.Tensor(_rand(5, 4))
    rng = np.random.default_rng(1)
    for _ in range(3):
        if key == "matrix":
            i = rng.integers(-5, 5, (2, 3))
        elif key == "scalar":
            i = np.array(rng.integers(0, 5))
        else:
            i = rng.integers(-4, 4, 3)
        _close(compiled(x, mg.Tensor(i)), fn(x, mg.Tensor(i)))
    assert compiled.trace_count == 1


def test_embedding_training_with_index_arguments_matches_eager() -> None:
    def build():
        table = nn.Parameter(_rand(6, 3))
        opt = optim.SGD([table], lr=0.3)

        def step(i, target):
            opt.zero_grad()
            loss = ((table[i] - target) ** 2).sum()
            loss.backward()
            opt.step()
            return loss

        return step, table

    rng = np.random.default_rng(2)
    _twin_steps_agree(build, [(mg.Tensor(rng.integers(0, 6, 4)), mg.Tensor(_rand(4, 3)))
                              for _ in range(4)])


@pytest.mark.parametrize("bad", [[1, 4], [-5, 0]])
@pytest.mark.parametrize("column", [False, True])
def test_an_out_of_range_index_argument_raises_like_eager(bad: list, column: bool) -> None:
    """The compiled call raises eager's IndexError, word for word (x[i] and x[:, i])."""
    def fn(x, i):
        return (x[:, i] if column else x[i]) * 1.0

    f = jit(fn)
    x = mg.Tensor(_rand(4, 4))
    f(x, mg.Tensor(np.array([0, 3])))
    with pytest.raises(IndexError) as eager:
        fn(x, mg.Tensor(np.array(bad)))
    with pytest.raises(IndexError) as compiled:
        f(x, mg.Tensor(np.array(bad)))
    assert str(compiled.value) == str(eager.value)


def test_a_boolean_mask_argument_is_refused() -> None:
    f = jit(lambda x, m: x[m] * 1.0)
    with pytest.raises(NotCompilableError, match="boolean mask"):
        f(mg.Tensor(_rand(4)), mg.Tensor(np.array([True, False, True, True])))


def test_a_leaf_viewing_an_argument_array_is_refused() -> None:
    f = jit(lambda x: mg.Tensor._leaf_like(x.data[0]) * 2.0)  # fn's own x.data: refused there
    with pytest.raises(NotCompilableError, match="read into Python"):
        f(mg.Tensor(_rand(3, 2)))

    def viewing(x):  # a view made from minigrad's own read of .data (not fn's): refused too
        from minigrad.numpy_dispatch import _values

        return mg.Tensor._leaf_like(_values(x)[0]) * 2.0

    with pytest.raises(NotCompilableError, match="views the array"):
        jit(viewing)(mg.Tensor(_rand(3, 2)))


# ------------------------------------------------------------------ state outside args
def _replace_first_weight(objects) -> None:
    objects.model[0].weight = nn.Parameter(_rand(4, 3, seed=9))


def _freeze_last_bias(objects) -> None:
    objects.model[1].bias.requires_grad_(False)


def _drop_first_optimized_parameter(objects) -> None:
    dropped = objects.opt.param_groups[0]["params"].pop(0)
    objects.opt.state.pop(dropped, None)


@pytest.mark.parametrize(("change", "reason"), [
    (_replace_first_weight, "identity"),
    (_freeze_last_bias, "requires_grad"),
    (_drop_first_optimized_parameter, "identity"),  # the optimizer's list changed in place
])
def test_a_change_to_state_after_the_first_calls_is_seen(change, reason: str) -> None:
    """The same change to both twins before the third call: the compiled step follows the
    eager one (losses and parameters), because the named guard failed and it retraced."""
    eager, compiled = _twins(_linear_setup)
    step = jit(compiled.step)
    x = mg.Tensor(_rand(8, 3))
    for k in range(4):
        if k == 2:
            change(eager)
            change(compiled)
        _close(eager.step(x), step(x))
        _assert_same_params(eager.model, compiled.model)
    assert step.stats()["guard_failures"].get(reason, 0) >= 1


def test_a_rebound_global_tensor_is_seen() -> None:
    scope: dict = {"mg": mg, "W": mg.Tensor(_rand(3, 2))}
    exec("def f(x):\n    return x @ W\n", scope)
    f = jit(scope["f"])
    x = mg.Tensor(_rand(4, 3))
    _close(f(x), x.data @ scope["W"].data)
    scope["W"] = mg.Tensor(_rand(3, 2, seed=5))
    _close(f(x), x.data @ scope["W"].data)


def test_python_numbers_the_trace_baked_in_are_guarded() -> None:
    """Dropout.p, an SGD group's weight_decay, a config object's attribute and a closure
    variable."""
    def build():
        model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.25), nn.Linear(4, 2))
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        cfg = types.SimpleNamespace(scale=2.0)
        offset = 1.0

        def step(x):
            opt.zero_grad()
            loss = ((model(x) * cfg.scale + offset) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        def set_offset(value: float) -> None:
            nonlocal offset
            offset = value

        return types.SimpleNamespace(model=model, opt=opt, cfg=cfg, step=step,
                                     set_offset=set_offset)

    eager, compiled = _twins(build)
    step = jit(compiled.step)
    x = mg.Tensor(_rand(8, 3))
    changes = {2: lambda t: setattr(t.model[1], "p", 0.5),
               3: lambda t: t.opt.param_groups[0].__setitem__("weight_decay", 0.5),
               4: lambda t: setattr(t.cfg, "scale", -1.0),
               5: lambda t: t.set_offset(3.0)}
    for k in range(7):
        if k in changes:
            changes[k](eager)
            changes[k](compiled)
        mg.manual_seed(k)
        expected = eager.step(x)
        mg.manual_seed(k)
        _close(expected, step(x))
        _assert_same_params(eager.model, compiled.model)
    assert step.stats()["guard_failures"].get("value", 0) == 4


def test_numbers_read_through_containers_are_guarded() -> None:
    """A number fn reads through a global dict, a nested attribute, a list, a closure
    dict or a module's dict attribute: each was baked in by the trace and never checked
    (the compiled function kept returning the first value)."""
    scope: dict = {"mg": mg, "CONFIG": {"scale": 2.0},
                   "cfg": types.SimpleNamespace(sub=types.SimpleNamespace(scale=3.0),
                                                items=[4.0])}
    layer = nn.Linear(3, 3)
    layer.extra = {"shift": 1.0}
    local = {"bias": 5.0}
    exec("def f(x, layer, local):\n"
         "    return (x * CONFIG['scale'] + x * cfg.sub.scale + x * cfg.items[0]\n"
         "            + layer(x) * layer.extra['shift'] + local['bias'])\n", scope)
    f = functools.partial(scope["f"], layer=layer, local=local)
    compiled = jit(f)
    x = mg.Tensor(_rand(4, 3))
    changes = [lambda: scope["CONFIG"].update(scale=-1.0),
               lambda: setattr(scope["cfg"].sub, "scale", 0.5),
               lambda: scope["cfg"].items.__setitem__(0, 7.0),
               lambda: layer.extra.update(shift=-2.0),
               lambda: local.update(bias=0.25)]
    for k in range(len(changes) + 2):
        if 1 <= k <= len(changes):
            changes[k - 1]()
        _close(f(x), compiled(x))
    assert compiled.stats()["guard_failures"].get("value", 0) == len(changes)


@pytest.mark.parametrize("wrap", ["partial", "callable object", "module"])
def test_parameters_reached_through_partials_callables_and_modules_are_guarded(wrap: str
                                                                               ) -> None:
    import functools

    model = nn.Linear(3, 2)

    class Runner:
        def __init__(self, net: nn.Module) -> None:
            self.net = net

        def __call__(self, x):
            return self.net(x)

    fn = {"partial": functools.partial(lambda net, x: net(x), model),
          "callable object": Runner(model), "module": model}[wrap]
    f = jit(fn)
    x = mg.Tensor(_rand(4, 3).astype(model.weight.dtype))
    _close(f(x), model(x))
    model.weight = nn.Parameter(_rand(2, 3, seed=4).astype(model.weight.dtype))
    _close(f(x), model(x))


@pytest.mark.parametrize("start", [True, False])
def test_a_submodule_training_flag_set_directly_is_seen(start: bool) -> None:
    """The model is reached through a plain object; the flag is set on the Dropout itself
    (no .train()/.eval() on the root), in both directions."""
    def build():
        holder = types.SimpleNamespace(
            model=nn.Sequential(nn.Linear(3, 6), nn.Dropout(0.5), nn.Linear(6, 2)))
        holder.model[1].training = start
        return holder

    eager, compiled = _twins(build)
    fn = jit(lambda x, h=compiled: h.model(x))
    x = mg.Tensor(_rand(5, 3))
    mg.manual_seed(3)
    first_eager = eager.model(x)
    mg.manual_seed(3)
    _close(first_eager, fn(x))
    eager.model[1].training = not start
    compiled.model[1].training = not start
    mg.manual_seed(4)
    second_eager = eager.model(x)
    mg.manual_seed(4)
    _close(second_eager, fn(x))
    assert fn.stats()["guard_failures"].get("training", 0) == 1


def test_a_module_version_moves_on_every_change_and_only_then() -> None:
    """Module._version, which lets a compiled entry skip a module's attribute checks."""
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5))
    drop = model[1]
    start = drop._version
    drop.p = drop.p  # the same object: no change
    model.train()  # already training
    assert drop._version == start
    drop.p = 0.25
    assert drop._version == start + 1
    model.eval()
    assert drop._version == start + 2 and model[0]._version > 0
    del drop.p
    assert drop._version == start + 3 and not hasattr(drop, "p")
    drop.training = True
    assert drop._version == start + 4


def test_a_module_changed_and_changed_back_keeps_its_entry() -> None:
    """The version moved but every attribute check still holds: no retrace; a later real
    change is still seen (the entry remembers the version only after the checks held)."""
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.25), nn.Linear(4, 2))
    fn = jit(lambda x: model(x) * 2.0)
    x = mg.Tensor(_rand(6, 3))

    def expected(seed: int) -> mg.Tensor:
        mg.manual_seed(seed)
        return model(x) * 2.0

    for k in range(6):
        if k == 2:
            model[1].p = 0.5
            model[1].p = 0.25
            model.eval()
            model.train()
        if k == 4:
            model[1].p = 0.5
        want = expected(k)
        mg.manual_seed(k)
        _close(want, fn(x))
    assert fn.stats()["traces"] == 2 and fn.stats()["guard_failures"] == {"value": 1}


def test_calling_train_every_step_does_not_retrace() -> None:
    """PyTorch code calls model.train() at the top of each step: not a change."""
    eager, compiled = _twins(_linear_setup)
    step = jit(compiled.step)
    x = mg.Tensor(_rand(8, 3))
    for _ in range(5):
        eager.model.train()
        compiled.model.train()
        _close(eager.step(x), step(x))
    assert step.stats()["guard_failures"].get("training", 0) == 0
    assert step.stats()["traces"] <= 2  # the first step (grads None), then one with grads


def test_arguments_that_were_one_tensor_stay_one() -> None:
    def fn(a, b):
        (a * b).sum().backward()
        return a.grad * 1.0

    f = jit(fn)
    for k in range(2):
        x = mg.Tensor(_rand(3, seed=k), requires_grad=True)
        y = mg.Tensor(_rand(3, seed=k + 7), requires_grad=True)
        _close(f(x, y), y.data)
    x = mg.Tensor(_rand(3), requires_grad=True)
    _close(f(x, x), 2 * x.data)  # one tensor twice: both contributions in one .grad


def test_an_argument_that_was_also_state_when_traced_stays_that_tensor() -> None:
    model = nn.Linear(3, 2)
    x = mg.Tensor(_rand(4, 3).astype(model.weight.dtype))

    def fn(w):
        return model(x) + w.sum()

    f = jit(fn)
    _close(f(model.weight), fn(model.weight))
    other = nn.Parameter(_rand(2, 3, seed=3).astype(model.weight.dtype))  # the same key
    _close(f(other), fn(other))

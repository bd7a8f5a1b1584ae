"""The benchmark's MLP training step under mg.jit against PyTorch, and the gradients the
compiled step stores: reused tensors only when nobody else can see them.

Linear(2, 64) -> BatchNorm1d -> ReLU -> Linear(64, 64) -> BatchNorm1d -> ReLU -> Linear(64, 2),
cross-entropy, SGD: its first and last matmuls have a dimension of 2 (generated loops), the
middle ones go to BLAS.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.experiments import make_train_step
from minigrad.jit import jit

WIDTH, BATCH = 64, 128


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, 2)).astype(np.float32)
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.int64)


def _weights(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for fan_in, fan_out in ((2, WIDTH), (WIDTH, WIDTH), (WIDTH, 2)):
        bound = 1.0 / np.sqrt(fan_in)
        out += [rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                rng.uniform(-bound, bound, fan_out).astype(np.float32)]
    return out


def _minigrad_step(impl: str):
    linears = [nn.Linear(2, WIDTH), nn.Linear(WIDTH, WIDTH), nn.Linear(WIDTH, 2)]
    weights = _weights()
    for k, layer in enumerate(linears):
        layer.weight.assign_(weights[2 * k])
        layer.bias.assign_(weights[2 * k + 1])
    model = nn.Sequential(linears[0], nn.BatchNorm1d(WIDTH, impl=impl), nn.ReLU(), linears[1],
                          nn.BatchNorm1d(WIDTH, impl=impl), nn.ReLU(), linears[2])
    opt = optim.SGD(model.parameters(), lr=0.1)
    return jit(make_train_step(model, opt)), model


@pytest.mark.parametrize("impl", ["composed", "fused"])
def test_mlp_training_steps_match_pytorch(impl) -> None:
    torch = pytest.importorskip("torch")
    step, model = _minigrad_step(impl)
    tlinears = [torch.nn.Linear(2, WIDTH), torch.nn.Linear(WIDTH, WIDTH),
                torch.nn.Linear(WIDTH, 2)]
    weights = _weights()
    with torch.no_grad():
        for k, layer in enumerate(tlinears):
            layer.weight.copy_(torch.from_numpy(weights[2 * k]))
            layer.bias.copy_(torch.from_numpy(weights[2 * k + 1]))
    tmodel = torch.nn.Sequential(tlinears[0], torch.nn.BatchNorm1d(WIDTH), torch.nn.ReLU(),
                                 tlinears[1], torch.nn.BatchNorm1d(WIDTH), torch.nn.ReLU(),
                                 tlinears[2])
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1)
    for seed in range(5):
        x, y = _data(seed)
        loss = step(mg.Tensor(x), mg.Tensor(y))
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(x)),
                                                  torch.from_numpy(y))
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(float(loss.data), tloss.item(), rtol=1e-4)
    assert step.trace_count == 1  # the step clears .grad itself: one trace for every step
    for ours, theirs in zip(model.parameters(), tmodel.parameters(), strict=True):
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-3, atol=1e-4)
    running = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
    truns = [m for m in tmodel if isinstance(m, torch.nn.BatchNorm1d)]
    for ours, theirs in zip(running, truns, strict=True):
        np.testing.assert_allclose(ours.running_mean.data, theirs.running_mean.numpy(),
                                   rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(),
                                   rtol=1e-4, atol=1e-6)


def test_gradients_held_by_the_caller_are_never_overwritten() -> None:
    step, model = _minigrad_step("composed")
    x, y = (mg.Tensor(a) for a in _data())
    for _ in range(3):  # compile both signatures, then run the kernel
        step(x, y)
    weight = model[0].weight
    held = weight.grad
    held_values = held.data.copy()
    watched = weakref.ref(model[6].weight.grad)
    step(mg.Tensor(_data(1)[0]), y)
    assert weight.grad is not held  # a new tensor: the caller's one keeps its values
    np.testing.assert_array_equal(held.data, held_values)
    assert not np.array_equal(weight.grad.data, held_values)
    assert watched() is not model[6].weight.grad  # a weakly referenced one is replaced too


def test_unheld_gradients_hold_the_new_values() -> None:
    """A gradient tensor nobody else holds may be reused: its values are still this step's."""
    step, model = _minigrad_step("composed")
    reference, ref_model = _minigrad_step("composed")
    for seed in range(4):
        x, y = (mg.Tensor(a) for a in _data(seed))
        step(x, y)
        gc.collect()
        reference.fn(x, y)  # the same step, eager
        for ours, theirs in zip(model.parameters(), ref_model.parameters(), strict=True):
            np.testing.assert_allclose(ours.grad.data, theirs.grad.data, rtol=1e-4, atol=1e-6)



def _linear_step():
    layer = nn.Linear(3, 2)
    opt = optim.SGD(layer.parameters(), lr=0.5)

    def step(x):
        opt.zero_grad()
        loss = (layer(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    return layer, step


def _twin_linear_steps():
    """(layer, step) twice, the second layer starting from the first one's weights."""
    layer, step = _linear_step()
    eager_layer, eager_step = _linear_step()
    eager_layer.weight.assign_(layer.weight.data)
    eager_layer.bias.assign_(layer.bias.data)
    return layer, step, eager_layer, eager_step


def test_compiled_call_sees_replaced_state_and_assign_hooks() -> None:
    """The generated call checks the shape of every state tensor on every call and goes
    through ``assign_`` while a hook listens: same values as eager throughout."""
    from minigrad._state import STATE

    layer, step, eager_layer, eager_step = _twin_linear_steps()
    compiled = jit(step)
    x = mg.Tensor(np.random.default_rng(5).standard_normal((8, 3)))
    for _ in range(3):
        np.testing.assert_allclose(float(compiled(x).data), float(eager_step(x).data),
                                   rtol=1e-12)
    traces = compiled.trace_count
    seen: list[object] = []
    STATE.assign_hooks.append(lambda target, value: seen.append(target))
    try:
        np.testing.assert_allclose(float(compiled(x).data), float(eager_step(x).data),
                                   rtol=1e-12)
    finally:
        STATE.assign_hooks.pop()
    assert any(t is layer.weight for t in seen) and any(t is layer.bias for t in seen)
    assert compiled.trace_count == traces
    layer.bias.data = np.zeros(3)  # another shape: traced anew, never run by the kernel
    with pytest.raises(ValueError, match="broadcast"):
        compiled(x)  # (a 2-output layer with a 3-bias: eager's error)
    np.testing.assert_allclose(layer.weight.data, eager_layer.weight.data, rtol=1e-12)


def test_compiled_call_checks_the_grad_it_accumulates_into() -> None:
    w = mg.Tensor(np.ones(3), requires_grad=True)

    def accumulate(x):
        loss = (w * x).sum()
        loss.backward()
        return loss

    compiled = jit(accumulate)
    x = mg.Tensor(np.arange(3.0))
    for _ in range(3):
        compiled(x)
    np.testing.assert_allclose(w.grad.data, 3 * np.arange(3.0))
    w.grad = None  # the entry accumulating into a present .grad must not run now
    compiled(x)
    np.testing.assert_allclose(w.grad.data, np.arange(3.0))
    w.grad = mg.Tensor(np.ones(4))  # another shape: not read by a kernel of shape 3
    with pytest.raises(ValueError, match=r"broadcast|shape"):
        compiled(x)


def test_returned_tensors_kept_by_the_caller_keep_their_values() -> None:
    _, step, _, eager_step = _twin_linear_steps()
    compiled = jit(step)
    x = mg.Tensor(np.random.default_rng(6).standard_normal((8, 3)))
    kept = [compiled(x) for _ in range(5)]
    expected = [float(eager_step(x).data) for _ in range(5)]
    assert len({id(loss) for loss in kept}) == 5
    np.testing.assert_allclose([float(loss.data) for loss in kept], expected, rtol=1e-12)
    dropped = [float(compiled(x).data) for _ in range(3)]  # each result let go at once
    np.testing.assert_allclose(dropped, [float(eager_step(x).data) for _ in range(3)],
                               rtol=1e-12)

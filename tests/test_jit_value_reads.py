"""Values read out of tensors while mg.jit traces are refused, never frozen (issue 13).

The tracer runs the function on the first call's arrays; a value taken out of a tensor
into Python or numpy there (``t.data``, ``t.numpy()``, ``np.asarray(t)``, ``t.tolist()``,
``mg.tensor(t)``, and minigrad's own functions that need values: quantile levels, positions
to delete or insert, repeat counts, ``take``'s positions, ``one_hot``'s classes,
``full_like``'s fill, numpy's value queries; value checks are check rows the kernel
repeats instead: tests/test_jit_value_checks.py) would be a constant of the compiled code.
Before this, each case below returned the first call's answer on later calls with other
values (e.g. ``mg.quantile(x, q)`` at q = 0.25 gave the median). Each must now raise
NotCompilableError when traced, and run eagerly as before.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.jit import NotCompilableError
from minigrad.tensor import Tensor

F = mg.nn.functional
X = np.arange(12.0).reshape(3, 4)


def _t(values):
    return mg.tensor(np.array(values))


CASES = {
    "t.data": (lambda x, v: x * float((v * 2).data.sum()), _t(1.5)),
    "t.numpy()": (lambda x, v: x * (v * 2).numpy().sum(), _t(1.5)),
    "np.asarray(t)": (lambda x, v: x * float(np.asarray(v * 2).sum()), _t(1.5)),
    "t.tolist()": (lambda x, v: x * (v * 2).tolist(), _t(1.5)),
    "mg.tensor(t)": (lambda x, v: x * mg.tensor(v * 2), _t(1.5)),
    "quantile q": (mg.quantile, _t([0.25])),
    "np.percentile q": (np.percentile, _t(25.0)),
    "np.delete obj": (lambda x, o: np.delete(x, o, 1), _t([2])),
    "np.insert obj": (lambda x, o: np.insert(x, o, 7.0, 1), _t([2])),
    "repeat_interleave": (lambda x, r: mg.repeat_interleave(x, r, 0), _t([2, 0, 1])),
    "np.repeat": (lambda x, r: np.repeat(x, r, 0), _t([2, 0, 1])),
    "take": (mg.take, _t([5, 11])),
    "one_hot(-1)": (lambda x, t: F.one_hot(t) * 1.0 + x.sum(), _t([2, 3])),
    "one_hot(5)": (lambda x, t: F.one_hot(t, 5) * 1.0 + x.sum(), _t([2, 3])),
    "full_like fill": (mg.full_like, _t(5.0)),
    "np.allclose": (lambda x, v: x * 2 if np.allclose(v, 1.5) else x * 3, _t(1.5)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_value_read_while_tracing_is_refused(name) -> None:
    fn, arg = CASES[name]
    x = mg.tensor(X)
    expected = fn(x, arg)  # eager mode reads values as before
    assert np.asarray(getattr(expected, "data", expected)).size > 0
    compiled = mg.jit(fn, background=False)
    with pytest.raises(NotCompilableError, match="read into Python"):
        compiled(x, arg)
    assert isinstance(Tensor.__dict__["data"], type(Tensor.__dict__["grad"]))  # the slot again


def test_minigrad_reads_data_freely_while_tracing_and_the_slot_comes_back() -> None:
    """Every op reads .data to compute: a traced training step with a loss, BatchNorm and
    an optimizer compiles and matches eager; afterwards (also after a refused trace, in
    test_a_value_read_while_tracing_is_refused) Tensor.data is the plain slot again."""
    mg.manual_seed(0)
    model = mg.nn.Sequential(mg.nn.Linear(4, 5), mg.nn.BatchNorm1d(5), mg.nn.ReLU(),
                             mg.nn.Linear(5, 3))
    twin = mg.nn.Sequential(mg.nn.Linear(4, 5), mg.nn.BatchNorm1d(5), mg.nn.ReLU(),
                            mg.nn.Linear(5, 3))
    twin.load_state_dict(model.state_dict())
    x = mg.tensor(np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32))
    y = _t([0, 1, 2, 0, 1, 2])

    def stepper(net):
        opt = mg.optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            return loss
        return step

    eager, compiled = stepper(twin), mg.jit(stepper(model), background=False)
    for _ in range(3):
        np.testing.assert_allclose(compiled(x, y).data, eager(x, y).data, rtol=1e-5)
    assert compiled.stats()["compiles"] == 1
    assert isinstance(Tensor.__dict__["data"], type(Tensor.__dict__["grad"]))


def test_a_constant_made_in_fn_may_be_read_but_not_a_gradient() -> None:
    """A leaf fn makes around an array of its own (a literal) is the same at every call:
    reading it is allowed (take with a literal index compiles). A gradient stored by
    backward inside fn is a traced value: reading it is refused."""
    take = mg.jit(lambda x: mg.take(x, mg.tensor(np.array([[1, -2]]))) * 2.0, background=False)
    for values in (X, X + 1.0, -X):
        np.testing.assert_array_equal(take(mg.tensor(values)).data,
                                      values.reshape(-1)[[[1, -2]]] * 2.0)
    w = mg.tensor(np.ones(3), requires_grad=True)

    def step(x):
        w.grad = None
        (w * x).sum().backward()
        return w * float(w.grad.numpy().sum())

    with pytest.raises(NotCompilableError, match="read into Python"):
        mg.jit(step, background=False)(mg.tensor(np.arange(3.0)))

"""The eager fast paths for small graphs (issue 17, the scalar MLP) change no value, dtype,
gradient, graph or error.

``ops.apply`` takes a short path for two inputs (a float tensor with a Python number, two
tensors of one dtype) and the add/mul VJPs skip their closures when nothing broadcasts.
Checked against the general path (``_promoted``), PyTorch 2.13 (live when importable) and
finite differences.
"""

from __future__ import annotations

import itertools
import operator
import random

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from minigrad.ops import OPS
from minigrad.ops.core import _promoted

try:
    import torch
except ImportError:  # pragma: no cover - PyTorch is in the dev environment
    torch = None

NUMBERS = [2, -3, 2.5, -0.0, 1e40, 7]
ROWS = ["add", "sub", "mul", "div", "greater", "less_equal", "maximum", "atan2"]
TORCH = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
         "div": operator.truediv, "greater": operator.gt, "less_equal": operator.le}


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("ndim", [0, 2])
@pytest.mark.parametrize("row", ROWS)
def test_a_float_tensor_with_a_python_number_is_the_general_paths(dtype, ndim, row):
    x = mg.tensor(np.full((2, 3)[:ndim], 1.25, dtype=dtype))
    op = OPS[row]
    for number in NUMBERS:
        for args in ((x, number), (number, x)):
            with np.errstate(all="ignore"):
                got = ops.apply(op, *args)
                general = _promoted(op, args)
                want = op.forward(*[t.data for t in general])
            assert got.dtype == np.asarray(want).dtype, (row, args)
            np.testing.assert_array_equal(got.data, want)
            if torch is not None and row in TORCH:  # PyTorch's operators on its tensors
                t = torch.tensor(x.data.astype(np.float64)).to(getattr(torch, x.dtype.name))
                ref = TORCH[row](*((t, number) if args[0] is x else (number, t)))
                assert str(ref.dtype).removeprefix("torch.") == got.dtype.name, (row, args)


def test_integer_and_bool_tensors_with_numbers_take_the_general_path():
    i = mg.tensor(np.array([1, 2], dtype=np.int32))
    assert (i + 1).dtype == np.int32 and (i * 1.5).dtype == np.float32
    assert (1.5 - i).dtype == np.float32 and (mg.tensor([True, False]) + 1).dtype == np.int64
    assert (i.exp()).dtype == np.float32  # the FLOAT rule


def test_bad_inputs_still_raise_on_the_short_path():
    a, b = mg.tensor(np.ones((2, 3))), mg.tensor(np.ones((4,)))
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        ops.add(a, b)
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        ops.matmul(a, mg.tensor(np.ones((2, 3))))  # one shape and dtype, not a broadcasting row


def _mlp(make, relu, seed=0):
    rnd = random.Random(seed)
    sizes = [2, 16, 16, 1]
    layers = [[([make(rnd.uniform(-1, 1)) for _ in range(a)], make(rnd.uniform(-0.1, 0.1)))
               for _ in range(b)] for a, b in itertools.pairwise(sizes)]

    def forward(xs):
        for k, layer in enumerate(layers):
            outs = []
            for ws, b in layer:
                act = b
                for w, x in zip(ws, xs, strict=True):
                    act = act + w * x
                outs.append(relu(act) if k < len(layers) - 1 else act)
            xs = outs
        return xs[0]

    return layers, forward


def _params(layers):
    return [p for layer in layers for ws, b in layer for p in (*ws, b)]


def test_scalar_mlp_gradients_equal_pytorch_and_finite_differences():
    layers, forward = _mlp(lambda v: mg.tensor(np.float64(v), requires_grad=True),
                           lambda a: a.relu())
    xs = [mg.tensor(np.float64(0.5)), mg.tensor(np.float64(-1.5))]
    out = forward(xs)
    out.backward()
    grads = np.array([p.grad.item() for p in _params(layers)])
    assert np.count_nonzero(grads) > 100
    if torch is not None:
        tlayers, tforward = _mlp(lambda v: torch.tensor(v, dtype=torch.float64,
                                                        requires_grad=True), torch.relu)
        tout = tforward([torch.tensor(0.5, dtype=torch.float64),
                         torch.tensor(-1.5, dtype=torch.float64)])
        tout.backward()
        assert abs(out.item() - tout.item()) < 1e-14
        np.testing.assert_allclose(grads, [p.grad.item() for p in _params(tlayers)],
                                   rtol=1e-12, atol=1e-15)
    params = _params(layers)
    for k in (0, 5, 40, 200, len(params) - 1):  # central differences on a few weights
        p, eps = params[k], 1e-6
        base = p.data.copy()
        values = []
        for step in (eps, -eps):
            p.data = base + step
            values.append(forward(xs).item())
        p.data = base
        assert abs((values[0] - values[1]) / (2 * eps) - grads[k]) < 1e-7


def test_add_and_mul_vjps_skip_unneeded_inputs_and_broadcast_as_before():
    w = mg.tensor(np.float64(0.3), requires_grad=True)
    x = mg.tensor(np.float64(2.0))  # needs no gradient: no node is made for it
    graph = mg.autodiff.gradient_graph(w * x + w, [w])
    assert [n.op.name for n in graph.created if n.op is not None] == ["mul", "add"]
    assert graph.grad(w).item() == 3.0
    a = mg.tensor(np.ones((2, 3)), requires_grad=True)
    b = mg.tensor(np.arange(3.0), requires_grad=True)
    (a * b + b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, np.broadcast_to(np.arange(3.0), (2, 3)))
    np.testing.assert_array_equal(b.grad.data, np.full(3, 4.0))  # 2 rows, twice

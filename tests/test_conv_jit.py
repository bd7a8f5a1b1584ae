"""mg.jit of convolution and pooling (the conv_kernels calls): a float32 training-style
step - conv2d (strided, grouped, dilated, 'same'), conv1d, the three pools, bias and a
second-order term - equals eager; one compilation for the whole file."""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad.jit import jit

F = mg.nn.functional


def _step(x, w1, w2, b1, w3):
    y = mg.relu(F.conv2d(x, w1, b1, stride=(2, 1), padding=1, groups=2))
    y = F.conv2d(y, w2, padding="same", dilation=2)
    pooled = (F.max_pool2d(y, 3, 2, 1, ceil_mode=True),
              F.avg_pool2d(y, 2, padding=1, count_include_pad=False, ceil_mode=True),
              F.adaptive_avg_pool2d(y, (3, 2)))
    z = F.conv1d(mg.reshape(y, (y.shape[0], y.shape[1], -1)), w3, stride=2)
    loss = mg.sum(z * z) + sum(mg.sum(mg.tanh(p)) for p in pooled)
    (dx,) = mg.grad(loss, [x], create_graph=True)
    total = loss + mg.sum(dx * dx)  # a second-order term: the VJP rows' own VJPs
    total.backward()
    return total, y


def _run(use_jit: bool) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(0)
    shapes = [(2, 4, 9, 7), (6, 2, 3, 3), (5, 6, 2, 3), (6,), (3, 5, 3)]
    leaves = [mg.tensor(rng.standard_normal(s), dtype="float32", requires_grad=True)
              for s in shapes]
    step = jit(_step) if use_jit else _step
    outs = step(*leaves)
    return [o.data for o in outs], [leaf.grad.data for leaf in leaves]


def test_conv_and_pools_jit_equal_eager_float32() -> None:
    eager_out, eager_grads = _run(False)
    jit_out, jit_grads = _run(True)
    for a, b in zip(eager_out + eager_grads, jit_out + jit_grads, strict=True):
        assert a.dtype == b.dtype == np.float32 and a.shape == b.shape
        scale = max(1.0, float(np.abs(a).max()))
        np.testing.assert_allclose(b, a, rtol=2e-5, atol=2e-5 * scale)

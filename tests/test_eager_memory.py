"""``Tensor.backward`` frees each gradient array once its VJP has used it (issue 17, memory).

When no hook, trace or recording context watches, the pass is not recorded: gradient nodes
keep no inputs and only the leaves' (and retained) gradients are kept. Anything that can
look at the pass (``mg.grad``, ``gradient_graph``, ``autodiff.backward``, pass hooks, node
hooks, ``create_graph``) still gets the full recorded derivation. Peaks are measured with
tracemalloc, which sees numpy's allocations.
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

import minigrad as mg
from minigrad import autodiff
from minigrad._state import STATE
from minigrad.nn import functional as F


def _bn_leaves(n=1024, c=128, seed=0):
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.standard_normal((n, c), dtype=np.float32), requires_grad=True)
    gamma = mg.tensor(rng.standard_normal(c, dtype=np.float32), requires_grad=True)
    beta = mg.tensor(rng.standard_normal(c, dtype=np.float32), requires_grad=True)
    dout = mg.tensor(rng.standard_normal((n, c), dtype=np.float32))
    return x, gamma, beta, dout


def _bn(x, gamma, beta):
    return F.batch_norm(x, None, None, gamma, beta, training=True, impl="composed")


def _peak_arrays(action, like):
    gc.collect()
    tracemalloc.start()
    try:
        kept = action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del kept
    return peak / like.data.nbytes


def test_composed_batch_norm_backward_peaks_at_eight_input_sized_arrays():
    x, gamma, beta, dout = _bn_leaves()

    def step():
        out = _bn(x, gamma, beta)
        out.backward(dout)
        return out

    # 5 forward values the graph of `out` holds (xmu, sq, xhat, gammax, out), x.grad, and
    # two gradient temporaries; 14.0 when the pass kept every gradient array to its end.
    assert _peak_arrays(step, x) < 8.2

    def recorded():
        out = _bn(x, gamma, beta)
        return out, autodiff.backward(out, dout)

    assert _peak_arrays(recorded, x) > 12  # the recorded pass keeps its derivation


def test_unrecorded_and_recorded_passes_give_identical_gradients():
    x, gamma, beta, dout = _bn_leaves(64, 8)
    _bn(x, gamma, beta).backward(dout)
    lean = [t.grad.data.copy() for t in (x, gamma, beta)]
    for t in (x, gamma, beta):
        t.grad = None
    graph = autodiff.backward(_bn(x, gamma, beta), dout)
    assert len(graph.created) > 20
    for t, want in zip((x, gamma, beta), lean, strict=True):
        np.testing.assert_array_equal(t.grad.data, want)
    for t in (x, gamma, beta):
        t.grad = None
    _bn(x, gamma, beta).backward(dout)  # and accumulation over calls as before
    _bn(x, gamma, beta).backward(dout)
    np.testing.assert_allclose(x.grad.data, 2 * lean[0], rtol=1e-6)


def test_watchers_still_see_the_recorded_pass():
    x, gamma, beta, dout = _bn_leaves(16, 4)
    seen = []
    STATE.pass_hooks.append(seen.append)
    try:
        _bn(x, gamma, beta).backward(dout)
    finally:
        STATE.pass_hooks.remove(seen.append)
    assert len(seen) == 1 and len(seen[0].created) > 20
    made = []
    with mg._state.node_hook(made.append):
        y = (x * 2.0).sum()
        made.clear()
        y.backward()
    assert made and all(n.op is None or n.inputs for n in made)  # recorded for the hook


def test_retained_and_hooked_gradients_in_an_unrecorded_pass():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 3.0
    h.retain_grad()
    calls = []
    h.register_hook(lambda g: calls.append(g.data.copy()))
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad.data, [6.0, 12.0])
    np.testing.assert_array_equal(x.grad.data, [18.0, 36.0])
    np.testing.assert_array_equal(calls[0], [6.0, 12.0])


def test_create_graph_keeps_the_history():
    x = mg.tensor(np.array([0.5, -1.0]), requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad
    (gx,) = mg.grad(first.sum(), [x])
    np.testing.assert_allclose(gx.data, 6 * x.data)

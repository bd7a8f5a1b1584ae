"""Random draws inside mg.jit: dropout in training mode compiles, draws a new mask at every
call from mg.manual_seed's generator (the numpy calls eager makes, in trace order), and a
seeded compiled training run follows the eager run. Raw draws from rng() stay refused.

References are eager minigrad runs or masks recomputed here with numpy's generator.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import _state, nn, optim
from minigrad.experiments import make_train_step
from minigrad.jit import NotCompilableError, jit
from minigrad.nn import functional as F

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}
# 24 optimizer steps amplify rounding (Adam divides by sqrt(v) of small gradients); a mask
# frozen at its traced draw, or drawn out of order, moves the losses by O(0.1).
TRAJECTORY_TOL = {np.float32: dict(rtol=1e-3, atol=1e-4), np.float64: dict(rtol=1e-6, atol=1e-9)}


def _dropout_reference(x: np.ndarray, p: float, generator: np.random.Generator) -> np.ndarray:
    """x * ([u >= p] / (1 - p)) with u drawn as dropout documents (float64, one call): the
    mask in x's dtype first, as eager dropout has always computed it."""
    keep = (generator.random(x.shape) >= p).astype(x.dtype) / (1.0 - p)
    return x * keep.astype(x.dtype)


def _close(actual: np.ndarray, expected: np.ndarray, dtype: type) -> None:
    np.testing.assert_allclose(actual, expected, **TOL[dtype])


# ------------------------------------------------------------------ masks per call
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_call_draws_a_new_mask_matching_numpy(dtype) -> None:
    """Calls 1 (the trace), 2 and 3 each draw anew: equal to numpy's masks drawn in order
    from a generator seeded alike, and different from each other."""
    x = mg.tensor(np.random.default_rng(0).uniform(1.0, 2.0, (32, 48)).astype(dtype))
    compiled = jit(lambda t: F.dropout(t, 0.4))
    mg.manual_seed(11)
    outs = [compiled(x).numpy().copy() for _ in range(3)]
    assert compiled.trace_count == 1
    reference = np.random.default_rng(11)
    for out in outs:
        expected = _dropout_reference(x.numpy(), 0.4, reference)
        np.testing.assert_array_equal(out, expected)
    masks = [out != 0 for out in outs]
    assert not np.array_equal(masks[0], masks[1])
    assert not np.array_equal(masks[1], masks[2])
    assert 0.3 < 1 - masks[2].mean() < 0.5  # about p of the elements are dropped


def test_same_seed_same_results_and_stream_stays_in_step_with_eager() -> None:
    """Seeding again repeats the compiled results; after the calls the generator is where
    the eager calls would have left it."""
    x = mg.tensor(np.ones((16, 8), np.float64))
    compiled = jit(lambda t: F.dropout(t, 0.5) * 3.0)
    compiled(x)  # trace and compile with whatever the generator holds
    runs = []
    for _ in range(2):
        mg.manual_seed(42)
        runs.append([compiled(x).numpy().copy() for _ in range(4)])
        runs[-1].append(_state.rng().random(3))  # the stream position after the calls
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)
    mg.manual_seed(42)
    eager = [(F.dropout(x, 0.5) * 3.0).numpy() for _ in range(4)]
    for a, b in zip(runs[0][:4], eager, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(runs[0][4], _state.rng().random(3))


@pytest.mark.parametrize("dtype", DTYPES)
def test_gradient_follows_each_calls_mask(dtype) -> None:
    """d/dx sum(dropout(x) * w) = w * mask / (1 - p), with this call's mask."""
    rng = np.random.default_rng(3)
    x = mg.tensor(rng.standard_normal((8, 12)).astype(dtype), requires_grad=True)
    w = mg.tensor(rng.standard_normal((8, 12)).astype(dtype))

    def f(x, w):
        x.grad = None
        out = F.dropout(x, 0.25)
        (out * w).sum().backward()
        return out

    compiled = jit(f)
    mg.manual_seed(5)
    reference = np.random.default_rng(5)
    for _ in range(3):
        out = compiled(x, w).numpy()
        keep = reference.random(x.shape) >= 0.25
        _close(out, np.where(keep, x.numpy() / 0.75, 0), dtype)
        _close(x.grad.numpy(), np.where(keep, w.numpy() / 0.75, 0), dtype)


def test_two_dropouts_draw_in_trace_order() -> None:
    """Two draws of different shapes per call: each call draws them in the order eager does."""
    a = mg.tensor(np.ones((5, 7)))
    b = mg.tensor(np.ones(9))
    compiled = jit(lambda a, b: (F.dropout(a, 0.5), F.dropout(b, 0.2)))
    mg.manual_seed(9)
    reference = np.random.default_rng(9)
    for _ in range(3):
        out_a, out_b = compiled(a, b)
        np.testing.assert_array_equal(out_a.numpy(), _dropout_reference(a.numpy(), 0.5, reference))
        np.testing.assert_array_equal(out_b.numpy(), _dropout_reference(b.numpy(), 0.2, reference))


def test_unused_draw_is_still_drawn() -> None:
    """A dropout whose result is discarded still advances the generator, as in eager."""
    x = mg.tensor(np.ones((4, 4)))

    def f(x):
        F.dropout(x, 0.5)  # dead in the graph, not in the random stream
        return F.dropout(x, 0.5) + 1.0

    compiled = jit(f)
    mg.manual_seed(1)
    outs = [compiled(x).numpy().copy() for _ in range(2)]
    reference = np.random.default_rng(1)
    for out in outs:
        reference.random(x.shape)
        np.testing.assert_array_equal(out, _dropout_reference(x.numpy(), 0.5, reference) + 1.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rand_uniform_under_jit_matches_numpy(dtype) -> None:
    """rand_uniform(shape, dtype) repeats Generator.random(shape, dtype) at every call,
    0-d draws included."""
    x = mg.tensor(np.zeros((3, 5), dtype))
    compiled = jit(lambda x: (x + F.rand_uniform(x.shape, dtype), F.rand_uniform((), dtype)))
    mg.manual_seed(8)
    reference = np.random.default_rng(8)
    for _ in range(3):
        full, scalar = compiled(x)
        np.testing.assert_array_equal(full.numpy(), reference.random((3, 5), dtype=dtype))
        assert scalar.shape == ()
        np.testing.assert_array_equal(scalar.numpy(), reference.random((), dtype=dtype))


def test_rand_uniform_rejects_bad_input() -> None:
    with pytest.raises(TypeError, match="rand_uniform: dtype must be float32 or float64"):
        F.rand_uniform((2,), np.int64)
    with pytest.raises(ValueError, match="negative"):
        F.rand_uniform((2, -1))


# --------------------------------------------------------------- p = 0, p = 1, eval
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["p0", "p1", "eval"])
def test_no_draw_cases_under_jit(case, dtype) -> None:
    """p = 0 and eval mode pass x through, p = 1 zeroes it; none of them draws."""
    x = mg.tensor(np.random.default_rng(2).standard_normal((6, 4)).astype(dtype))
    layer = nn.Dropout(1.0 if case == "p1" else 0.0 if case == "p0" else 0.5)
    if case == "eval":
        layer.eval()
    compiled = jit(lambda t: layer(t) * 2.0)
    mg.manual_seed(4)
    for _ in range(2):
        out = compiled(x).numpy()
        expected = np.zeros_like(x.numpy()) if case == "p1" else x.numpy() * 2
        np.testing.assert_array_equal(out, expected)
        assert out.dtype == dtype
    np.testing.assert_array_equal(_state.rng().random(2), np.random.default_rng(4).random(2))


def test_mode_switch_keeps_the_stream_in_step_with_eager() -> None:
    """train, eval, train: the eval call misses the training entry's guard (and draws
    nothing there), so every output equals the eager sequence."""
    x = mg.tensor(np.ones((10, 3)))

    def run(fn):
        layer = nn.Dropout(0.5)
        mg.manual_seed(6)
        outs = []
        for mode in (True, False, True, True, False, True):
            layer.train(mode)
            outs.append(fn(layer, x).numpy().copy())
        return outs

    compiled = jit(lambda layer, t: layer(t) + 0.0)
    for a, b in zip(run(compiled), run(lambda layer, t: layer(t) + 0.0), strict=True):
        np.testing.assert_array_equal(a, b)
    assert compiled.trace_count == 2


def test_generic_call_path_draws_too() -> None:
    """While an assign hook listens, compiled entries run through prepare/run instead of
    the generated call: the draws are made there alike."""
    x = mg.tensor(np.ones((6, 5)))
    compiled = jit(lambda t: F.dropout(t, 0.5))
    compiled(x)
    mg.manual_seed(13)
    _state.STATE.assign_hooks.append(lambda target, value: None)
    try:
        outs = [compiled(x).numpy().copy() for _ in range(2)]
    finally:
        _state.STATE.assign_hooks.pop()
    reference = np.random.default_rng(13)
    for out in outs:
        np.testing.assert_array_equal(out, _dropout_reference(x.numpy(), 0.5, reference))


def test_source_marks_the_random_input() -> None:
    compiled = jit(lambda t: F.dropout(t, 0.5))
    compiled(mg.tensor(np.ones((2, 2))))
    assert "drawn anew at every call" in compiled.source


# ------------------------------------------------------------ training trajectories
def _mlp_run(dtype, optimizer: str, compiled: bool, steps: int = 24) -> list[np.ndarray]:
    """Losses and final parameters of a seeded MLP with Dropout and BatchNorm1d."""
    mg.manual_seed(123)
    model = nn.Sequential(nn.Linear(3, 16, dtype=dtype), nn.BatchNorm1d(16, dtype=dtype),
                          nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 16, dtype=dtype),
                          nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 2, dtype=dtype))
    opt = (optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer == "sgd"
           else optim.Adam(model.parameters(), lr=0.01))
    step = make_train_step(model, opt, nn.CrossEntropyLoss())
    run = jit(step) if compiled else step
    data = np.random.default_rng(0)
    x = mg.tensor(data.standard_normal((32, 3)).astype(dtype))
    y = mg.tensor((x.numpy()[:, 0] * x.numpy()[:, 1] > 0).astype(np.int64))
    mg.manual_seed(7)
    losses = [run(x, y).numpy().copy() for _ in range(steps)]
    if compiled:
        assert run.trace_count == 1  # the step clears .grad itself: one trace
    return [np.array(losses), *(p.numpy().copy() for p in model.parameters()),
            model[1].running_mean.numpy().copy()]


@pytest.mark.parametrize(("dtype", "optimizer"), [(np.float32, "sgd"), (np.float64, "adam")])
def test_training_with_dropout_follows_eager(dtype, optimizer) -> None:
    eager = _mlp_run(dtype, optimizer, compiled=False)
    compiled = _mlp_run(dtype, optimizer, compiled=True)
    for a, b in zip(compiled, eager, strict=True):
        np.testing.assert_allclose(a, b, **TRAJECTORY_TOL[dtype])
    assert eager[0][-1] < eager[0][0]  # it trains


# ------------------------------------------------------------------------ refusals
def test_raw_draw_while_tracing_is_refused() -> None:
    """A mask made in numpy from rng() would be frozen into the kernel: refused."""
    def f(x):
        return x * mg.Tensor(_state.rng().random(x.shape) > 0.5)

    with pytest.raises(NotCompilableError, match=r"random numbers were drawn .*rng\(\)"):
        jit(f)(mg.tensor(np.ones(4)))


def test_other_threads_draw_normally_while_a_trace_runs() -> None:
    """_state.rng is shared by all threads: a draw from another thread during a trace is
    neither refused nor recorded into that trace."""
    import threading

    seen: dict[str, object] = {}
    x = mg.tensor(np.ones((4, 3)))

    def other() -> None:
        seen["raw"] = _state.rng().random(2)
        seen["uniform"] = F.rand_uniform((5,))

    def f(t):
        worker = threading.Thread(target=other)
        worker.start()
        worker.join()
        return F.dropout(t, 0.5)

    compiled = jit(f)
    compiled(x)
    assert seen["raw"].shape == (2,) and seen["uniform"].shape == (5,)
    assert compiled.last.draws == [((4, 3), np.dtype(np.float64))]


def test_generator_is_restored_after_a_refused_trace() -> None:
    """After the refusal, eager code draws from mg.manual_seed's generator again."""
    def f(x):
        return x * float(_state.rng().random())

    with pytest.raises(NotCompilableError, match="random numbers were drawn"):
        jit(f)(mg.tensor(np.ones(3)))
    mg.manual_seed(0)
    x = np.ones(6)
    np.testing.assert_array_equal(F.dropout(mg.tensor(x), 0.5).numpy(),
                                  _dropout_reference(x, 0.5, np.random.default_rng(0)))


def test_a_layer_initialised_while_tracing_is_refused() -> None:
    """nn.Linear drawn inside the traced function: its initial weights would be frozen
    into every compiled call, so the trace refuses the draw (naming rng())."""
    def f(x):
        return mg.nn.Linear(3, 2)(x)

    with pytest.raises(NotCompilableError, match=r"random numbers were drawn .*rng\(\)"):
        jit(f)(mg.tensor(np.ones((4, 3))))

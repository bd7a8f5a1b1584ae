"""Wrong answers found by running peer suites (HIPS autograd's numpy tests, through a name
adapter) against minigrad, each checked against PyTorch 2.13 (live when importable, and the
values it gives written out) or numpy:

- ``linspace(a, b, 1)`` gave [b]; PyTorch gives [a].
- ``std`` where the spread is 0 had a NaN gradient (sqrt at 0); PyTorch's is 0.
- ``logaddexp(a, b)`` (and ``logaddexp2``) at a == b had second derivatives 0 (max and
  |a - b| have kinks there); PyTorch's d2/da2 is 1/4.
- ``np.split``, ``np.repeat``, ``np.pad`` on a Tensor ran PyTorch's namesakes, which mean
  something else (sizes vs split points, tiling vs repeating elements, last dim first).
- ``np.nonzero`` on a Tensor gave PyTorch's (count, ndim) tensor, not numpy's tuple of
  index arrays (found by a sweep of numpy functions on tensors against numpy).
- ``logit``'s gradient at p = 0 and p = 1 was NaN (the chain rule of log(p / (1 - p)) meets
  inf * 0 there); PyTorch's is inf (found by a sweep of the unary functions on edge values
  against PyTorch).
- ``atan2``'s gradient at the origin was NaN (0/0); PyTorch's is 0. ``hypot(inf, nan)`` was
  NaN; PyTorch's (and C's) is inf. Found by a sweep of the binary functions on 169 pairs of
  edge values against PyTorch (values and gradients now all equal).
- numpy's conversion of a tensor that requires grad (``np.r_[t]``, ``np.mean([t, t + 2])``,
  ``np.linalg.norm([t, u])``) gave plain arrays: gradients silently 0. Refused now, as
  PyTorch's ``__array__`` does.
- ``min``/``amin``/``argmin``/``min(dim)``/``aminmax``/``cummin``/``np.min`` of an integer
  tensor holding the dtype's minimum gave 0 (min was -max(-x), and -(-2^31) overflows to
  -2^31 in int32); found by tinygrad's test_ops (test_min). ``np.min`` of uint8 was wrong too.
- ``flip`` and ``squeeze`` took a dim named twice (``x.flip((0, 0))``, ``x.flip((1, -1))``)
  and flipped or squeezed it once; PyTorch refuses (tinygrad's test_flip).
- circular ``pad`` with a negative amount wrapped around the uncropped dim (pad (1, -1) of
  [0 1 2 3 4] gave [4 0 1 2 3]); PyTorch crops first and wraps what is left: [3 0 1 2 3].
  Where PyTorch reads memory it never wrote (a left amount beyond what is left) minigrad
  refuses. Found by tinygrad's test_pad_circular_mode.
- ``linspace`` from 0-d tensors made a tensor holding a tensor (``np.linspace(t, 3.4, 5)``
  too); now the same formula in minigrad ops, so gradients reach start and end.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg

try:
    import torch
except ImportError:  # the written-out values below still run
    torch = None

live = pytest.mark.skipif(torch is None, reason="PyTorch not importable")


def test_linspace_with_one_step_is_its_start() -> None:
    assert mg.linspace(1.2, 3.4, 1).numpy().tolist() == [np.float32(1.2)]
    assert mg.linspace(5, 10, 1, dtype=mg.int32).numpy().tolist() == [5]
    assert mg.linspace(5.0, 10.0, 2).numpy().tolist() == [5.0, 10.0]


@live
def test_linspace_with_one_step_equals_pytorch() -> None:
    for start, end in [(1.2, 3.4), (-5.5, 5.5), (3.0, 3.0)]:
        want = torch.linspace(start, end, 1).numpy()
        np.testing.assert_array_equal(mg.linspace(start, end, 1).numpy(), want)


# x has no spread along dim 0 (one row), some along dim 1
X_FLAT = np.array([[1.0, 2.0, 3.0]])


def _std_grads(x: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """d sum(std(x, dim) * w) / dx and the derivative of that along v (order 2)."""
    t = mg.tensor(x, requires_grad=True)
    w = mg.tensor(np.arange(1.0, 1.0 + np.delete(x.shape, dim).prod()))
    (g,) = mg.grad((mg.std(t, dim=dim, correction=0) * w).sum(), [t], create_graph=True)
    (h,) = mg.grad((g * mg.tensor(np.full(x.shape, 0.5))).sum(), [t], allow_unused=True)
    return g.numpy(), (np.zeros(x.shape) if h is None else h.numpy())


def test_std_gradient_is_zero_where_the_spread_is_zero() -> None:
    g, h = _std_grads(X_FLAT, 0)
    np.testing.assert_array_equal(g, np.zeros((1, 3)))  # PyTorch 2.13: zeros, orders 1-2
    np.testing.assert_array_equal(h, np.zeros((1, 3)))
    assert mg.std(mg.tensor(X_FLAT), dim=0, correction=0).numpy().tolist() == [0.0, 0.0, 0.0]
    # along dim 1 nothing changed: sqrt(2/3) and (x - mean) / (N std)
    spread = mg.std(mg.tensor(X_FLAT), dim=1, correction=0)
    np.testing.assert_allclose(spread.numpy(), [np.sqrt(2 / 3)])
    g1, _ = _std_grads(X_FLAT, 1)
    np.testing.assert_allclose(g1, (X_FLAT - 2.0) / (3 * np.sqrt(2 / 3)), rtol=1e-14)


@live
@pytest.mark.parametrize("dim", [0, 1])
def test_std_gradients_equal_pytorch(dim: int) -> None:
    x = np.array([[1.0, 2.0, 3.0], [1.0, 5.0, 3.0]]) if dim == 0 else X_FLAT
    t = torch.tensor(x, requires_grad=True)
    w = torch.arange(1.0, 1.0 + np.delete(x.shape, dim).prod(), dtype=torch.float64)
    (g,) = torch.autograd.grad((torch.std(t, dim=dim, correction=0) * w).sum(), [t],
                               create_graph=True)
    (h,) = torch.autograd.grad((g * 0.5).sum(), [t])
    got_g, got_h = _std_grads(x, dim)
    np.testing.assert_allclose(got_g, g.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got_h, h.numpy(), rtol=1e-12, atol=1e-15)


def _logaddexp_grads(a: float, b: float, name: str = "logaddexp") -> list[float]:
    """[d/da, d/db, d2/da2, d2/dadb] of logaddexp (or logaddexp2) at (a, b)."""
    ta, tb = (mg.tensor(np.float64(v), requires_grad=True) for v in (a, b))
    ga, gb = mg.grad(getattr(mg, name)(ta, tb), [ta, tb], create_graph=True)
    haa, hab = mg.grad(ga, [ta, tb])
    return [ga.item(), gb.item(), haa.item(), hab.item()]


def test_logaddexp_second_derivative_at_a_tie() -> None:
    # PyTorch 2.13: [0.5, 0.5, 0.25, -0.25] (sigmoid(0) and its slope)
    assert _logaddexp_grads(0.4, 0.4) == [0.5, 0.5, 0.25, -0.25]
    assert mg.logaddexp(mg.tensor(0.4), mg.tensor(0.4)).item() == pytest.approx(
        0.4 + np.log(2.0), rel=1e-7)


def test_logaddexp_at_infinities_keeps_pytorchs_first_order() -> None:
    inf = float("inf")
    # PyTorch 2.13 (value, d/da, d/db)
    for a, b, value, ga, gb in [(inf, 1.0, inf, 1.0, 0.0), (1.0, inf, inf, 0.0, 1.0),
                                (-inf, 1.0, 1.0, 0.0, 1.0), (inf, -inf, inf, 1.0, 0.0)]:
        ta, tb = (mg.tensor(np.float64(v), requires_grad=True) for v in (a, b))
        out = mg.logaddexp(ta, tb)
        grads = [g.item() for g in mg.grad(out, [ta, tb])]
        assert (out.item(), *grads) == (value, ga, gb), (a, b)


@live
@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
@pytest.mark.parametrize(("a", "b"), [(0.4, 0.4), (-1.3, -1.3), (0.3, 1.1), (2.0, -0.5)])
def test_logaddexp_gradients_equal_pytorch(a: float, b: float, name: str) -> None:
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
    ga, gb = torch.autograd.grad(getattr(torch, name)(ta, tb), [ta, tb], create_graph=True)
    haa, hab = torch.autograd.grad(ga, [ta, tb])
    want = [ga.item(), gb.item(), haa.item(), hab.item()]
    np.testing.assert_allclose(_logaddexp_grads(a, b, name), want, rtol=1e-12, atol=1e-15)


V7 = np.linspace(-1.0, 2.0, 7)
M = np.arange(6.0).reshape(2, 3) / 4 - 0.3

# numpy calls on a Tensor: numpy's answer on the array is the expected one
NUMPY_MEANING = [
    ("split-points", lambda x: np.split(x, [3, 4])),
    ("split-sections", lambda x: np.split(x, 3, axis=1)),
    ("split-negative", lambda x: np.split(x, [1, -1], axis=-1)),
    ("repeat-flat", lambda x: np.repeat(x, 2)),
    ("repeat-axis", lambda x: np.repeat(x, [1, 3], axis=0)),
    ("pad-both-axes", lambda x: np.pad(x, (1, 2))),
    ("pad-pairs", lambda x: np.pad(x, ((1, 0), (2, 1)), constant_values=0.5)),
    ("pad-edge", lambda x: np.pad(x, 1, mode="edge")),
    ("pad-reflect", lambda x: np.pad(x, ((1, 1), (2, 2)), mode="reflect")),
    ("pad-wrap", lambda x: np.pad(x, ((1, 0), (2, 1)), mode="wrap")),
    ("nonzero", lambda x: list(np.nonzero(x > 0))),
    ("argwhere", lambda x: np.argwhere(x > 0)),
]


@pytest.mark.parametrize("call", [pytest.param(c, id=i) for i, c in NUMPY_MEANING])
def test_numpy_functions_keep_numpys_meaning_on_tensors(call) -> None:
    x0 = V7 if call is NUMPY_MEANING[0][1] else M
    got, want = call(mg.tensor(x0, requires_grad=True)), call(x0)
    got, want = (got, want) if isinstance(want, list) else ([got], [want])
    assert len(got) == len(want)
    for piece, expected in zip(got, want, strict=True):
        assert isinstance(piece, mg.Tensor)
        assert piece.requires_grad or piece.dtype == np.int64  # indices carry no gradient
        np.testing.assert_array_equal(piece.numpy(), expected)


@pytest.mark.parametrize("call", [
    lambda x: np.split(x, [1], axis=1)[1] * np.split(x, [1], axis=1)[1][:, :1],
    lambda x: np.repeat(x, [2, 1], axis=0) ** 2,
    lambda x: np.pad(x, ((1, 0), (0, 2)), mode="reflect") ** 2,
])
def test_gradients_through_numpys_meaning_match_finite_differences(call) -> None:
    assert mg.gradcheck(call, [M], order=2)


def test_numpy_split_into_unequal_sections_is_refused() -> None:
    with pytest.raises(ValueError, match="3 sections do not divide the length 7"):
        np.split(mg.tensor(V7), 3)


@pytest.mark.parametrize("call", [
    lambda t: np.r_[t, t],
    lambda t: np.c_[t, t],
    lambda t: np.mean([t, t + 2]),
    lambda t: np.linalg.norm([t, t * 2]),
    np.asarray,
])
def test_numpy_conversion_of_a_tensor_that_requires_grad_is_refused(call) -> None:
    t = mg.tensor(np.array([0.5, -1.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"requires grad \(shape \(2,\)\).*drop its graph"):
        call(t)
    np.testing.assert_array_equal(np.asarray(t.detach()), [0.5, -1.0])  # values: detach


@pytest.mark.parametrize("steps", [0, 1, 2, 5, 10])
def test_linspace_from_tensors_gives_the_numbers_values_and_gradients(steps: int) -> None:
    start = mg.tensor(np.float64(1.2), requires_grad=True)
    end = mg.tensor(np.float64(-3.4), requires_grad=True)
    got = mg.linspace(start, end, steps, dtype=mg.float64)
    np.testing.assert_array_equal(got.numpy(), mg.linspace(1.2, -3.4, steps,
                                                           dtype=mg.float64).numpy())
    if torch is not None:
        want = torch.linspace(1.2, -3.4, steps, dtype=torch.float64).numpy()
        np.testing.assert_array_equal(got.numpy(), want)
    if steps:
        # d sum / d start = sum of (1 - i / (n - 1)), d sum / d end = sum of i / (n - 1)
        weights = np.arange(steps) / max(steps - 1, 1) if steps > 1 else np.zeros(1)
        grads = mg.grad(got.sum(), [start, end])
        np.testing.assert_allclose([g.item() for g in grads],
                                   [np.sum(1 - weights), np.sum(weights)], rtol=1e-15)


def test_linspace_from_tensors_matches_finite_differences_to_order_two() -> None:
    assert mg.gradcheck(lambda a, b: mg.linspace(a, b, 5, dtype=mg.float64) ** 2,
                        [np.array(1.2), np.array(-0.4)], order=2)
    assert mg.linspace(mg.tensor(1.0), 5.0, 3, dtype=mg.int64).numpy().tolist() == [1, 3, 5]


INT_MIN_CASES = [  # (dtype, values): the dtype's minimum among others
    ("int32", [0, -2**31, 5, 2**31 - 1, -2**31]),
    ("int64", [0, -2**63, 5, 2**63 - 1]),
    ("int8", [3, -128, 127, -128]),
    ("uint8", [3, 0, 255, 7, 0]),
    ("bool", [True, False, True]),
]
MIN_CALLS = {
    "min": lambda x: x.min(),
    "amin": mg.amin,
    "argmin": lambda x: x.argmin(),
    "min-dim": lambda x: x.min(0)[0],
    "min-dim-index": lambda x: x.min(0)[1],
    "aminmax": lambda x: mg.aminmax(x)[0],
    "cummin": lambda x: mg.cummin(x, 0)[0],
    "cummin-index": lambda x: mg.cummin(x, 0)[1],
    "np.min": np.min,
}


@pytest.mark.parametrize("call", list(MIN_CALLS))
@pytest.mark.parametrize(("dtype", "values"), INT_MIN_CASES, ids=[c[0] for c in INT_MIN_CASES])
def test_min_of_integers_at_the_dtype_minimum(dtype: str, values: list, call: str) -> None:
    if dtype == "bool" and call in ("argmin", "aminmax", "cummin", "cummin-index"):
        pytest.skip("PyTorch 2.13 refuses bool here")
    got = MIN_CALLS[call](mg.tensor(values, dtype=dtype)).numpy()
    smallest = min(values)
    first = values.index(smallest)
    running = np.minimum.accumulate(np.array(values, dtype=dtype))
    expected = {"argmin": first, "min-dim-index": first, "cummin": running,
                "cummin-index": [max(i for i in range(k + 1) if values[i] == running[k])
                                 for k in range(len(values))]}.get(call, smallest)
    np.testing.assert_array_equal(got, np.asarray(expected))
    assert got.dtype == (np.int64 if "index" in call or call == "argmin"
                         else np.dtype(dtype))
    if torch is not None:
        tcall = {"amin": torch.amin, "aminmax": lambda t: torch.aminmax(t)[0],
                 "cummin": lambda t: torch.cummin(t, 0)[0],
                 "cummin-index": lambda t: torch.cummin(t, 0)[1],
                 "np.min": lambda t: t.min()}.get(call, MIN_CALLS[call])
        want = tcall(torch.tensor(values, dtype=getattr(torch, dtype)))
        np.testing.assert_array_equal(got, want.numpy())


@pytest.mark.parametrize("call", [
    lambda x: x.flip((0, 0)),
    lambda x: x.flip((1, -1)),
    lambda x: x.flip([0, 1, 0]),
    lambda x: x.reshape(1, 3, 4).squeeze((0, 0)),
    lambda x: x.reshape(1, 3, 4).squeeze((0, -3)),
])
def test_a_dim_named_twice_is_refused(call) -> None:
    x = mg.tensor(np.arange(12.0).reshape(3, 4))
    with pytest.raises(ValueError, match="appears more than once in dims"):
        call(x)
    if torch is not None:  # PyTorch 2.13 refuses these too
        with pytest.raises(RuntimeError):
            call(torch.arange(12.0).reshape(3, 4))


def test_flip_and_squeeze_of_distinct_dims_unchanged() -> None:
    x = np.arange(12.0).reshape(1, 3, 4)
    np.testing.assert_array_equal(mg.tensor(x).flip((0, 2)).numpy(), x[::-1, :, ::-1])
    assert mg.tensor(x).squeeze((0, 1)).shape == (3, 4)


# circular pads of [0 1 2 3 4] (rows of x below) with negative amounts: PyTorch 2.13's values
CIRCULAR = {
    (1, -1): [3, 0, 1, 2, 3],
    (2, -1): [2, 3, 0, 1, 2, 3],
    (-1, 2): [1, 2, 3, 4, 1, 2],
    (-2, 1): [2, 3, 4, 2],
    (1, -3): [1, 0, 1],
    (-3, 2): [3, 4, 3, 4],
    (-3, 3): [3, 4, 3, 4, 3],
    (-1, 5): [1, 2, 3, 4, 1, 2, 3, 4, 1],
    (3, -1): [1, 2, 3, 0, 1, 2, 3],
    (2, 2): [3, 4, 0, 1, 2, 3, 4, 0, 1],
}


@pytest.mark.parametrize("amounts", list(CIRCULAR))
def test_circular_pad_crops_first_then_wraps(amounts: tuple[int, int]) -> None:
    import minigrad.nn.functional as F

    x = np.arange(15.0).reshape(1, 3, 5) % 5
    got = F.pad(mg.tensor(x), amounts, mode="circular").numpy()
    np.testing.assert_array_equal(got[0], [CIRCULAR[amounts]] * 3)
    if torch is not None:
        want = torch.nn.functional.pad(torch.tensor(x), amounts, mode="circular").numpy()
        np.testing.assert_array_equal(got, want)


def test_circular_pad_refuses_what_pytorch_reads_from_unwritten_memory() -> None:
    import minigrad.nn.functional as F

    with pytest.raises(ValueError, match="circular padding \\(3, -3\\) of dim 2"):
        F.pad(mg.tensor(np.zeros((1, 3, 5))), (3, -3), mode="circular")
    assert F.pad(mg.tensor(np.zeros((1, 3, 5))), (-4, -1), mode="circular").shape == (1, 3, 0)
    assert mg.gradcheck(lambda a: F.pad(a, (1, -1, 2, -1), mode="circular") ** 2,
                        [np.linspace(-1.0, 1.0, 60).reshape(1, 3, 4, 5)], order=2)


LOGIT_AT = np.array([0.0, 1.0, 0.5, 0.25, 1e-300, 0.999, 1.5, -0.5])
# PyTorch 2.13's d/dp logit(p) there (inf at the ends, NaN outside [0, 1])
LOGIT_GRAD = [np.inf, np.inf, 4.0, 16.0 / 3.0, 1e300, 1.0 / (0.999 * 0.001), np.nan, np.nan]


def test_logit_gradient_at_zero_and_one_is_infinite() -> None:
    p = mg.tensor(LOGIT_AT, requires_grad=True)
    out = mg.logit(p)
    (grad,) = mg.grad(out.sum(), [p])
    np.testing.assert_allclose(grad.numpy(), LOGIT_GRAD, rtol=1e-12)
    assert out.numpy()[:2].tolist() == [-np.inf, np.inf]
    if torch is not None:
        t = torch.tensor(LOGIT_AT, requires_grad=True)
        (want,) = torch.autograd.grad(torch.logit(t).sum(), [t])
        np.testing.assert_allclose(grad.numpy(), want.numpy(), rtol=1e-12)
        np.testing.assert_allclose(out.numpy(), torch.logit(t).detach().numpy(), rtol=1e-15)


def test_atan2_gradient_at_the_origin_is_zero() -> None:
    a = mg.tensor(np.array([0.0, -0.0, 0.0, 1.0]), requires_grad=True)
    b = mg.tensor(np.array([0.0, 0.0, -0.0, 1.0]), requires_grad=True)
    ga, gb = mg.grad(mg.atan2(a, b).sum(), [a, b])
    # PyTorch 2.13: [0, 0, -0, 0.5] and [-0, 0, 0, -0.5]
    np.testing.assert_array_equal(ga.numpy(), [0.0, 0.0, -0.0, 0.5])
    np.testing.assert_array_equal(gb.numpy(), [-0.0, 0.0, 0.0, -0.5])
    assert mg.gradcheck(lambda x, y: mg.atan2(x, y) ** 2,
                        [np.array([0.3, -1.2, 2.0]), np.array([1.1, 0.4, -0.7])], order=2)


EDGES = [0.0, -0.0, 1.0, -2.5, np.inf, -np.inf, np.nan, 1e-8]


@live
@pytest.mark.parametrize("name", ["atan2", "hypot"])
def test_atan2_and_hypot_equal_pytorch_on_edge_pairs(name: str) -> None:
    first = np.repeat(EDGES, len(EDGES))
    second = np.tile(EDGES, len(EDGES))
    a, b = (mg.tensor(v.copy(), requires_grad=True) for v in (first, second))
    ta, tb = (torch.tensor(v.copy(), requires_grad=True) for v in (first, second))
    out, tout = getattr(mg, name)(a, b), getattr(torch, name)(ta, tb)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    grads = mg.grad(out.sum(), [a, b])
    tgrads = torch.autograd.grad(tout.sum(), [ta, tb])
    for got, want in zip(grads, tgrads, strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10)


def test_hypot_of_an_infinity_and_a_nan_is_infinite() -> None:
    got = mg.hypot(mg.tensor([np.inf, np.nan, -np.inf, 3.0]), mg.tensor([np.nan, np.inf, 1.0, 4.0]))
    assert got.numpy().tolist() == [np.inf, np.inf, np.inf, 5.0]


def test_sinc_derivatives_are_right_at_and_near_zero() -> None:
    """sinc(x) = sum_k (-1)^k (pi x)^2k / (2k+1)!: sinc'(x) = -pi^2 x/3 + pi^4 x^3/30 - ...,
    sinc''(0) = -pi^2/3 (PyTorch 2.13 gives NaN at 0 and 0 for sinc'(1e-9); minigrad gave 0
    for sinc''(0)). The references are the series, summed in the test to 12 terms."""
    x = np.array([0.0, 1e-9, 1e-4, 0.01, 0.049, 0.051])
    t = mg.tensor(x, requires_grad=True)
    (first,) = mg.grad(mg.sinc(t).sum(), [t], create_graph=True)
    (second,) = mg.grad(first.sum(), [t])
    k = np.arange(12)[:, None]
    factorials = np.array([float(math.factorial(2 * n + 1)) for n in range(12)])
    sign_over_factorial = (-1.0) ** k / factorials[:, None]
    px = np.pi * x[None, :]
    want_first = (sign_over_factorial * 2 * k * np.pi * np.where(
        k > 0, px ** np.maximum(2 * k - 1, 0), 0.0)).sum(0)
    want_second = (sign_over_factorial * 2 * k * (2 * k - 1) * np.pi ** 2 * np.where(
        k > 0, px ** np.maximum(2 * k - 2, 0), 0.0)).sum(0)
    np.testing.assert_allclose(first.numpy(), want_first, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(second.numpy(), want_second, rtol=1e-11)
    np.testing.assert_allclose(second.numpy()[0], -np.pi ** 2 / 3, rtol=1e-15)
    np.testing.assert_allclose(mg.sinc(t).numpy(), np.sinc(x), rtol=3e-16)

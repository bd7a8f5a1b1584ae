"""conv2d / conv1d: values and float64 gradients of orders 1 and 2 against PyTorch 2.13
(live), over a grid of stride, padding, dilation, groups and odd sizes; finite
differences through composed functions; clear errors naming shapes and dtypes."""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest

import minigrad as mg
from minigrad import conv

F = mg.nn.functional
torch = pytest.importorskip("torch")
TF = torch.nn.functional

TOL = {"rtol": 1e-10, "atol": 1e-10}

# (N, C, H, W, O, kernel, stride, padding, dilation, groups)
GRID = [
    (n, c, h, w, o, k, s, p, d, g)
    for (n, c, h, w, o, g), k, s, p, d in itertools.product(
        [(2, 2, 7, 6, 4, 1), (1, 4, 5, 8, 6, 2), (3, 3, 6, 5, 3, 3)],
        [1, 3, (2, 3)], [1, 2, (2, 1)], [0, 1, (1, 2), "valid", "same"], [1, 2])
    if not (p == "same" and s != 1)
    and all((size + 2 * pad - dd * (kk - 1) - 1) >= 0 for size, pad, dd, kk in zip(
        (h, w),
        (0, 0) if isinstance(p, str) else ((p, p) if isinstance(p, int) else p),
        (d, d), (k, k) if isinstance(k, int) else k, strict=True))
]
# a spread of the grid (every 5th case): the whole grid takes ~10x as long for little more
CASES = GRID[::5]


def _pair_of(value):
    return value if isinstance(value, tuple) else (value, value)


def _both(case, seed, bias=True):
    n, c, h, w, o, k, s, p, d, g = case
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((n, c, h, w)),
              rng.standard_normal((o, c // g, *_pair_of(k))), rng.standard_normal(o)]
    if not bias:
        arrays = arrays[:2]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs, dict(stride=s, padding=p, dilation=d, groups=g)


def test_grid_is_broad() -> None:
    assert len(GRID) > 150 and len(CASES) > 30
    assert {c[-1] for c in CASES} == {1, 2, 3} and {c[-2] for c in CASES} == {1, 2}


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv2d_values_and_gradients_match_torch(case) -> None:
    """Order 1 and order 2 (the Hessian-vector products of a tanh head) vs torch."""
    ours, theirs, kw = _both(case, seed=zlib.crc32(str(case).encode()))
    out = F.conv2d(*ours, **kw)
    ref = TF.conv2d(*theirs, **kw)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), **TOL)
    rng = np.random.default_rng(3)
    head = rng.standard_normal(out.shape)
    loss = mg.sum(mg.tanh(out) * mg.tensor(head))
    loss_t = (torch.tanh(ref) * torch.tensor(head)).sum()
    grads = mg.grad(loss, ours, create_graph=True)
    grads_t = torch.autograd.grad(loss_t, theirs, create_graph=True)
    for a, b in zip(grads, grads_t, strict=True):
        np.testing.assert_allclose(a.data, b.detach().numpy(), **TOL)
    probes = [rng.standard_normal(t.shape) for t in ours]
    second = mg.grad(mg.sum(mg.sum(grads[0] * mg.tensor(probes[0]))
                            + mg.sum(grads[1] * mg.tensor(probes[1]))
                            + mg.sum(grads[2] * mg.tensor(probes[2]))), ours)
    second_t = torch.autograd.grad(
        sum((gt * torch.tensor(v)).sum() for gt, v in zip(grads_t, probes, strict=True)),
        theirs)
    for a, b in zip(second, second_t, strict=True):
        np.testing.assert_allclose(a.data, b.numpy(), **TOL)


@pytest.mark.parametrize("case", CASES[::4], ids=str)
def test_conv2d_gradcheck_order_2(case) -> None:
    """Finite differences, independent of PyTorch (orders 1 and 2, through a square)."""
    _, _, kw = _both(case, seed=0)
    _, c, h, w, o, k, *_ = case
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((1, c, h, w)), rng.standard_normal((o, c // kw["groups"],
                                                                      *_pair_of(k)))]
    fn = lambda x, wt: F.conv2d(x, wt, **kw) ** 2  # noqa: E731
    assert mg.gradcheck(fn, arrays, order=1)
    assert mg.gradcheck(fn, arrays, order=2, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize(("stride", "padding", "dilation", "groups"),
                         [(1, 0, 1, 1), (2, 1, 1, 2), (1, "same", 3, 1), (3, "valid", 2, 2),
                          ((2,), (2,), (1,), 1)])
def test_conv1d_matches_torch(stride, padding, dilation, groups) -> None:
    rng = np.random.default_rng(11)
    arrays = [rng.standard_normal((2, 4, 11)), rng.standard_normal((6, 4 // groups, 3)),
              rng.standard_normal(6)]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    out, ref = F.conv1d(*ours, **kw), TF.conv1d(*theirs, **kw)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), **TOL)
    head = rng.standard_normal(out.shape)
    mg.sum(mg.tanh(out) * mg.tensor(head)).backward()
    (torch.tanh(ref) * torch.tensor(head)).sum().backward()
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), **TOL)


def test_float32_stays_float32_and_matches_torch() -> None:
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 9, 9)), rng.standard_normal((4, 3, 3, 3))
    out = F.conv2d(mg.tensor(x, dtype="float32"), mg.tensor(w, dtype="float32"), stride=2)
    ref = TF.conv2d(torch.tensor(x, dtype=torch.float32), torch.tensor(w, dtype=torch.float32),
                    stride=2)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, ref.numpy(), rtol=1e-5, atol=1e-5)


def test_same_padding_of_an_even_kernel_pads_after() -> None:
    """PyTorch puts the odd zero after: total d (k - 1) = 3 -> 1 before, 2 after."""
    assert conv.conv_padding("same", (4, 2), (1, 1), (1, 3)) == ((1, 2), (1, 2))


# ------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("x", "w", "kw", "error", "match"), [
    ((2, 3, 5, 5), (4, 2, 3, 3), {}, ValueError, r"expects 2 input channels.*\(2, 3, 5, 5\)"),
    ((2, 4, 5, 5), (3, 2, 3, 3), {"groups": 2}, ValueError, r"groups=2 must divide.*\(3\)"),
    ((1, 1, 2, 2), (1, 1, 3, 3), {}, ValueError, r"\(1, 1, 2, 2\) padded to \(2, 2\).*\(3, 3\)"),
    ((1, 5), (1, 1, 3, 3), {}, ValueError, r"input \(1, 5\) and weight \(1, 1, 3, 3\)"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"padding": "same", "stride": 2}, ValueError, "strided"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"padding": "full"}, ValueError, "'full'"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"stride": 0}, ValueError, "stride must be >= 1"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"padding": -1}, ValueError, "padding must be >= 0"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"dilation": (1, 2, 3)}, ValueError, "pair of ints"),
])
def test_bad_arguments_name_shapes(x, w, kw, error, match) -> None:
    with pytest.raises(error, match=match):
        F.conv2d(mg.tensor(np.ones(x)), mg.tensor(np.ones(w)), **kw)


def test_dtype_mismatch_and_bias_shape_are_refused() -> None:
    x = mg.tensor(np.ones((1, 2, 4, 4)), dtype="float32")
    w = mg.tensor(np.ones((3, 2, 3, 3)), dtype="float64")
    with pytest.raises(TypeError, match="float32, float64"):
        F.conv2d(x, w)
    with pytest.raises(TypeError, match="floating"):
        F.conv2d(mg.tensor(np.ones((1, 2, 4, 4), dtype=np.int64)),
                 mg.tensor(np.ones((3, 2, 3, 3), dtype=np.int64)))
    with pytest.raises(ValueError, match=r"bias of shape \(2,\) does not fit 3"):
        F.conv2d(mg.tensor(np.ones((1, 2, 4, 4))), mg.tensor(np.ones((3, 2, 3, 3))),
                 mg.tensor(np.ones(2)))


def test_vjp_rows_check_their_gradient_shape() -> None:
    attrs = dict(stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1)
    with pytest.raises(ValueError, match=r"gradient \(1, 2, 4, 4\) does not fit.*\(1, 2, 3, 3\)"):
        conv.conv2d_input_grad(mg.tensor(np.ones((1, 2, 4, 4))),
                               mg.tensor(np.ones((2, 1, 3, 3))), (5, 5), **attrs)
    with pytest.raises(ValueError, match=r"gradient \(1, 2, 4, 4\) does not fit"):
        conv.conv2d_weight_grad(mg.tensor(np.ones((1, 1, 5, 5))),
                                mg.tensor(np.ones((1, 2, 4, 4))), (3, 3), **attrs)

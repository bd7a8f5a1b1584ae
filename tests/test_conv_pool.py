"""max_pool2d, avg_pool2d, adaptive_avg_pool2d: values, indices and float64 gradients of
orders 1 and 2 against PyTorch 2.13 (live), ties and padding as PyTorch, errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

F = mg.nn.functional
torch = pytest.importorskip("torch")
TF = torch.nn.functional

TOL = {"rtol": 1e-10, "atol": 1e-12}


def _check_against_torch(ours_fn, torch_fn, x: np.ndarray, seed: int = 0) -> None:
    """Values, then gradients of sum(tanh(out) * head) of order 1 and 2 (a Hessian-vector
    product with a random probe), ours against torch's."""
    ours = mg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out, ref = ours_fn(ours), torch_fn(theirs)
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), **TOL)
    rng = np.random.default_rng(seed)
    head, probe = rng.standard_normal(out.shape), rng.standard_normal(x.shape)
    (grad,) = mg.grad(mg.sum(mg.tanh(out) * mg.tensor(head)), [ours], create_graph=True)
    (grad_t,) = torch.autograd.grad((torch.tanh(ref) * torch.tensor(head)).sum(), [theirs],
                                    create_graph=True)
    np.testing.assert_allclose(grad.data, grad_t.detach().numpy(), **TOL)
    (second,) = mg.grad(mg.sum(grad * mg.tensor(probe)), [ours])
    (second_t,) = torch.autograd.grad((grad_t * torch.tensor(probe)).sum(), [theirs])
    np.testing.assert_allclose(second.data, second_t.numpy(), **TOL)


MAX_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0)),
    dict(kernel_size=3, stride=2, padding=1, dilation=2),
    dict(kernel_size=2, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=(3, 1), dilation=(1, 2), ceil_mode=True),
]


@pytest.mark.parametrize("kw", MAX_CASES, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 7, 6), (1, 2, 5, 9)], ids=str)
def test_max_pool2d_matches_torch(kw, shape) -> None:
    x = np.random.default_rng(sum(shape)).permutation(np.prod(shape)).reshape(shape) * 0.1
    _check_against_torch(lambda t: F.max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw), x)
    _, index = F.max_pool2d(mg.tensor(x), **kw, return_indices=True)
    _, index_t = TF.max_pool2d(torch.tensor(x), **kw, return_indices=True)
    np.testing.assert_array_equal(index.data, index_t.numpy())


@pytest.mark.parametrize("kw", MAX_CASES, ids=str)
def test_max_pool2d_ties_infinities_and_nans_as_torch(kw) -> None:
    """Windows of equal values give their gradient to one element, PyTorch's (the first
    maximum); an all -inf window picks its first element inside the input; NaN the last."""
    rng = np.random.default_rng(4)
    x = rng.integers(0, 2, (2, 3, 7, 6)).astype(np.float64)
    x[0, 0] = 1.0
    x[0, 1, :4, :4] = -np.inf
    x[1, 2, 2, 2:4] = np.nan
    out, index = F.max_pool2d(mg.tensor(x), **kw, return_indices=True)
    ref, index_t = TF.max_pool2d(torch.tensor(x), **kw, return_indices=True)
    np.testing.assert_array_equal(index.data, index_t.numpy())
    np.testing.assert_array_equal(out.data, ref.numpy())
    ours = mg.tensor(np.nan_to_num(x, nan=0.5, neginf=-3.0), requires_grad=True)
    theirs = torch.tensor(ours.data, requires_grad=True)
    mg.sum(F.max_pool2d(ours, **kw) * 1.0).backward()
    TF.max_pool2d(theirs, **kw).sum().backward()
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())


AVG_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, stride=1, divisor_override=3),
]


@pytest.mark.parametrize("kw", AVG_CASES, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 7, 6), (1, 2, 5, 8)], ids=str)
def test_avg_pool2d_matches_torch(kw, shape) -> None:
    x = np.random.default_rng(sum(shape)).standard_normal(shape)
    _check_against_torch(lambda t: F.avg_pool2d(t, **kw), lambda t: TF.avg_pool2d(t, **kw), x)


@pytest.mark.parametrize("size", [1, 3, (2, 4), (None, 3), (7, 5), (4, None)], ids=str)
def test_adaptive_avg_pool2d_matches_torch(size) -> None:
    x = np.random.default_rng(8).standard_normal((2, 3, 7, 6))
    _check_against_torch(lambda t: F.adaptive_avg_pool2d(t, size),
                         lambda t: TF.adaptive_avg_pool2d(t, size), x)


def test_pool_gradcheck_order_2() -> None:
    """Finite differences, independent of PyTorch (distinct values: no ties nearby)."""
    rng = np.random.default_rng(9)
    x = [rng.permutation(2 * 5 * 6).reshape(1, 2, 5, 6) * 0.1]
    for fn in (lambda t: F.max_pool2d(t, 3, 2, 1, ceil_mode=True) ** 2,
               lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False) ** 2,
               lambda t: F.adaptive_avg_pool2d(t, (3, 4)) ** 2):
        assert mg.gradcheck(fn, x, order=1)
        assert mg.gradcheck(fn, x, order=2, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda x: F.max_pool2d(x, 2, padding=2), ValueError, r"padding \(2, 2\) must be at most"),
    (lambda x: F.max_pool2d(x, 9), ValueError, r"input size 5 with padding 0 is smaller"),
    (lambda x: F.max_pool2d(x[0, 0], 2), ValueError, r"\(C, H, W\), got shape \(5, 6\)"),
    (lambda x: F.avg_pool2d(x, 0), ValueError, "kernel_size must be >= 1"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=0), ValueError, "divisor_override"),
    (lambda x: F.adaptive_avg_pool2d(x, 0), ValueError, "must be positive"),
    (lambda x: F.avg_pool2d(mg.tensor(np.ones((1, 1, 4, 4), dtype=np.int64)), 2), TypeError,
     "floating point, got dtype int64"),
    (lambda x: F.max_pool2d(mg.tensor(np.ones((1, 1, 4, 4), dtype=bool)), 2), TypeError,
     "floating point or integer, got dtype bool"),
])
def test_pool_errors(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call(mg.tensor(np.ones((1, 2, 5, 6))))

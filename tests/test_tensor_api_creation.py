"""Constructors and dtype objects (issue 15 §2) against PyTorch 2.13 (live): values, shapes,
dtypes; random draws reproducible under mg.manual_seed; errors that name the bad input."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


def _same(got: mg.Tensor, want) -> None:
    """Same dtype (by name), shape and values as the torch tensor ``want``: integers exactly,
    floats to 2 ulps of the largest value (ranges computed start + i * step may round the
    last bit differently)."""
    assert str(want.dtype) == f"torch.{got.dtype.name}", (got.dtype, want.dtype)
    assert got.shape == tuple(want.shape)
    if got.dtype.kind != "f" or got.numpy().size == 0:
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        return
    scale = np.abs(want.numpy()).max()
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0,
                               atol=2 * np.finfo(got.dtype).eps * scale)


@pytest.mark.parametrize("name", ["float16", "float32", "float64", "int8", "int16", "int32",
                                  "int64", "uint8", "bool", "half", "float", "double",
                                  "short", "int", "long"])
def test_dtype_objects_are_pytorchs(name) -> None:
    dtype = getattr(mg, name)
    assert str(getattr(torch, name)) == f"torch.{dtype.name}"
    t = mg.tensor([1, 0], dtype=dtype)
    assert t.dtype == dtype and mg.zeros(2, dtype=dtype).dtype == dtype


@pytest.mark.parametrize(("make", "reference"), [
    (lambda m: m.zeros(2, 3), None),
    (lambda m: m.zeros((2, 3), dtype=m.int64), None),
    (lambda m: m.ones([4]), None),
    (lambda m: m.ones(2, 0, dtype=m.bool), None),
    (lambda m: m.full((2, 2), 7), None),
    (lambda m: m.full((2,), 2.5), None),
    (lambda m: m.full((3,), True), None),
    (lambda m: m.full((2,), 1, dtype=m.float64), None),
    (lambda m: m.zeros(()), None),
    (lambda m: m.eye(3), None),
    (lambda m: m.eye(2, 4, dtype=m.int32), None),
    (lambda m: m.arange(5), None),
    (lambda m: m.arange(2, 11, 3), None),
    (lambda m: m.arange(5, -3, -2), None),
    (lambda m: m.arange(0.0, 1.0, 0.1), None),
    (lambda m: m.arange(1, 2.5, 0.5), None),
    (lambda m: m.arange(-1, 1, 0.3, dtype=m.float64), None),
    (lambda m: m.arange(0, 10, 3, dtype=m.float32), None),
    (lambda m: m.arange(3, 3), None),
    (lambda m: m.linspace(0, 1, 5), None),
    (lambda m: m.linspace(-2.5, 7.1, 13), None),
    (lambda m: m.linspace(-2.5, 7.1, 13, dtype=m.float64), None),
    (lambda m: m.linspace(3, 3, 1), None),
    (lambda m: m.linspace(0, 1, 0), None),
], ids=lambda v: "")
def test_constructor_matches_torch(make, reference) -> None:
    _same(make(mg), make(torch))


@pytest.mark.parametrize("fn", ["zeros_like", "ones_like", "empty_like"])
@pytest.mark.parametrize("dtype", [None, "int64", "float64"])
def test_like_keeps_shape_and_dtype(fn, dtype) -> None:
    base = np.arange(6, dtype=np.float32).reshape(2, 3)
    got = getattr(mg, fn)(mg.tensor(base), dtype=None if dtype is None else getattr(mg, dtype))
    want = getattr(torch, fn)(torch.tensor(base),
                              dtype=None if dtype is None else getattr(torch, dtype))
    assert got.shape == tuple(want.shape) and str(want.dtype) == f"torch.{got.dtype.name}"
    if fn != "empty_like":
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    full = mg.full_like(mg.tensor(base), 4)
    _same(full, torch.full_like(torch.tensor(base), 4))


def test_requires_grad_keyword() -> None:
    for t in (mg.zeros(2, requires_grad=True), mg.randn(2, requires_grad=True),
              mg.arange(0.0, 3.0, requires_grad=True), mg.eye(2, requires_grad=True),
              mg.linspace(0, 1, 3, requires_grad=True), mg.rand(2, requires_grad=True)):
        assert t.requires_grad and t.is_leaf
        (t * t).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), 2 * t.numpy())
    with pytest.raises(TypeError, match="only floating-point tensors can require grad, got "
                                        "dtype int64"):
        mg.zeros(2, dtype=mg.int64, requires_grad=True)


def test_random_draws_follow_manual_seed() -> None:
    draws = []
    for _ in range(2):
        mg.manual_seed(123)
        draws.append([mg.randn(3, 2), mg.rand(4), mg.randint(0, 5, (6,)), mg.randperm(7),
                      mg.normal(2.0, 0.5, (3,)), mg.randn_like(mg.zeros(2, dtype=mg.float64))])
    for first, second in zip(*draws, strict=True):
        np.testing.assert_array_equal(first.numpy(), second.numpy())
    mg.manual_seed(124)
    assert not np.array_equal(mg.randn(3, 2).numpy(), draws[0][0].numpy())


def test_random_ranges_and_dtypes() -> None:
    mg.manual_seed(5)
    u = mg.rand(2000)
    assert u.dtype == mg.float32 and 0 <= u.numpy().min() and u.numpy().max() < 1
    assert abs(u.numpy().mean() - 0.5) < 0.03  # 0.5 +- 6 standard errors of 0.0065
    z = mg.randn(2000, dtype=mg.float64)
    assert z.dtype == mg.float64 and abs(z.numpy().mean()) < 0.14 and 0.9 < z.numpy().std() < 1.1
    k = mg.randint(3, 9, (500,))
    assert k.dtype == mg.int64 and set(k.numpy().tolist()) == set(range(3, 9))
    assert mg.randint(4, (2, 3)).shape == (2, 3)
    perm = mg.randperm(10)
    assert perm.dtype == mg.int64 and sorted(perm.tolist()) == list(range(10))
    n = mg.normal(mg.tensor([0.0, 100.0]), mg.tensor([1e-3, 1e-3]))
    assert n.dtype == mg.float32 and abs(n.numpy() - [0, 100]).max() < 0.01
    assert mg.rand(2, 3, dtype=mg.float16).dtype == mg.float16


def test_from_numpy_and_as_tensor_share() -> None:
    array = np.arange(4.0)
    t = mg.from_numpy(array)
    assert t.dtype == mg.float64 and np.shares_memory(t.numpy(), array)
    assert np.shares_memory(mg.as_tensor(array).numpy(), array)
    assert mg.as_tensor(t) is t
    assert mg.as_tensor(t, dtype=mg.float32).dtype == mg.float32
    assert mg.as_tensor([1.5, 2]).dtype == mg.float32  # Python floats: the default dtype
    assert mg.as_tensor([1, 2]).dtype == mg.int64
    assert not np.shares_memory(mg.as_tensor(array, dtype=mg.float32).numpy(), array)


def test_as_tensor_cast_is_differentiable() -> None:
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    (mg.as_tensor(x, mg.float32) * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: mg.zeros(2, -1), ValueError, r"zeros: sizes must not be negative, got \(2, -1\)"),
    (lambda: mg.ones(2.5), TypeError, r"ones: sizes must be integers, got 2.5"),
    (lambda: mg.randn(2, dtype=mg.int64), TypeError, "randn: dtype must be a float dtype, got "
                                                     "int64"),
    (lambda: mg.randint(5, 5, (2,)), ValueError, "randint: needs low < high, got low=5, high=5"),
    (lambda: mg.randperm(-1), ValueError, "randperm: n must be a non-negative integer, got -1"),
    (lambda: mg.arange(0, 5, 0), ValueError, "arange: step must be nonzero"),
    (lambda: mg.arange(0, 5, -1), ValueError, "wrong sign of step"),
    (lambda: mg.linspace(0, 1, -2), ValueError, "linspace: steps must be a non-negative"),
    (lambda: mg.from_numpy([1, 2]), TypeError, "from_numpy: expected a numpy.ndarray, got list"),
    (lambda: mg.from_numpy(np.array(["a"])), TypeError, "unsupported dtype <U1"),
    (lambda: mg.normal(0.0, -1.0, (2,)), ValueError, "normal: std must be >= 0, got -1.0"),
    (lambda: mg.zeros(2, dtype="complex64"), TypeError, "unsupported dtype complex64"),
])
def test_bad_arguments_are_named(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()


def test_rand_under_jit_draws_like_eager() -> None:
    """mg.rand inside a jitted function is a draw made anew at each call (not frozen)."""
    fn = mg.jit(lambda x: x * mg.rand(3))
    x = mg.ones(3)
    mg.manual_seed(9)
    eager = [x * mg.rand(3) for _ in range(2)]
    mg.manual_seed(9)
    compiled = [fn(x) for _ in range(2)]
    for e, c in zip(eager, compiled, strict=True):
        np.testing.assert_array_equal(e.numpy(), c.numpy())
    assert not np.array_equal(compiled[0].numpy(), compiled[1].numpy())

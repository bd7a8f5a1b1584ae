"""numpy.linalg's functions called on minigrad tensors (numpy's dispatch to
minigrad/numpy_linalg.py): numpy's values, shapes and rules, and gradients against finite
differences of the function numpy computes (order 2)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg

rng = np.random.default_rng(7)
SQUARE = rng.standard_normal((2, 3, 3)) + 2.5 * np.eye(3)
ASYM = rng.standard_normal((2, 4, 4))  # not symmetric: eigh and cholesky read one triangle
TALL = rng.standard_normal((5, 3))
REAL_EIG = np.diag([1.0, 2.0, 3.5, -1.0]) + 0.2 * rng.standard_normal((2, 4, 4))  # real, distinct

VALUE_CASES = {
    "inv": (np.linalg.inv, [SQUARE]),
    "det": (np.linalg.det, [SQUARE]),
    "slogdet": (lambda a: np.linalg.slogdet(a).logabsdet, [-SQUARE]),
    "slogdet-sign": (lambda a: np.linalg.slogdet(a)[0], [-SQUARE]),
    "solve-vector": (lambda a: np.linalg.solve(a, TALL[:3, 0]), [SQUARE]),
    "solve-matrix": (lambda a: np.linalg.solve(a, TALL[:3, :]), [SQUARE]),
    "solve-batched": (lambda b: np.linalg.solve(SQUARE, b), [rng.standard_normal((2, 3, 4))]),
    "cholesky": (np.linalg.cholesky, [ASYM @ ASYM.swapaxes(-1, -2) + np.eye(4)]),
    "cholesky-upper": (lambda a: np.linalg.cholesky(a, upper=True),
                       [ASYM @ ASYM.swapaxes(-1, -2) + np.eye(4)]),
    "eigh-values": (lambda a: np.linalg.eigh(a).eigenvalues, [ASYM]),
    "eigh-vectors-U": (lambda a: np.linalg.eigh(a, "U")[1], [ASYM]),
    "eigvalsh": (np.linalg.eigvalsh, [ASYM]),
    "svd-U": (lambda a: np.linalg.svd(a, full_matrices=False)[0], [TALL]),
    "svd-Vh": (lambda a: np.linalg.svd(a, full_matrices=False).Vh, [TALL.T.copy()]),
    "svd-S": (lambda a: np.linalg.svd(a, compute_uv=False), [TALL]),
    "svdvals": (np.linalg.svdvals, [TALL]),
    "pinv": (np.linalg.pinv, [TALL]),
    "pinv-rtol": (lambda a: np.linalg.pinv(a, rtol=0.3), [TALL]),
    "matrix_power-3": (lambda a: np.linalg.matrix_power(a, 3), [SQUARE]),
    "matrix_power--2": (lambda a: np.linalg.matrix_power(a, -2), [SQUARE]),
    "multi_dot": (lambda a: np.linalg.multi_dot([TALL, a, TALL.T]), [SQUARE[0]]),
    "matrix_transpose": (np.linalg.matrix_transpose, [SQUARE]),
    "eig-values": (lambda a: np.linalg.eig(a).eigenvalues, [REAL_EIG]),
    "eig-vectors": (lambda a: np.linalg.eig(a)[1], [REAL_EIG]),
    "eigvals": (np.linalg.eigvals, [REAL_EIG]),
    "cond": (np.linalg.cond, [SQUARE]),
    "cond-fro": (lambda a: np.linalg.cond(a, "fro"), [SQUARE]),
    "vecdot": (lambda a: np.linalg.vecdot(a, SQUARE[::-1], axis=1), [SQUARE]),
    "dot-nd": (lambda a: np.dot(a, np.ones((2, 3, 4))), [SQUARE]),
    "dot-matrix-vector": (lambda a: np.dot(a, TALL[:3, 0]), [SQUARE[0]]),
}


@pytest.mark.parametrize("name", VALUE_CASES)
def test_values_are_numpys(name) -> None:
    fn, arrays = VALUE_CASES[name]
    got = fn(*[mg.tensor(a) for a in arrays])
    want = fn(*arrays)
    assert isinstance(got, mg.Tensor)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)


# pinv's gradient (PyTorch's formula) is that of a rank that stays put: with rtol dropping
# a nonzero singular value (pinv-rtol) it is not the derivative of the truncated function,
# in PyTorch either (torch.autograd.gradcheck fails on the same input)
GRADIENT_CASES = [name for name in VALUE_CASES if name not in ("slogdet-sign", "pinv-rtol")]


@pytest.mark.parametrize("name", GRADIENT_CASES)
def test_gradients_to_second_order_match_finite_differences(name) -> None:
    """eigh / eigvalsh / cholesky of a non-symmetric input: the gradient of numpy's
    function, which reads one triangle (mg.linalg's, PyTorch's, would fail here)."""
    fn, arrays = VALUE_CASES[name]
    assert mg.gradcheck(fn, arrays, order=2)


def test_pytorchs_symmetric_eigh_gradient_is_not_numpys() -> None:
    """The check above can fail: mg.linalg.eigh's gradient assumes a symmetric input."""
    with pytest.raises(AssertionError):
        mg.gradcheck(mg.linalg.eigvalsh, [ASYM], order=1)


@pytest.mark.parametrize(("order", "axis"), [
    (None, None), (None, 1), (2, 0), (3, 1), (0.5, 1), (1, 1), (-math.inf, 0), (math.inf, 1),
    ("fro", None), ("nuc", None), (2, None), (-2, None), (1, None), (-1, None),
    (math.inf, None), (-math.inf, None), ("nuc", (1, 0)),
])
def test_norm_is_numpys(order, axis) -> None:
    fn = lambda a: np.linalg.norm(a, ord=order, axis=axis)  # noqa: E731
    np.testing.assert_allclose(fn(mg.tensor(TALL)).numpy(), fn(TALL), rtol=1e-12)
    assert mg.gradcheck(fn, [TALL], order=2)


def test_norm_keepdims_and_the_array_api_norms() -> None:
    x = rng.standard_normal((2, 3, 4))
    for fn in (lambda a: np.linalg.norm(a, axis=(0, 2), keepdims=True),
               lambda a: np.linalg.matrix_norm(a, ord="nuc", keepdims=True),
               lambda a: np.linalg.vector_norm(a, ord=3, axis=1)):
        np.testing.assert_allclose(fn(mg.tensor(x)).numpy(), fn(x), rtol=1e-12)


def test_integers_compute_in_float64_as_numpy() -> None:
    a = np.array([[2, 1], [1, 3]])
    got = np.linalg.inv(mg.tensor(a))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.numpy(), np.linalg.inv(a))
    assert np.linalg.norm(mg.tensor(np.array([3, 4]))).item() == 5.0


def test_matrix_rank_and_integer_matrix_power_are_numpys() -> None:
    ones = np.ones((2, 3, 4))
    for call in (np.linalg.matrix_rank, lambda a: np.linalg.matrix_rank(a, tol=0.5),
                 lambda a: np.linalg.matrix_rank(a[0, :, :3], hermitian=True)):
        got = call(mg.tensor(ones))
        np.testing.assert_array_equal(got.numpy(), call(ones))
    ints = np.array([[1, 2], [3, 4]])
    got = np.linalg.matrix_power(mg.tensor(ints), 3)
    assert got.dtype == np.int64 and np.array_equal(got.numpy(), np.linalg.matrix_power(ints, 3))


def test_svd_defaults_to_full_matrices_as_numpy() -> None:
    u, s, vh = np.linalg.svd(mg.tensor(TALL))
    assert (u.shape, s.shape, vh.shape) == ((5, 5), (3,), (3, 3))


@pytest.mark.parametrize(("call", "words"), [
    (lambda x: np.linalg.svd(x, hermitian=True), "hermitian=True"),
])
def test_refused_calls_name_the_function(call, words) -> None:
    with pytest.raises(TypeError, match=words):
        call(mg.tensor(SQUARE[0]))


def test_complex_eigenvalues_are_refused_naming_the_batch_element() -> None:
    rotations = np.stack([np.eye(2), [[0.0, 1.0], [-1.0, 0.0]]])
    with pytest.raises(np.linalg.LinAlgError, match=r"\(Batch element \(1,\)\): the matrix has "
                                                    r"complex eigenvalues"):
        np.linalg.eig(mg.tensor(rotations))
    with pytest.raises(RuntimeError, match="no complex tensors"):
        np.linalg.eigvals(mg.tensor(rotations[1]))


def test_numpys_errors() -> None:
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        np.linalg.inv(mg.tensor(np.ones((2, 2))))
    with pytest.raises(ValueError, match="improper number of dimensions"):
        np.linalg.norm(mg.tensor(np.ones((2, 2, 2))), 2)
    with pytest.raises(ValueError, match="can't be both set"):
        np.linalg.pinv(mg.tensor(TALL), 1e-3, rtol=1e-3)

"""mg.linalg against PyTorch 2.13 live (values, gradients of order 1 and 2 in float64,
float32 values), finite differences (mg.gradcheck, order 2), and its errors: inv, det,
slogdet, solve, cholesky, eigh, eigvalsh, svd, svdvals, pinv, matrix_norm, norm."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")
L = mg.linalg
TL = torch.linalg

rng = np.random.default_rng(2026)
SQUARE = rng.standard_normal((2, 3, 3)) + 2.5 * np.eye(3)
SYM = rng.standard_normal((2, 4, 4))
SYM = SYM + SYM.swapaxes(-1, -2)
TALL = rng.standard_normal((2, 5, 3))
WIDE = TALL.swapaxes(-1, -2).copy()
PD = SQUARE @ SQUARE.swapaxes(-1, -2) + np.eye(3)


def _outputs(result) -> list:
    return list(result) if isinstance(result, tuple) else [result]


def _loss(outputs: list, weights: list):
    """sum_k sum(w_k * out_k^2): blind to the signs of eigen- and singular vectors."""
    total = None
    for out, w in zip(outputs, weights, strict=True):
        term = (out * out * w).sum()
        total = term if total is None else total + term
    return total


def check_against_torch(mg_fn, torch_fn, *arrays: np.ndarray, signs: bool = False) -> None:
    """Values (|values| when ``signs``: vectors are defined up to sign) and the gradients
    of order 1 and 2 (a Hessian-vector product) of a sign-blind loss, float64."""
    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    got, want = _outputs(mg_fn(*xs)), _outputs(torch_fn(*ts))
    for g, w in zip(got, want, strict=True):
        g, w = g.numpy(), w.detach().numpy()
        assert g.shape == w.shape
        np.testing.assert_allclose(np.abs(g) if signs else g, np.abs(w) if signs else w,
                                   rtol=1e-9, atol=1e-10)
    weights = [rng.standard_normal(w.shape) for w in want]
    directions = [rng.standard_normal(a.shape) for a in arrays]
    firsts = mg.grad(_loss(got, [mg.tensor(w) for w in weights]), xs, create_graph=True)
    t_firsts = torch.autograd.grad(_loss(want, [torch.tensor(w) for w in weights]), ts,
                                   create_graph=True)
    for g, w in zip(firsts, t_firsts, strict=True):
        np.testing.assert_allclose(g.numpy(), w.detach().numpy(), rtol=1e-8, atol=1e-9)
    second = mg.grad(sum((f * mg.tensor(d)).sum() for f, d in zip(firsts, directions,
                                                                  strict=True)), xs)
    t_second = torch.autograd.grad(sum((f * torch.tensor(d)).sum() for f, d in
                                       zip(t_firsts, directions, strict=True)), ts)
    for g, w in zip(second, t_second, strict=True):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-7, atol=1e-8)


def _first_k(usv) -> tuple:
    """U's first k columns and Vh's first k rows (the rest is any basis: PyTorch's differ)."""
    u, s, vh = usv
    k = s.shape[-1]
    return u[..., :k], s, vh[..., :k, :]


CASES = {
    "inv": (L.inv, TL.inv, [SQUARE]),
    "inv-2d": (L.inv, TL.inv, [SQUARE[0]]),
    "det": (L.det, TL.det, [SQUARE]),
    "slogdet": (lambda a: tuple(L.slogdet(a)), lambda a: tuple(TL.slogdet(a)), [-SQUARE]),
    "solve": (L.solve, TL.solve, [SQUARE, TALL[:, :3, :]]),
    "solve-broadcast": (L.solve, TL.solve, [SQUARE[0], TALL[:, :3, :]]),
    "solve-vector": (L.solve, TL.solve, [SQUARE, TALL[0, :3, 0]]),
    "solve-batch-of-vectors": (L.solve, TL.solve, [SQUARE, TALL[:, :3, 0]]),
    "solve-right": (lambda a, b: L.solve(a, b, left=False),
                    lambda a, b: TL.solve(a, b, left=False), [SQUARE, WIDE[:, :, :3]]),
    "cholesky": (L.cholesky, TL.cholesky, [PD]),
    "cholesky-upper": (lambda a: L.cholesky(a, upper=True),
                       lambda a: TL.cholesky(a, upper=True), [PD]),
    "eigvalsh": (L.eigvalsh, TL.eigvalsh, [SYM]),
    "eigvalsh-U": (lambda a: L.eigvalsh(a, "U"), lambda a: TL.eigvalsh(a, "U"), [SYM]),
    "svdvals": (L.svdvals, TL.svdvals, [TALL]),
    "pinv-tall": (L.pinv, TL.pinv, [TALL]),
    "pinv-wide": (L.pinv, TL.pinv, [WIDE]),
    "pinv-hermitian": (lambda a: L.pinv(a, hermitian=True),
                       lambda a: TL.pinv(a, hermitian=True), [SYM]),
    "pinv-atol": (lambda a: L.pinv(a, atol=0.5), lambda a: TL.pinv(a, atol=0.5), [TALL]),
}
VECTOR_CASES = {
    "eigh": (L.eigh, TL.eigh, [SYM]),
    "eigh-U": (lambda a: L.eigh(a, UPLO="U"), lambda a: TL.eigh(a, UPLO="U"), [SYM]),
    "svd-tall": (lambda a: L.svd(a, full_matrices=False),
                 lambda a: TL.svd(a, full_matrices=False), [TALL]),
    "svd-wide": (lambda a: L.svd(a, full_matrices=False),
                 lambda a: TL.svd(a, full_matrices=False), [WIDE]),
    "svd-square": (lambda a: L.svd(a, full_matrices=False),
                   lambda a: TL.svd(a, full_matrices=False), [SQUARE]),
    "svd-full-tall": (lambda a: _first_k(L.svd(a)), lambda a: _first_k(TL.svd(a)), [TALL]),
    "svd-full-wide": (lambda a: _first_k(L.svd(a)), lambda a: _first_k(TL.svd(a)), [WIDE]),
}


@pytest.mark.parametrize("name", CASES)
def test_matches_pytorch_to_second_order(name) -> None:
    mg_fn, torch_fn, arrays = CASES[name]
    check_against_torch(mg_fn, torch_fn, *arrays)


@pytest.mark.parametrize("name", VECTOR_CASES)
def test_decompositions_match_pytorch_up_to_signs(name) -> None:
    mg_fn, torch_fn, arrays = VECTOR_CASES[name]
    check_against_torch(mg_fn, torch_fn, *arrays, signs=True)


@pytest.mark.parametrize("name", ["eigh", "svd-tall", "svd-wide", "svd-full-tall"])
def test_decompositions_reconstruct_their_input(name) -> None:
    mg_fn, _, (a,) = VECTOR_CASES[name]
    out = [t.numpy() for t in mg_fn(mg.tensor(a))]
    if name == "eigh":
        values, vectors = out
        rebuilt = vectors * values[..., None, :] @ vectors.swapaxes(-1, -2)
    else:
        u, s, vh = out
        k = s.shape[-1]
        rebuilt = u[..., :k] * s[..., None, :] @ vh[..., :k, :]
    np.testing.assert_allclose(rebuilt, a, atol=1e-12)


ORDERS = ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf]


@pytest.mark.parametrize("order", ORDERS)
def test_matrix_norm_matches_pytorch(order) -> None:
    check_against_torch(lambda a: L.matrix_norm(a, order), lambda a: TL.matrix_norm(a, order),
                        TALL)
    check_against_torch(lambda a: L.matrix_norm(a, ord=order, dim=(2, 0), keepdim=True),
                        lambda a: TL.matrix_norm(a, ord=order, dim=(2, 0), keepdim=True), TALL)


@pytest.mark.parametrize(("order", "dim"), [
    (None, None), (None, 1), (3, 1), (1, -1), (math.inf, 0), (-math.inf, 2), (0.5, 1),
    (2, (1, 2)), ("nuc", (0, 1)), (None, (0, 2)),
])
def test_norm_matches_pytorch(order, dim) -> None:
    check_against_torch(lambda a: L.norm(a, order, dim), lambda a: TL.norm(a, order, dim),
                        TALL)


@pytest.mark.parametrize("order", [None, 2, "fro", "nuc", -1, 3])
def test_norm_without_dim_of_a_vector_or_matrix(order) -> None:
    arrays = [TALL[0, 0]] if order in (3, None) else [TALL[0]]
    check_against_torch(lambda a: L.norm(a, order), lambda a: TL.norm(a, order), *arrays)


@pytest.mark.parametrize("name", ["inv", "det", "solve", "cholesky", "eigvalsh", "svdvals",
                                  "pinv-wide"])
def test_float32_values_match_pytorch(name) -> None:
    mg_fn, torch_fn, arrays = CASES[name]
    got = mg_fn(*[mg.tensor(a.astype(np.float32)) for a in arrays])
    want = torch_fn(*[torch.tensor(a.astype(np.float32)) for a in arrays])
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=2e-5, atol=2e-5)


def _sym(a):
    return a + a.mT


@pytest.mark.parametrize(("fn", "arrays"), [
    (L.inv, [SQUARE]), (L.det, [SQUARE]), (lambda a: L.slogdet(a).logabsdet, [SQUARE]),
    (L.solve, [SQUARE, TALL[:, :3, :2]]), (lambda a: L.cholesky(a @ a.mT), [SQUARE]),
    (lambda a: L.eigh(_sym(a))[1], [SQUARE]), (lambda a: L.svd(a, False)[0], [TALL]),
    (lambda a: L.svd(a, False)[2], [WIDE]), (L.pinv, [WIDE]),
    (lambda a: L.matrix_norm(a, "nuc"), [TALL]),
])
def test_gradients_to_second_order_match_finite_differences(fn, arrays) -> None:
    assert mg.gradcheck(fn, arrays, order=2)


def test_a_singular_matrix_is_named_with_its_batch_element() -> None:
    a = np.stack([np.eye(3), np.ones((3, 3)), np.eye(3)])
    with pytest.raises(L.LinAlgError, match=r"linalg.inv: \(Batch element \(1,\)\): .*singular"):
        L.inv(a)
    with pytest.raises(RuntimeError, match=r"linalg.solve: \(Batch element \(1,\)\)"):
        L.solve(a, np.ones((3, 3, 1)))
    with pytest.raises(np.linalg.LinAlgError, match=r"singular \(shape \(3, 3\)"):
        L.inv(np.ones((3, 3)))
    with torch_raises(TL.inv, a):
        pass


class torch_raises:  # noqa: N801
    """PyTorch raises for the same input (the reference behaviour)."""

    def __init__(self, fn, array) -> None:
        self.fn, self.array = fn, array

    def __enter__(self) -> None:
        with pytest.raises(RuntimeError):
            self.fn(torch.tensor(self.array))

    def __exit__(self, *_) -> None:
        return None


def test_a_matrix_not_positive_definite_names_the_leading_minor() -> None:
    a = np.stack([np.eye(3), np.diag([1.0, 2.0, -1.0])])
    with pytest.raises(L.LinAlgError, match=r"\(Batch element \(1,\)\).*leading minor of "
                                            r"order 3 is not positive-definite"):
        L.cholesky(a)
    with torch_raises(TL.cholesky, a):
        pass


def test_singular_values_of_a_singular_matrix_and_slogdet() -> None:
    singular = np.ones((3, 3))
    sign, logabsdet = L.slogdet(singular)
    assert sign.item() == 0.0 and logabsdet.item() == -math.inf
    assert L.det(singular).item() == 0.0
    # svdvals' gradient stays finite at repeated (zero) singular values
    x = mg.tensor(singular, requires_grad=True)
    L.svdvals(x).sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda: L.inv(np.ones((2, 3))), L.LinAlgError, r"square matrices, but they are 2 by 3"),
    (lambda: L.det(np.ones(3)), L.LinAlgError, r"square matrices.*shape \(3,\)"),
    (lambda: L.inv(np.ones((3, 3), np.int64)), TypeError, "float32 or float64.*int64"),
    (lambda: L.solve(np.eye(3), np.ones((4, 2))), L.LinAlgError, r"\(\.\.\., 3, k\).*\(4, 2\)"),
    (lambda: L.solve(np.eye(3), np.ones(3, np.float32)), TypeError, "one dtype"),
    (lambda: L.eigh(np.eye(3), "X"), ValueError, "UPLO must be 'L' or 'U'"),
    (lambda: L.svd(np.ones(3)), L.LinAlgError, "at least 2 dimensions"),
    (lambda: L.matrix_norm(np.ones((2, 2)), 3), ValueError, "order 3 is not supported"),
    (lambda: L.matrix_norm(np.ones((2, 2)), dim=(1, 1)), ValueError, "must be different"),
    (lambda: L.norm(np.ones((2, 2, 2)), 2), ValueError, r"1-D or 2-D, got shape \(2, 2, 2\)"),
    (lambda: L.norm(np.ones(3), "fro", dim=0), ValueError, "matrix norm"),
    (lambda: L.pinv(np.ones((2, 2)), rtol=-1.0), ValueError, "rtol must be a number >= 0"),
    (lambda: L.eig(np.eye(2)), TypeError, "no complex tensors"),
])
def test_bad_inputs_get_clear_errors(call, error, words) -> None:
    with pytest.raises(error, match=words):
        call()


def test_pinv_defaults_are_pytorchs() -> None:
    """rtol = max(m, n) eps drops a singular value PyTorch drops; atol alone sets rtol 0."""
    a = np.diag([1.0, 1e-17, 0.0])[:, :2]
    np.testing.assert_allclose(L.pinv(a).numpy(), TL.pinv(torch.tensor(a)).numpy())
    b = np.diag([1.0, 0.3])
    np.testing.assert_allclose(L.pinv(b, atol=0.5).numpy(),
                               TL.pinv(torch.tensor(b), atol=0.5).numpy())


def test_empty_batches_and_matrices() -> None:
    assert L.inv(np.ones((0, 2, 2))).shape == (0, 2, 2)
    assert L.det(np.ones((0, 0))).item() == 1.0


def test_under_jit_values_gradients_and_errors_are_eagers() -> None:
    """mg.jit calls the rows' numpy forwards back (jit/linalg_calls.py): one compile; the
    op samples compare every row's values and gradients in tests/test_jit.py."""
    def fn(a, b):
        return L.solve(a, b).sum() + L.svdvals(a).sum() + L.slogdet(a).logabsdet.sum()

    a, b = mg.tensor(SQUARE, requires_grad=True), mg.tensor(TALL[:, :3, :2])
    compiled = mg.jit(fn, background=False)
    got, want = compiled(a, b), fn(a, b)
    assert got.item() == want.item()
    singular = SQUARE.copy()
    singular[1] = 1.0
    with pytest.raises(L.LinAlgError, match=r"linalg.solve: \(Batch element \(1,\)\)"):
        compiled(mg.tensor(singular), b)


LOWER = np.linalg.cholesky(PD)
EXTRA_CASES = {
    "matrix_power-3": (lambda a: L.matrix_power(a, 3), lambda a: TL.matrix_power(a, 3), [SQUARE]),
    "matrix_power--2": (lambda a: L.matrix_power(a, -2), lambda a: TL.matrix_power(a, -2),
                        [SQUARE]),
    "multi_dot": (lambda a, b: L.multi_dot([a[0, :, 0], b[0], a[1]]),
                  lambda a, b: TL.multi_dot([a[0, :, 0], b[0], a[1]]), [WIDE, SQUARE]),
    "cond": (L.cond, TL.cond, [SQUARE]),
    "cond-nuc": (lambda a: L.cond(a, "nuc"), lambda a: TL.cond(a, "nuc"), [SQUARE]),
    "vecdot": (lambda a, b: L.vecdot(a, b, dim=1), lambda a, b: TL.vecdot(a, b, dim=1),
               [TALL, TALL[::-1].copy()]),
    "solve_triangular-upper-unit": (
        lambda a, b: L.solve_triangular(a, b, upper=True, unitriangular=True),
        lambda a, b: TL.solve_triangular(a, b, upper=True, unitriangular=True),
        [SQUARE, TALL[:, :3, :]]),
    "solve_triangular-lower-right": (
        lambda a, b: L.solve_triangular(a, b, upper=False, left=False),
        lambda a, b: TL.solve_triangular(a, b, upper=False, left=False),
        [SQUARE, WIDE[:, :, :3]]),
    "cholesky_solve": (lambda b: mg.cholesky_solve(b, mg.tensor(LOWER)),
                       lambda b: torch.cholesky_solve(b, torch.tensor(LOWER)), [TALL[:, :3, :]]),
    "logdet": (mg.logdet, torch.logdet, [PD]),
    "inverse-method": (lambda a: a.inverse(), lambda a: a.inverse(), [SQUARE]),
    "pinverse-method": (lambda a: a.pinverse(), lambda a: a.pinverse(), [TALL]),
    "det-method": (lambda a: a.det(), lambda a: a.det(), [SQUARE]),
    "slogdet-method": (lambda a: tuple(a.slogdet()), lambda a: tuple(a.slogdet()), [SQUARE]),
    "matrix_power-method": (lambda a: a.matrix_power(2), lambda a: a.matrix_power(2),
                            [SQUARE]),
}


@pytest.mark.parametrize("name", EXTRA_CASES)
def test_more_functions_match_pytorch_to_second_order(name) -> None:
    mg_fn, torch_fn, arrays = EXTRA_CASES[name]
    check_against_torch(mg_fn, torch_fn, *arrays)


def test_cholesky_solve_and_inverse_read_one_triangle() -> None:
    """Values as PyTorch's; the factor's gradient is that of the triangle the function
    reads (finite differences), where PyTorch's also fills the other triangle."""
    b = TALL[:, :3, :]
    np.testing.assert_allclose(mg.cholesky_solve(b, LOWER).numpy(),
                               torch.cholesky_solve(torch.tensor(b), torch.tensor(LOWER)).numpy(),
                               rtol=1e-10)
    upper = LOWER[0].T.copy()
    np.testing.assert_allclose(mg.cholesky_inverse(upper, upper=True).numpy(),
                               torch.cholesky_inverse(torch.tensor(upper), upper=True).numpy(),
                               rtol=1e-10)
    assert mg.gradcheck(lambda x: mg.cholesky_solve(b, x), [LOWER], order=2)
    assert mg.gradcheck(lambda x: mg.cholesky_inverse(x, upper=True), [upper], order=2)
    assert mg.gradcheck(lambda a: L.cond(a, 1), [SQUARE], order=2)  # PyTorch's 2nd order fails


def test_matrix_rank_logdet_signs_and_matrix_power_zero() -> None:
    ranks = np.stack([np.ones((3, 4)), np.eye(3, 4), np.zeros((3, 4))])
    got = L.matrix_rank(ranks)
    assert got.dtype == np.int64 and got.numpy().tolist() == [1, 3, 0]
    assert L.matrix_rank(ranks[:, :, :3], hermitian=True).numpy().tolist() == [1, 3, 0]
    assert L.matrix_rank(np.diag([1.0, 0.3]), atol=0.5).item() == 1
    negative = -np.eye(3)
    assert math.isnan(mg.logdet(negative).item()) and math.isnan(torch.logdet(
        torch.tensor(negative)).item())
    assert mg.logdet(np.zeros((2, 2))).item() == -math.inf
    np.testing.assert_array_equal(L.matrix_power(SQUARE, 0).numpy(), np.broadcast_to(
        np.eye(3), SQUARE.shape))
    with pytest.raises(TypeError, match="n must be an integer"):
        L.matrix_power(SQUARE, 1.5)
    with pytest.raises(ValueError, match="tensor 1 must be 2-D"):
        L.multi_dot([SQUARE[0], SQUARE[0, 0], SQUARE[0]])


def test_real_eig_rows_match_pytorch() -> None:
    """numpy's eig of real eigenvalues (ops.eig_values / eig_vectors) against
    torch.linalg.eig: eigenvalues, |eigenvectors| and the gradients of a loss of the
    eigenvalues and the squared eigenvectors (blind to PyTorch's phases)."""
    a = np.diag([1.0, 2.0, 3.5]) + 0.2 * rng.standard_normal((2, 3, 3))
    x, t = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    values, vectors = mg.ops.eig_values(x), mg.ops.eig_vectors(x)
    t_values, t_vectors = TL.eig(t)
    np.testing.assert_allclose(values.numpy(), t_values.real.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.abs(vectors.numpy()), t_vectors.abs().detach().numpy(),
                               rtol=1e-10)
    w1, w2 = rng.standard_normal(3), rng.standard_normal((3, 3))
    ((values * mg.tensor(w1)).sum() + (vectors * vectors * mg.tensor(w2)).sum()).backward()
    ((t_values.real * torch.tensor(w1)).sum() + (t_vectors.abs() ** 2 * torch.tensor(w2))
     .sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_nan_inputs_give_nan_or_a_named_error() -> None:
    """A NaN matrix's det is NaN (numpy's LU reads 0 off a singular pivot first; PyTorch
    gives NaN); iterations that do not converge raise LinAlgError naming the element."""
    x = np.ones((2, 3, 3))
    x[1, 0, 0] = np.nan
    np.testing.assert_array_equal(L.det(x).numpy(), TL.det(torch.tensor(x)).numpy())
    assert math.isnan(L.slogdet(x).logabsdet.numpy()[1])
    for fn in (L.svdvals, L.eigvalsh, L.pinv, lambda a: L.svd(a)[0]):
        with pytest.raises(L.LinAlgError, match=r"\(Batch element \(1,\)\): .*did not converge"
                                                r".*the input holds NaN or inf"):
            fn(x)

"""numpy functions on tensors (numpy's dispatch, minigrad/numpy_meaning.py) and PyTorch's
numpy-flavoured functions (minigrad/array_functions.py): values against numpy (and
PyTorch live), gradients to order 2 against finite differences (float64), errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

_rng = np.random.default_rng(5)


def R(*shape: int) -> np.ndarray:
    return _rng.standard_normal(shape)


def _flat(out: object) -> mg.Tensor:
    """A tensor, or a list/tuple of tensors as one flat tensor (for gradcheck)."""
    if isinstance(out, list | tuple):
        return mg.cat([mg.reshape(o, (-1,)) for o in out]) if out else mg.zeros(0)
    return out


_COORDS = np.cumsum(_rng.uniform(0.2, 1.5, 6))  # uneven sample points

# (id, call on arrays or tensors, the arrays differentiated)
NUMPY_CASES = [
    ("trace-offset", lambda x: np.trace(x, offset=1), [R(4, 5)]),
    ("trace-batched", lambda x: np.trace(x, offset=-1, axis1=1, axis2=2), [R(3, 4, 5)]),
    ("cumsum-flat", np.cumsum, [R(2, 3)]),
    ("cumprod-flat", np.cumprod, [R(2, 3)]),
    ("append-flat", np.append, [R(2, 2), R(3)]),
    ("append-axis", lambda a, b: np.append(a, b, axis=0), [R(2, 3), R(1, 3)]),
    ("prod-keepdims", lambda x: np.prod(x, keepdims=True), [R(2, 3)]),
    ("select", lambda a, b: np.select([a > 0, b > 0], [a, b], default=1.5), [R(3, 4), R(3, 4)]),
    ("partition", lambda x: np.sort(np.partition(x, 2)), [R(6)]),
    ("dot-0d", np.dot, [R(3), R()]),
    ("dot-1d-1d", np.dot, [R(3), R(3)]),
    ("dot-2d-1d", np.dot, [R(2, 3), R(3)]),
    ("dot-1d-2d", np.dot, [R(3), R(3, 4)]),
    ("dot-3d-3d", np.dot, [R(2, 2, 3), R(2, 3, 4)]),
    ("einsum-ellipsis", lambda a, b: np.einsum("...ij,...jk->...ik", a, b),
     [R(2, 3), R(2, 3, 4)]),
    ("einsum-ellipsis-middle", lambda a, b: np.einsum("j...k,lj...->lk...", a, b),
     [R(2, 2, 2), R(2, 2)]),
    ("einsum-implicit", lambda a, b: np.einsum("...k,...nk", a, b), [R(3, 5), R(3, 2, 5)]),
    ("einsum-sublists", lambda a, b, c: np.einsum(a, [0, 1, 2], b, [3, 1, 0], c, [3, 3, 0],
                                                  [3, 2, 0]), [R(3, 4, 4), R(4, 4, 3), R(4, 4, 3)]),
    ("array_split", lambda x: np.array_split(x, 3, axis=1), [R(2, 7)]),
    ("array_split-points", lambda x: np.array_split(x, [3, 5]), [R(7)]),
    ("hsplit", lambda x: np.hsplit(x, [1, 2]), [R(4, 4, 2)]),
    ("vsplit", lambda x: np.vsplit(x, 2), [R(4, 3)]),
    ("dsplit", lambda x: np.dsplit(x, 2), [R(2, 2, 4)]),
    ("split", lambda x: np.split(x, [1, 2], axis=1), [R(3, 4)]),
    ("vstack", lambda a, b: np.vstack((a, b)), [R(2), R(2)]),
    ("row_stack", lambda a, b: np.vstack((a, b), dtype=np.float64), [R(2, 3), R(1, 3)]),
    ("hstack", lambda a, b: np.hstack((a, b)), [R(2, 1, 4), R(2, 5, 4)]),
    ("column_stack", lambda a, b: np.column_stack((a, b)), [R(2), R(2, 2)]),
    ("dstack", lambda a, b: np.dstack((a, b)), [R(3), R(3)]),
    ("atleast_1d", np.atleast_1d, [R()]),
    ("atleast_2d", np.atleast_2d, [R(3)]),
    ("atleast_3d-1d", np.atleast_3d, [R(3)]),
    ("atleast_3d-2d", np.atleast_3d, [R(2, 3)]),
    ("tril-k", lambda x: np.tril(x, k=-1), [R(3, 4, 4)]),
    ("tril-row", lambda x: np.tril(x, 1), [R(3)]),
    ("triu-row", np.triu, [R(3)]),
    ("cumsum-0d-axis", lambda x: np.cumsum(x, axis=0), [R()]),
    ("triu-k", lambda x: np.triu(x, k=1), [R(4, 4)]),
    ("diag-k", lambda x: np.diag(x, k=1), [R(4, 4)]),
    ("diag-build", lambda x: np.diag(x, k=-1), [R(3)]),
    ("diagflat", lambda x: np.diagflat(x, k=1), [R(2, 2)]),
    ("swapaxes", lambda x: np.swapaxes(x, axis1=0, axis2=2), [R(2, 3, 4)]),
    ("rollaxis", lambda x: np.rollaxis(x, 2, 1), [R(2, 3, 4)]),
    ("rollaxis-end", lambda x: np.rollaxis(x, 0, 3), [R(2, 3, 4)]),
    ("moveaxis", lambda x: np.moveaxis(x, [0, 1], [2, 0]), [R(2, 3, 4)]),
    ("tile-int", lambda x: np.tile(x, 2), [R(3)]),
    ("tile-longer", lambda x: np.tile(x, (3, 2, 1)), [R(1, 2)]),
    ("cross", lambda a, b: np.cross(a, b, axisa=0, axisb=1, axisc=0), [R(3, 3), R(3, 3)]),
    ("cross-2d", np.cross, [R(4, 2), R(4, 2)]),
    ("cross-2-and-3", np.cross, [R(4, 2), R(4, 3)]),
    ("cross-ranks", np.cross, [R(2, 1, 3), R(3)]),
    ("kron", np.kron, [R(2, 3), R(3, 1)]),
    ("kron-1d-2d", np.kron, [R(3), R(2, 2)]),
    ("rot90", np.rot90, [R(2, 3, 4)]),
    ("rot90-k3", lambda x: np.rot90(x, 3, axes=(1, 2)), [R(2, 3, 4)]),
    ("fliplr", np.fliplr, [R(2, 3)]),
    ("flipud", np.flipud, [R(2, 3)]),
    ("ravel", np.ravel, [R(2, 3)]),
    ("clip", lambda x: np.clip(x, a_min=-0.5, a_max=0.5), [R(3, 4)]),
    ("gradient-1d", np.gradient, [R(6)]),
    ("gradient-axes", lambda x: np.gradient(x, axis=(0, -1)), [R(4, 3, 5)]),
    ("gradient-order2", lambda x: np.gradient(x, 0.5, edge_order=2), [R(5, 4)]),
    ("gradient-coordinates", lambda x: np.gradient(x, _COORDS[:5], 0.5), [R(5, 4)]),
    ("gradient-coordinates-order2", lambda x: np.gradient(x, _COORDS, edge_order=2), [R(6)]),
    ("real", np.real, [R(2, 3)]),
    ("imag", np.imag, [R(2, 3)]),
    ("conj", np.conj, [R(2, 3)]),
    ("angle", lambda x: np.angle(x, deg=True), [R(2, 3)]),
    ("real_if_close", np.real_if_close, [R(2, 3)]),
    ("flip-all", np.flip, [R(2, 3)]),
    ("reshape-int", lambda x: np.reshape(x, -1), [R(2, 3)]),
    ("concatenate-flat", lambda a, b: np.concatenate([a, b], axis=None), [R(2, 3), R(4)]),
    ("take-flat", lambda x: np.take(x, [[0, 5], [-1, 2]]), [R(2, 3)]),
    ("take-axis", lambda x: np.take(x, [2, 0, 2], axis=1), [R(2, 3)]),
    ("take_along_axis", lambda x: np.take_along_axis(x, np.array([[1, 0, 1]]), 0), [R(2, 3)]),
    ("average", lambda x: np.average(x, axis=0), [R(2, 3)]),
    ("average-weights", lambda x, w: np.average(x, axis=1, weights=w), [R(2, 3), R(3) + 3]),
    ("average-returned", lambda x, w: np.average(x, weights=w, returned=True),
     [R(2, 3), R(2, 3) + 3]),
    ("ptp", lambda x: np.ptp(x, axis=1), [R(2, 3)]),
    ("percentile", lambda x: np.percentile(x, 30, axis=1), [R(2, 5)]),
    ("percentile-many", lambda x: np.percentile(x, [10, 90], method="midpoint"), [R(7)]),
    ("quantile-method", lambda x: np.quantile(x, 0.4, method="lower"), [R(6)]),
    ("outer-flattened", np.outer, [R(2, 2), R(3)]),
    ("vdot", np.vdot, [R(2, 3), R(3, 2)]),
    ("ediff1d", lambda x: np.ediff1d(x, to_end=[1.0], to_begin=-1.0), [R(2, 3)]),
    ("delete", lambda x: np.delete(x, [0, 2], axis=1), [R(2, 4)]),
    ("delete-flat", lambda x: np.delete(x, slice(1, 4)), [R(2, 3)]),
    ("insert-flat", lambda x, v: np.insert(x, 1, v), [R(2, 3), R(2)]),
    ("insert-positions", lambda x, v: np.insert(x, [2, 0, 2], v, axis=1), [R(2, 3), R(3)]),
    ("insert-one-position", lambda x, v: np.insert(x, -1, v, axis=0), [R(3, 2), R(2, 2)]),
    ("insert-slice", lambda x: np.insert(x, slice(0, 2), 0.5, axis=1), [R(2, 3)]),
    ("trapezoid", lambda y: np.trapezoid(y, dx=0.5, axis=0), [R(4, 3)]),
    ("trapezoid-x", np.trapezoid, [R(2, 5), R(5)]),
]


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")
@pytest.mark.parametrize(("call", "arrays"), [c[1:] for c in NUMPY_CASES],
                         ids=[c[0] for c in NUMPY_CASES])
def test_numpy_function_values_and_gradients(call, arrays) -> None:
    expected = call(*arrays)
    got = call(*[mg.tensor(a) for a in arrays])
    if isinstance(expected, list | tuple):
        assert len(got) == len(expected)
        pairs = list(zip(got, expected, strict=True))
    else:
        pairs = [(got, expected)]
    for g, e in pairs:
        assert isinstance(g, mg.Tensor)
        assert g.shape == np.shape(e)
        np.testing.assert_allclose(g.numpy(), e, rtol=1e-12, atol=1e-12)
    for order in (1, 2):
        mg.gradcheck(lambda *xs: _flat(call(*xs)), arrays, order=order)


def test_numpy_errors_name_the_problem() -> None:
    x = mg.tensor(R(4, 6))
    with pytest.raises(ValueError, match=r"numpy.vsplit: array split does not result in an "
                                         "equal division"):
        np.vsplit(x, 5)
    with pytest.raises(ValueError, match=r"numpy.hsplit only works on arrays of 1 or more"):
        np.hsplit(mg.tensor(1.0), 2)
    with pytest.raises(ValueError, match="must be 2 or 3"):
        np.cross(x, x)
    with pytest.raises(ValueError, match=r"kth\(=7\) out of bounds \(6\)"):
        np.partition(x, 7)
    with pytest.raises(TypeError, match=r"numpy.select: invalid entry in condlist"):
        np.select([x], [x])
    with pytest.raises(TypeError, match=r"numpy.trace.*out= is not supported"):
        np.trace(x, out=np.zeros(()))


# (id, minigrad call, torch call, input shapes)
TORCH_CASES = [
    ("kron", mg.kron, torch.kron, [(2, 3), (2, 2)]),
    ("kron-3d-2d", mg.kron, torch.kron, [(2, 1, 3), (3, 2)]),
    ("cross-first-3", mg.cross, lambda a, b: torch.cross(a, b, dim=1), [(2, 3, 4), (2, 3, 4)]),
    ("cross-broadcast", lambda a, b: mg.cross(a, b, dim=-1),
     lambda a, b: torch.linalg.cross(a, b, dim=-1), [(4, 3), (1, 3)]),
    ("rot90", lambda x: mg.rot90(x, 1, (0, 1)), lambda x: torch.rot90(x, 1, (0, 1)), [(2, 3)]),
    ("rot90-neg", lambda x: x.rot90(-1, (2, 0)), lambda x: x.rot90(-1, (2, 0)), [(2, 3, 4)]),
    ("rot90-2", lambda x: mg.rot90(x, 2, (1, 2)), lambda x: torch.rot90(x, 2, (1, 2)),
     [(2, 3, 4)]),
    ("fliplr", mg.fliplr, torch.fliplr, [(2, 3, 2)]),
    ("flipud", lambda x: x.flipud(), lambda x: x.flipud(), [(3,)]),
    ("ravel", mg.Tensor.ravel, torch.Tensor.ravel, [(2, 3)]),
    ("diagflat", lambda x: mg.diagflat(x, -2), lambda x: torch.diagflat(x, -2), [(2, 2)]),
    ("tensor_split-3", lambda x: mg.tensor_split(x, 3, 1), lambda x: torch.tensor_split(x, 3, 1),
     [(2, 7)]),
    ("tensor_split-points", lambda x: x.tensor_split([1, 6, 4]),
     lambda x: x.tensor_split([1, 6, 4]), [(5, 2)]),
    ("hsplit", lambda x: mg.hsplit(x, 2), lambda x: torch.hsplit(x, 2), [(3, 4)]),
    ("vsplit", lambda x: mg.vsplit(x, [1]), lambda x: torch.vsplit(x, [1]), [(3, 4)]),
    ("dsplit", lambda x: mg.dsplit(x, 2), lambda x: torch.dsplit(x, 2), [(1, 2, 4)]),
    ("atleast_3d", mg.atleast_3d, torch.atleast_3d,
     [(3,), (2, 3)]),
    ("dstack", lambda a, b: mg.dstack([a, b]), lambda a, b: torch.dstack([a, b]),
     [(2, 3), (2, 3)]),
    ("row_stack", lambda a, b: mg.row_stack([a, b]), lambda a, b: torch.row_stack([a, b]),
     [(3,), (3,)]),
    ("swapaxes", lambda x: x.swapaxes(0, 2), lambda x: x.swapaxes(0, 2), [(2, 3, 4)]),
    ("moveaxis", lambda x: mg.moveaxis(x, 0, -1), lambda x: torch.moveaxis(x, 0, -1),
     [(2, 3, 4)]),
    ("gradient", mg.gradient, torch.gradient, [(4, 5)]),
    ("gradient-spacing", lambda x: mg.gradient(x, spacing=[2.0], dim=1, edge_order=2),
     lambda x: torch.gradient(x, spacing=[2.0], dim=1, edge_order=2), [(4, 5)]),
    ("angle", mg.angle, torch.angle, [(3, 4)]),
    ("gradient-coordinates", lambda x: mg.gradient(x, spacing=[mg.tensor(_COORDS[:4])],
                                                   dim=0, edge_order=2),
     lambda x: torch.gradient(x, spacing=[torch.tensor(_COORDS[:4])], dim=0, edge_order=2),
     [(4, 3)]),
    ("trapezoid", lambda y: mg.trapezoid(y, dim=0), lambda y: torch.trapezoid(y, dim=0),
     [(4, 3)]),
    ("trapezoid-x", lambda y, x: mg.trapezoid(y, x, dim=1),
     lambda y, x: torch.trapezoid(y, x, dim=1), [(2, 5), (2, 5)]),
    ("trapezoid-dx", lambda y: mg.trapezoid(y, dx=0.3), lambda y: torch.trapezoid(y, dx=0.3),
     [(5,)]),
    ("trapezoid-x-fewer-dims", mg.trapezoid, torch.trapezoid, [(2, 1, 3), (2, 3)]),
    ("trapezoid-no-samples", mg.trapezoid, torch.trapezoid, [(4, 0)]),
    ("cross-default-dim-of-input", mg.cross, torch.cross, [(1, 3), (3, 3)]),
    ("swapaxes-0d", lambda x: mg.swapaxes(x, 0, -1), lambda x: torch.swapaxes(x, 0, -1), [()]),
    ("conj", lambda x: x.conj(), lambda x: x.conj(), [(3,)]),
    ("einsum-ellipsis", lambda a, b: mg.einsum("b...ij,...jk->b...ik", a, b),
     lambda a, b: torch.einsum("b...ij,...jk->b...ik", a, b), [(2, 3, 2, 4), (3, 4, 5)]),
    ("einsum-broadcast-1", lambda a, b: mg.einsum("ij,jk->ik", a, b),
     lambda a, b: torch.einsum("ij,jk->ik", a, b), [(2, 1), (3, 4)]),
    ("einsum-3", lambda a, b, c: mg.einsum("ij,jk,kl->il", a, b, c),
     lambda a, b, c: torch.einsum("ij,jk,kl->il", a, b, c), [(2, 3), (3, 4), (4, 2)]),
    ("einsum-ellipsis-broadcast", lambda a, b: mg.einsum("...i,...i->...", a, b),
     lambda a, b: torch.einsum("...i,...i->...", a, b), [(2, 1, 3), (4, 3)]),
]


@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")
@pytest.mark.parametrize(("ours", "theirs", "shapes"), [c[1:] for c in TORCH_CASES],
                         ids=[c[0] for c in TORCH_CASES])
def test_against_torch(ours, theirs, shapes) -> None:
    arrays = [R(*s) for s in shapes]
    leaves = [mg.tensor(a, requires_grad=True) for a in arrays]
    t_leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    got, expected = _flat(ours(*leaves)), theirs(*t_leaves)
    if isinstance(expected, list | tuple):
        expected = torch.cat([e.reshape(-1) for e in expected])
    np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    weights = R(*got.shape)
    (got * mg.tensor(weights)).sum().backward()
    if expected.requires_grad:
        (expected * torch.tensor(weights)).sum().backward()
    for leaf, t_leaf in zip(leaves, t_leaves, strict=True):
        reference = np.zeros(leaf.shape) if t_leaf.grad is None else t_leaf.grad.numpy()
        mine = np.zeros(leaf.shape) if leaf.grad is None else leaf.grad.numpy()
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)
    mg.gradcheck(lambda *xs: _flat(ours(*xs)), arrays, order=2)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda x: mg.rot90(x, 1, (0, 0)), RuntimeError, "expected rotation dims to be different"),
    (lambda x: mg.rot90(x[0, 0], 1), RuntimeError, "expected total dims >= 2"),
    (lambda x: mg.hsplit(x, 2), RuntimeError, "size of the dimension 5 is not divisible by "
                                              "the split_size 2"),
    (lambda x: mg.vsplit(x[0, 0], 2), RuntimeError, "vsplit: requires a tensor with at least 2"),
    (lambda x: mg.tensor_split(x, 0), RuntimeError, "number of sections must be larger than 0"),
    (lambda x: mg.cross(x, x), RuntimeError, r"no dimension of size 3 in input \(2, 5, 4\)"),
    (lambda x: mg.cross(x, x, dim=1), RuntimeError, "dimension 1 must have length 3"),
    (lambda x: mg.cross(x[0, :3, :3], x[0, 0, :3]), RuntimeError,
     "inputs must have the same number of dimensions"),
    (lambda x: mg.trapezoid(x, x[0, 0, :3]), RuntimeError, "one `x` value for each sample"),
    (lambda x: mg.gradient(x[:, :1], dim=1), RuntimeError, "at least edge_order\\+1"),
    (lambda x: mg.gradient(x, spacing=[1.0]), RuntimeError, "one entry per dim"),
    (lambda x: mg.gradient(x, spacing=[[1.0, 2.0]], dim=1), RuntimeError,
     "2 coordinates for dim 1 of size 5"),
    (lambda x: mg.einsum("ij,jk->ik", x[0], x[0]), RuntimeError, "letter 'j' has sizes 4 and 5"),
    (lambda x: mg.einsum("i.j", x), RuntimeError, "a '.' outside an ellipsis"),
])
def test_errors(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call(mg.tensor(R(2, 5, 4)))


def test_index_and_predicate_functions() -> None:
    """Integer and bool results (no gradient): values and dtypes vs numpy and PyTorch."""
    special = np.array([1.0, np.inf, -np.inf, np.nan, 0.0])
    for ours, theirs in ((mg.isposinf, torch.isposinf), (mg.isneginf, torch.isneginf)):
        np.testing.assert_array_equal(ours(mg.tensor(special)).numpy(),
                                      theirs(torch.tensor(special)).numpy())
    np.testing.assert_array_equal(np.isposinf(mg.tensor(special)).numpy(), np.isposinf(special))
    edges, values = np.array([1.0, 2.0, 2.0, 3.0]), np.array([[2.0, 0.5], [3.5, 2.0]])
    for side in ("left", "right"):
        got = np.searchsorted(mg.tensor(edges), mg.tensor(values), side=side)
        np.testing.assert_array_equal(got.numpy(), np.searchsorted(edges, values, side=side))
    rows, points = R(2, 4).cumsum(1), R(2, 3)
    got = mg.searchsorted(mg.tensor(rows), mg.tensor(points), right=True, out_int32=True)
    expected = torch.searchsorted(torch.tensor(rows), torch.tensor(points), right=True,
                                  out_int32=True)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    unsorted = np.array([3.0, 1.0, 2.0])
    np.testing.assert_array_equal(
        np.searchsorted(mg.tensor(unsorted), 2.5, sorter=np.argsort(unsorted)).numpy(),
        np.searchsorted(unsorted, 2.5, sorter=np.argsort(unsorted)))
    x = R(3, 5)
    np.testing.assert_array_equal(np.flatnonzero(mg.tensor(x > 0)).numpy(), np.flatnonzero(x > 0))
    order = np.argpartition(mg.tensor(x), 2).numpy()
    np.testing.assert_array_equal(np.take_along_axis(x, order, -1), np.sort(x, -1))
    assert np.isreal(mg.tensor(x)).numpy().all() and not np.iscomplex(mg.tensor(x)).numpy().any()

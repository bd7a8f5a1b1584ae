"""PyTorch's scatter family, index_add/copy/fill, masked_select/scatter, Tensor.unfold and
F.scaled_dot_product_attention (minigrad/scattering.py, minigrad/nn/attention.py): values
and gradients against PyTorch 2.13 live, gradients to order 2 against finite differences
(float64), PyTorch's errors, and mg.jit against eager."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F

torch = pytest.importorskip("torch")

_rng = np.random.default_rng(21)
# repeated indices in every row (values in [0, 3) along dims of size >= 3)
DUPLICATES = _rng.integers(0, 3, (3, 4, 5))


def _both(array: np.ndarray) -> tuple[mg.Tensor, torch.Tensor]:
    differentiable = array.dtype.kind == "f"
    return (mg.tensor(array, requires_grad=differentiable),
            torch.tensor(array, requires_grad=differentiable))


def _compare(ours, theirs, arrays, *, grads: bool = True) -> None:
    """Values (and, with ``grads``, the gradients of sum(out * w)) equal PyTorch's."""
    pairs = [_both(a) for a in arrays]
    got = ours(*[p[0] for p in pairs])
    expected = theirs(*[p[1] for p in pairs])
    assert got.shape == tuple(expected.shape)
    np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    if not grads:
        return
    weights = _rng.standard_normal(got.shape)
    (got * mg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for (mine, reference), array in zip(pairs, arrays, strict=True):
        if array.dtype.kind == "f":
            np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-12,
                                       atol=1e-12)


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_scatter_last_writer_wins_as_torch(dim) -> None:
    idx = DUPLICATES
    _compare(lambda x, s: x.scatter(dim, mg.tensor(idx), s),
             lambda x, s: x.scatter(dim, torch.tensor(idx), s),
             [_rng.standard_normal((4, 5, 6)), _rng.standard_normal((4, 5, 6))], grads=False)


def test_scatter_value_and_reduce_forms() -> None:
    idx = DUPLICATES
    for value in (3.0, float("inf"), float("nan")):
        for reduce in (None, "add", "multiply"):
            def ours(x, v=value, r=reduce):
                return x.scatter(1, mg.tensor(idx), value=v, reduce=r)

            def theirs(x, v=value, r=reduce):
                return x.scatter(1, torch.tensor(idx), value=v, **({"reduce": r} if r else {}))

            x = _rng.standard_normal((4, 5, 6))
            got, expected = ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy()
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0, equal_nan=True)
    overlap = mg.tensor([1.0, 2.0, 3.0, 4.0]).scatter(0, mg.tensor([0, 0]), mg.tensor([1.0, 0.0]))
    assert overlap.tolist() == [0.0, 2.0, 3.0, 4.0]  # PyTorch's CPU result


@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_reduce_argument_with_tensor_src(reduce) -> None:
    idx = DUPLICATES
    _compare(lambda x, s: x.scatter(1, mg.tensor(idx), s, reduce=reduce),
             lambda x, s: x.scatter(1, torch.tensor(idx), s, reduce=reduce),
             [_rng.standard_normal((4, 5, 6)), _rng.standard_normal((4, 5, 6))], grads=False)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_values_and_gradients_as_torch(reduce, include_self) -> None:
    idx = DUPLICATES
    src = _rng.standard_normal((3, 4, 5))
    src[0, 0, :2] = 0.0  # zeros for prod
    for dim in (1, -1):
        _compare(lambda x, s, d=dim: x.scatter_reduce(d, mg.tensor(idx), s, reduce,
                                                      include_self=include_self),
                 lambda x, s, d=dim: x.scatter_reduce(d, torch.tensor(idx), s, reduce,
                                                      include_self=include_self),
                 [_rng.standard_normal((3, 4, 5)), src])


def test_scatter_reduce_ties_share_the_gradient_as_torch() -> None:
    """Tied maxima share the gradient evenly, the input's value included. Without
    include_self PyTorch still counts an input equal to the result when it divides (its
    share then vanishes, so the shares do not add up to the gradient); minigrad shares
    between the scattered values only: compared where the input differs from the result."""
    src = np.array([[5.0, 5.0, 1.0, 2.0]])
    idx = np.array([[1, 1, 0, 2]])
    for reduce, x in (("amax", [[1.0, 5.0, 2.0]]), ("amin", [[1.0, 5.0, 2.0]])):
        _compare(lambda a, s, r=reduce: mg.scatter_reduce(a, 1, mg.tensor(idx), s, r),
                 lambda a, s, r=reduce: torch.scatter_reduce(a, 1, torch.tensor(idx), s, r),
                 [np.array(x), src])
        _compare(lambda a, s, r=reduce: mg.scatter_reduce(a, 1, mg.tensor(idx), s, r,
                                                          include_self=False),
                 lambda a, s, r=reduce: torch.scatter_reduce(a, 1, torch.tensor(idx), s, r,
                                                             include_self=False),
                 [np.array([[7.0, -7.0, 0.0]]), src])
    x = mg.tensor(np.array([[0.0, 5.0, 0.0]]), requires_grad=True)
    s = mg.tensor(src, requires_grad=True)
    mg.scatter_reduce(x, 1, mg.tensor(idx), s, "amax", include_self=False).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 0.0]] and s.grad.tolist() == [[0.5, 0.5, 1.0, 1.0]]


def test_scatter_reduce_integers_as_torch() -> None:
    x = _rng.integers(-9, 9, (3, 4, 5))
    src = _rng.integers(-9, 9, (3, 4, 5))
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            got = mg.tensor(x).scatter_reduce(1, mg.tensor(DUPLICATES), mg.tensor(src), reduce,
                                              include_self=include_self)
            expected = torch.tensor(x).scatter_reduce(1, torch.tensor(DUPLICATES),
                                                      torch.tensor(src), reduce,
                                                      include_self=include_self)
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize("dtype", ["int32", "uint8", "float16", "bool"])
def test_dtypes_are_kept_as_torch(dtype) -> None:
    x = _rng.integers(0, 4, (3, 4)).astype(dtype)
    src = _rng.integers(0, 4, (3, 4)).astype(dtype)
    idx = _rng.integers(0, 4, (3, 4))
    for reduce in ("sum", "prod", "amax", "amin") + (() if dtype == "bool" else ("mean",)):
        got = mg.tensor(x).scatter_reduce(1, mg.tensor(idx), mg.tensor(src), reduce)
        expected = torch.tensor(x).scatter_reduce(1, torch.tensor(idx), torch.tensor(src), reduce)
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
    got = mg.tensor(x).scatter(1, mg.tensor(idx), value=2, reduce="multiply")
    expected = torch.tensor(x).scatter(1, torch.tensor(idx), 2, reduce="multiply")
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    if dtype == "bool":
        with pytest.raises(RuntimeError, match="'mean' is not implemented for bool"):
            mg.tensor(x).scatter_reduce(1, mg.tensor(idx), mg.tensor(src), "mean")


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_second_order(reduce) -> None:
    idx = mg.tensor(np.array([[0, 2, 0], [1, 1, 1]]))
    src = np.array([[0.0, 1.3, -0.7], [0.4, 0.0, 1.1]])  # zeros for prod
    for include_self in (True, False):
        for order in (1, 2):
            mg.gradcheck(lambda x, s, i=include_self: mg.scatter_reduce(
                x, 1, idx, s, reduce, include_self=i), [_rng.standard_normal((2, 4)), src],
                order=order)


def test_scatter_and_scatter_add_second_order() -> None:
    idx = mg.tensor(np.array([[2, 0], [1, 3]]))  # no repeats in a row
    inputs = [_rng.standard_normal((2, 4)), _rng.standard_normal((3, 3))]
    for fn in (lambda x, s: x.scatter(1, idx, s), lambda x, s: x.scatter_add(1, idx, s),
               lambda x, s: x.scatter(1, idx, s, reduce="multiply")):
        for order in (1, 2):
            mg.gradcheck(fn, inputs, order=order)
    _compare(lambda x, s: x.scatter(1, idx, s),  # PyTorch's backward needs src of idx's shape
             lambda x, s: x.scatter(1, torch.tensor(idx.numpy()), s),
             [inputs[0], inputs[1][:2, :2]])


def test_index_functions_as_torch() -> None:
    index = np.array([2, 0, 2])
    x, source = _rng.standard_normal((4, 3)), _rng.standard_normal((3, 3))
    _compare(lambda a, s: mg.index_add(a, 0, mg.tensor(index), s, alpha=2.5),
             lambda a, s: torch.index_add(a, 0, torch.tensor(index), s, alpha=2.5), [x, source])
    unique = np.array([3, 0, 1])
    _compare(lambda a, s: a.index_copy(0, mg.tensor(unique), s),
             lambda a, s: a.index_copy(0, torch.tensor(unique), s), [x, source])
    _compare(lambda a: a.index_fill(1, mg.tensor(np.array([2, 0])), -1.5),
             lambda a: a.index_fill(1, torch.tensor(np.array([2, 0])), -1.5), [x])
    _compare(lambda a, v: a.index_fill(1, mg.tensor(np.array([1])), v),
             lambda a, v: a.index_fill(1, torch.tensor(np.array([1])), v), [x, np.array(0.5)])
    for order in (1, 2):
        mg.gradcheck(lambda a, s: mg.index_add(a, 1, mg.tensor(index), s),
                     [x, _rng.standard_normal((4, 3))], order=order)


def test_masked_functions_as_torch() -> None:
    x = _rng.standard_normal((4, 5))
    mask = x > 0.2
    _compare(lambda a: a.masked_select(mg.tensor(mask)),
             lambda a: a.masked_select(torch.tensor(mask)), [x])
    _compare(lambda a: a.masked_select(mg.tensor(True)),
             lambda a: a.masked_select(torch.tensor(True)), [x])
    row = np.array([True, False, True, True, False])
    _compare(lambda a, s: a.masked_scatter(mg.tensor(row), s),
             lambda a, s: a.masked_scatter(torch.tensor(row), s), [x, _rng.standard_normal(14)])
    for order in (1, 2):
        mg.gradcheck(lambda a, s: a.masked_scatter(mg.tensor(row), s),
                     [x, _rng.standard_normal((3, 5))], order=order)


@pytest.mark.parametrize(("shape", "args"), [
    ((8,), (0, 2, 1)), ((8,), (0, 7, 3)), ((3, 3, 3), (2, 2, 8)), ((3, 3, 3), (1, 0, 8)),
    ((2, 3, 5), (-1, 2, 2)), ((4, 2), (0, 4, 1)), ((), (0, 1, 1)),
])
def test_unfold_as_torch(shape, args) -> None:
    _compare(lambda a: a.unfold(*args), lambda a: a.unfold(*args), [_rng.standard_normal(shape)])
    mg.gradcheck(lambda a: a.unfold(*args), [_rng.standard_normal(shape)], order=2)


@pytest.mark.parametrize("form", ["plain", "float-mask", "bool-mask", "blocked-row", "causal",
                                  "gqa-scale"])
def test_scaled_dot_product_attention_as_torch(form) -> None:
    heads = 4 if form == "gqa-scale" else 2
    arrays = [_rng.standard_normal((2, heads, 3, 5)), _rng.standard_normal((2, 2, 6, 5)),
              _rng.standard_normal((2, 2, 6, 4))]
    keywords: dict = {"is_causal": form == "causal"}
    if form == "gqa-scale":
        keywords.update(enable_gqa=True, scale=0.3)
    blocked = _rng.random((3, 6)) > 0.3
    blocked[1] = False  # query 1 may attend no key: zeros, as PyTorch 2.13
    mask = {"float-mask": _rng.standard_normal((3, 6)), "bool-mask": _rng.random((3, 6)) > 0.3,
            "blocked-row": blocked}
    if form in mask:
        arrays.append(mask[form])

    def ours(*ts):
        return F.scaled_dot_product_attention(*ts[:3], attn_mask=ts[3] if len(ts) > 3 else None,
                                              **keywords)

    def theirs(*ts):
        return torch.nn.functional.scaled_dot_product_attention(
            *ts[:3], attn_mask=ts[3] if len(ts) > 3 else None, **keywords)

    _compare(ours, theirs, arrays)
    if form in ("plain", "causal"):
        small = [_rng.standard_normal((1, 2, 3)) for _ in range(3)]
        mg.gradcheck(ours, small, order=2)


def test_dropout_in_attention_keeps_the_expected_value() -> None:
    mg.manual_seed(3)
    q = mg.tensor(_rng.standard_normal((1, 4, 3)))
    plain = F.scaled_dot_product_attention(q, q, q)
    dropped = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    assert dropped.shape == plain.shape
    assert not np.allclose(dropped.numpy(), plain.numpy())


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda x: x.scatter(1, mg.tensor(DUPLICATES), mg.tensor(np.ones((4, 5, 6), np.float16))),
     RuntimeError, "Expected self.dtype to be equal to src.dtype"),
    (lambda x: x.scatter(1, mg.tensor(DUPLICATES[0]), x), RuntimeError,
     "Index tensor must have the same number of dimensions"),
    (lambda x: x[:2].scatter(1, mg.tensor(DUPLICATES), x), RuntimeError,
     r"Expected index \[3, 4, 5\] to be smaller than self \[2, 5, 6\] apart from dimension 1"),
    (lambda x: x.scatter(1, mg.tensor(DUPLICATES), x, mode="typo"), TypeError, "mode"),
    (lambda x: x.scatter(1, mg.tensor(DUPLICATES + 4), x), IndexError,
     r"scatter\(\): index 6 is out of bounds for dimension 1 with size 5"),
    (lambda x: x.scatter_add(1, mg.tensor(DUPLICATES - 1), x), RuntimeError,
     r"scatter_add\(\): index -1 is out of bounds for dimension 1 with size 5"),
    (lambda x: x.index_copy(0, mg.tensor([-1]), x[:1]), IndexError,
     r"index_copy\(\): index -1 is out of bounds for dimension 0 with size 4"),
    (lambda x: x.scatter(1, mg.tensor(DUPLICATES * 0.5), x), RuntimeError,
     "Expected dtype int64 for index"),
    (lambda x: x.scatter(1, mg.tensor(DUPLICATES), x, reduce="max"), RuntimeError,
     "reduce argument must be either add or multiply"),
    (lambda x: x.scatter_reduce(0, mg.tensor(DUPLICATES), x, "INVALID"), RuntimeError,
     "reduce argument must be either sum, prod, mean, amax or amin, got INVALID"),
    (lambda x: x.index_add(0, mg.tensor([0, 1]), x), RuntimeError,
     r"source of shape \(4, 5, 6\) must match self \(4, 5, 6\) excluding dimension 0"),
    (lambda x: x.masked_select(x), RuntimeError, "expected BoolTensor for mask"),
    (lambda x: x.masked_scatter(x > 0, mg.tensor(np.ones(1))), RuntimeError,
     "expected source to have at least"),
    (lambda x: x.unfold(0, 9, 3), RuntimeError, "maximum size for tensor at dimension 0 is 4 "
                                                "but size is 9"),
    (lambda x: x.unfold(0, 1, -1), RuntimeError, "step is -1 but must be > 0"),
    (lambda x: x.unfold(3, 1, 1), IndexError, "dim 3 is out of range"),
    (lambda x: F.scaled_dot_product_attention(x, x, x, attn_mask=x > 0, is_causal=True),
     RuntimeError, "attn_mask should not be set when is_causal=True"),
    (lambda x: F.scaled_dot_product_attention(x[:3], x, x, enable_gqa=True), RuntimeError,
     r"the number of query heads \(3\) must be a multiple"),
    (lambda x: F.scaled_dot_product_attention(x[0], x[0], x[0], enable_gqa=True), RuntimeError,
     r"enable_gqa needs inputs with a heads dim"),
    (lambda x: F.scaled_dot_product_attention(x[0], x[0], x[0], attn_mask=x[:, :, :5] > 0),
     RuntimeError, r"attn_mask of shape \(4, 5, 5\) does not broadcast to the scores \(5, 5\)"),
])
def test_errors_as_torch(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call(mg.tensor(_rng.standard_normal((4, 5, 6))))


def test_jit_matches_eager() -> None:
    """Index and mask arguments change between calls: the compiled step follows them."""
    def step(x, s, idx, mask):
        out = (x.scatter_reduce(1, idx, s, "amax", include_self=False)
               + x.scatter(1, idx, s) * x.masked_scatter(mask, s))
        return out.sum(), mg.grad(out.sum(), [x, s])

    compiled = mg.jit(step, background=False)
    x = mg.tensor(_rng.standard_normal((3, 4, 5)), requires_grad=True)
    s = mg.tensor(_rng.standard_normal((3, 4, 5)), requires_grad=True)
    for _ in range(2):
        idx = mg.tensor(_rng.integers(0, 4, (3, 4, 5)))
        mask = mg.tensor(_rng.random((3, 4, 5)) > 0.5)
        value, grads = compiled(x, s, idx, mask)
        eager_value, eager_grads = step(x, s, idx, mask)
        np.testing.assert_allclose(value.numpy(), eager_value.numpy(), rtol=1e-12)
        for got, expected in zip(grads, eager_grads, strict=True):
            np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
    negative = _rng.integers(0, 4, (3, 4, 5))
    negative[1, 2, 3] = -1  # PyTorch refuses it; the compiled code must not wrap it
    with pytest.raises(IndexError, match="out of bounds"):
        compiled(x, s, mg.tensor(negative), mask)
    multiply = mg.jit(lambda a, i: a.scatter(1, i, value=2.0, reduce="multiply"),
                      background=False)  # a one-hot product: the count keeps the check
    assert multiply(x, mg.tensor(np.zeros((3, 1, 5), np.int64))).shape == (3, 4, 5)
    with pytest.raises(IndexError, match="out of bounds"):
        multiply(x, mg.tensor(np.full((3, 1, 5), 4)))


def test_masked_select_is_refused_under_jit() -> None:
    """Its size depends on the mask's values: mg.jit refuses instead of freezing a mask."""
    from minigrad.jit import NotCompilableError

    compiled = mg.jit(lambda x, m: x.masked_select(m), background=False)
    with pytest.raises(NotCompilableError, match="read into Python"):
        compiled(mg.tensor(np.arange(6.0)), mg.tensor(np.arange(6) % 2 == 0))


@pytest.mark.parametrize(("name", "args"), [
    ("scatter_", lambda m: (1, m.tensor(DUPLICATES[:, :, :2]), 2.5)),
    ("scatter_add_", lambda m: (0, m.tensor(DUPLICATES[:, :, :2]), "S")),
    ("scatter_reduce_", lambda m: (1, m.tensor(DUPLICATES[:, :, :2]), "S", "amax")),
    ("index_add_", lambda m: (1, m.tensor(np.array([3, 0, 3, 1])), "S4")),
    ("index_copy_", lambda m: (1, m.tensor(np.array([3, 0, 2, 1])), "S4")),
    ("index_fill_", lambda m: (1, m.tensor(np.array([0, 2])), -1.0)),
    ("masked_scatter_", lambda m: (m.tensor(DUPLICATES[0, 0, :2] > 0), "S4")),
])
def test_in_place_forms_as_torch(name, args) -> None:
    """On a non-leaf the in-place op becomes the node (gradients flow through it); on a leaf
    that requires grad it is refused, as in PyTorch."""
    x, src, src4 = (_rng.standard_normal(s) for s in ((3, 4, 2), (3, 4, 2), (3, 4, 2)))

    def resolve(module, source, source4):
        named = {"S": source, "S4": source4}
        return [named[a] if isinstance(a, str) and a in named else a for a in args(module)]

    def run(module, leaf, source, source4):
        resolved = resolve(module, source, source4)
        y = leaf * 1.0
        assert getattr(y, name)(*resolved) is y
        return y

    leaf, t_leaf = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    s_leaf, t_s = mg.tensor(src, requires_grad=True), torch.tensor(src, requires_grad=True)
    s4, t_s4 = mg.tensor(src4, requires_grad=True), torch.tensor(src4, requires_grad=True)
    got, expected = run(mg, leaf, s_leaf, s4), run(torch, t_leaf, t_s, t_s4)
    np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-12)
    weights = _rng.standard_normal(got.shape)
    (got * mg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), t_leaf.grad.numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(RuntimeError, match=f"{name}: a leaf tensor that requires grad"):
        getattr(leaf, name)(*resolve(mg, s_leaf, s4))


def test_zero_dim_and_negative_index_fill_as_torch() -> None:
    x, src = np.array(5.0), np.array(2.0)
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        _compare(lambda a, s, r=reduce: a.scatter_reduce(-1, mg.tensor(0), s, r),
                 lambda a, s, r=reduce: a.scatter_reduce(-1, torch.tensor(0), s, r), [x, src])
    _compare(lambda a, s: a.scatter(0, mg.tensor(0), s),
             lambda a, s: a.scatter(0, torch.tensor(0), s), [x, src], grads=False)
    _compare(lambda a, s: a.scatter_add(0, mg.tensor(0), s),
             lambda a, s: a.scatter_add(0, torch.tensor(0), s), [x, src])
    _compare(lambda a: a.index_fill(1, mg.tensor([-1, 0]), 2.5),
             lambda a: a.index_fill(1, torch.tensor([-1, 0]), 2.5), [_rng.standard_normal((2, 3))])


def test_index_put_as_torch() -> None:
    rows, cols = np.array([0, 0, 2, 1]), np.array([1, 1, 3, 0])
    x, values = _rng.standard_normal((3, 4)), _rng.standard_normal(4)
    _compare(lambda a, v: mg.index_put(a, (mg.tensor(rows), mg.tensor(cols)), v, True),
             lambda a, v: torch.index_put(a, (torch.tensor(rows), torch.tensor(cols)), v, True),
             [x, values])
    unique = np.array([2, 0])
    _compare(lambda a, v: a.index_put((mg.tensor(unique),), v),
             lambda a, v: a.index_put((torch.tensor(unique),), v), [x, _rng.standard_normal(4)])
    mask = np.array([True, False, True])
    _compare(lambda a, v: a.index_put((mg.tensor(mask),), v, accumulate=True),
             lambda a, v: a.index_put((torch.tensor(mask),), v, accumulate=True),
             [x, np.array(0.5)])
    y, t_y = mg.tensor(x) * 1.0, torch.tensor(x) * 1.0
    y.index_put_((mg.tensor(rows), mg.tensor(cols)), mg.tensor(values), accumulate=True)
    t_y.index_put_((torch.tensor(rows), torch.tensor(cols)), torch.tensor(values), True)
    np.testing.assert_allclose(y.numpy(), t_y.numpy(), rtol=1e-12)
    for order in (1, 2):
        mg.gradcheck(lambda a, v: mg.index_put(a, (mg.tensor(rows), mg.tensor(cols)), v, True),
                     [x, values], order=order)

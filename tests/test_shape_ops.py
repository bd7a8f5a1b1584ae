"""Shape ops and products (issue 15 §2) against PyTorch 2.13, live, in float64: values, the
gradient of sum(w * out**2) and the derivative of that gradient along a direction u (second
order: each op's VJP differentiated again); bad arguments name what is wrong; mg.jit of a
few representative ones equals eager."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")
tf = torch.nn.functional

_rng = np.random.default_rng(2026)


def _r(*shape: int) -> np.ndarray:
    return _rng.standard_normal(shape)


A23, A234, A33, A4, A5 = _r(2, 3), _r(2, 3, 4), _r(3, 3), _r(4), _r(5)
IDX = np.array([[2, 0, 1, 1], [0, 0, 2, 1]])

# (id, minigrad function, torch function, inputs); outputs may be tuples of tensors
CASES = [
    ("permute", lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1), [A234]),
    ("permute-fn", lambda x: mg.permute(x, (1, -1, 0)), lambda x: torch.permute(x, (1, -1, 0)),
     [A234]),
    ("permute-keyword", lambda x: x.permute(dims=(2, 0, 1)), lambda x: x.permute(dims=(2, 0, 1)),
     [A234]),
    ("t", lambda x: x.t(), lambda x: x.t(), [A23]),
    ("t-1d", mg.t, torch.t, [A4]),
    ("mT", lambda x: x.mT, lambda x: x.mT, [A234]),
    ("transpose-2d", lambda x: x.transpose(0, 1), lambda x: x.transpose(0, 1), [A23]),
    ("swapdims", lambda x: mg.swapdims(x, 0, 2), lambda x: torch.swapdims(x, 0, 2), [A234]),
    ("movedim", lambda x: x.movedim(0, -1), lambda x: x.movedim(0, -1), [A234]),
    ("movedim-2", lambda x: mg.movedim(x, (0, 1), (2, 0)),
     lambda x: torch.movedim(x, (0, 1), (2, 0)), [A234]),
    ("unsqueeze", lambda x: x.unsqueeze(1), lambda x: x.unsqueeze(1), [A23]),
    ("unsqueeze-end", lambda x: mg.unsqueeze(x, -1), lambda x: torch.unsqueeze(x, -1), [A23]),
    ("squeeze", lambda x: x.reshape(2, 1, 3, 1).squeeze(), lambda x: x.reshape(2, 1, 3, 1)
     .squeeze(), [A23]),
    ("squeeze-dim", lambda x: x.reshape(2, 1, 3, 1).squeeze(-1),
     lambda x: x.reshape(2, 1, 3, 1).squeeze(-1), [A23]),
    ("squeeze-dims", lambda x: x.reshape(2, 1, 3, 1).squeeze((0, 1)),
     lambda x: x.reshape(2, 1, 3, 1).squeeze((0, 1)), [A23]),
    ("expand", lambda x: x.reshape(2, 1, 3).expand(4, -1, 5, -1),
     lambda x: x.reshape(2, 1, 3).expand(4, -1, 5, -1), [A23]),
    ("expand_as", lambda x, y: x.expand_as(y) + y, lambda x, y: x.expand_as(y) + y, [A4, A234]),
    ("repeat", lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3), [A23]),
    ("repeat-1d", lambda x: mg.repeat(x, (3,)), lambda x: x.repeat(3), [A4]),
    ("flatten", lambda x: x.flatten(), lambda x: x.flatten(), [A234]),
    ("flatten-1", lambda x: x.flatten(1), lambda x: x.flatten(1), [A234]),
    ("flatten-0-1", lambda x: mg.flatten(x, 0, 1), lambda x: torch.flatten(x, 0, 1), [A234]),
    ("unflatten", lambda x: x.unflatten(-1, (2, -1)), lambda x: x.unflatten(-1, (2, -1)),
     [A234]),
    ("view", lambda x: x.view(-1, 6), lambda x: x.view(-1, 6), [A234]),
    ("reshape", lambda x: x.reshape(4, -1), lambda x: x.reshape(4, -1), [A234]),
    ("split", lambda x: x.split(3, 1), lambda x: x.split(3, 1), [_r(2, 7)]),
    ("split-sizes", lambda x: mg.split(x, [1, 4, 2], -1), lambda x: torch.split(x, [1, 4, 2], -1),
     [_r(2, 7)]),
    ("chunk", lambda x: x.chunk(3, 1), lambda x: x.chunk(3, 1), [_r(2, 7)]),
    ("chunk-fewer", lambda x: mg.chunk(x, 4), lambda x: torch.chunk(x, 4), [_r(6)]),
    ("unbind", lambda x: x.unbind(1), lambda x: x.unbind(1), [A234]),
    ("cat", lambda x, y: mg.cat([x, y], 1), lambda x, y: torch.cat([x, y], 1),
     [A234, _r(2, 2, 4)]),
    ("cat-3", lambda x, y: mg.cat([x, y, x], dim=-1), lambda x, y: torch.cat([x, y, x], -1),
     [A23, _r(2, 1)]),
    ("stack", lambda x, y: mg.stack([x, y]), lambda x, y: torch.stack([x, y]), [A23, A23 * 2]),
    ("stack-last", lambda x, y: mg.stack([x, y, x], -1), lambda x, y: torch.stack([x, y, x], -1),
     [A23, _r(2, 3)]),
    ("flip", lambda x: x.flip(0, 2), lambda x: x.flip(0, 2), [A234]),
    ("flip-fn", lambda x: mg.flip(x, -1), lambda x: torch.flip(x, (-1,)), [A23]),
    ("flip-keyword", lambda x: x.flip(dims=[1]), lambda x: x.flip(dims=[1]), [A234]),
    ("roll", lambda x: x.roll(1, 0), lambda x: x.roll(1, 0), [A234]),
    ("roll-dims", lambda x: mg.roll(x, (2, -1), (2, 1)), lambda x: torch.roll(x, (2, -1), (2, 1)),
     [A234]),
    ("roll-flat", lambda x: mg.roll(x, 5), lambda x: torch.roll(x, 5), [A234]),
    ("pad-constant", lambda x: mg.pad(x, (1, 2)), lambda x: tf.pad(x, (1, 2)), [A234]),
    ("pad-value", lambda x: mg.pad(x, (0, 1, 2, 0), value=1.5),
     lambda x: tf.pad(x, (0, 1, 2, 0), value=1.5), [A234]),
    ("pad-crop", lambda x: mg.pad(x, (-1, 2, 1, -1)), lambda x: tf.pad(x, (-1, 2, 1, -1)),
     [A234]),
    ("pad-reflect", lambda x: mg.pad(x, (2, 3), mode="reflect"),
     lambda x: tf.pad(x, (2, 3), mode="reflect"), [A234]),
    ("pad-reflect-2d", lambda x: mg.pad(x, (1, 2, 2, 1), mode="reflect"),
     lambda x: tf.pad(x, (1, 2, 2, 1), mode="reflect"), [_r(1, 3, 4)]),
    ("pad-replicate", lambda x: mg.pad(x, (3, 1, 0, 2), mode="replicate"),
     lambda x: tf.pad(x, (3, 1, 0, 2), mode="replicate"), [_r(1, 2, 3)]),
    ("pad-circular", lambda x: mg.pad(x, (4, 2), mode="circular"),
     lambda x: tf.pad(x, (4, 2), mode="circular"), [A234]),
    ("tril", lambda x: x.tril(), lambda x: x.tril(), [A234]),
    ("tril-1", lambda x: mg.tril(x, 1), lambda x: torch.tril(x, 1), [A23]),
    ("triu", lambda x: x.triu(), lambda x: x.triu(), [A33]),
    ("triu--1", lambda x: mg.triu(x, diagonal=-1), lambda x: torch.triu(x, diagonal=-1),
     [A234]),
    ("diag-vector", lambda x: x.diag(), lambda x: x.diag(), [A4]),
    ("diag-vector-k", lambda x: mg.diag(x, -2), lambda x: torch.diag(x, -2), [A4]),
    ("diag-matrix", lambda x: mg.diag(x, 1), lambda x: torch.diag(x, 1), [A23]),
    ("diagonal", lambda x: x.diagonal(), lambda x: x.diagonal(), [A33]),
    ("diagonal-dims", lambda x: mg.diagonal(x, -1, 0, 2), lambda x: torch.diagonal(x, -1, 0, 2),
     [A234]),
    ("trace", lambda x: x.trace(), lambda x: x.trace(), [A33]),
    ("take_along_dim", lambda x: mg.take_along_dim(x, mg.tensor(IDX), 0),
     lambda x: torch.take_along_dim(x, torch.tensor(IDX), 0), [_r(3, 4)]),
    ("take_along_dim-broadcast", lambda x: x.take_along_dim(mg.tensor([[[1], [0], [3]]]), 2),
     lambda x: x.take_along_dim(torch.tensor([[[1], [0], [3]]]), 2), [A234]),
    ("take_along_dim-flat", lambda x: mg.take_along_dim(x, mg.tensor([5, 0, 5])),
     lambda x: torch.take_along_dim(x, torch.tensor([5, 0, 5])), [A23]),
    ("outer", mg.outer, torch.outer, [A4, _r(3)]),
    ("dot", lambda x, y: x.dot(y), lambda x, y: x.dot(y), [A4, _r(4)]),
    ("matmul-method", lambda x, y: x.matmul(y), lambda x, y: x.matmul(y), [A234, _r(4, 2)]),
    ("inner", mg.inner, torch.inner, [A234, _r(5, 4)]),
    ("tensordot", lambda x, y: mg.tensordot(x, y, 1), lambda x, y: torch.tensordot(x, y, 1),
     [A234, _r(4, 2)]),
    ("tensordot-2", mg.tensordot, torch.tensordot, [A234, _r(3, 4, 5)]),
    ("tensordot-pairs", lambda x, y: mg.tensordot(x, y, ([0, 2], [2, 0])),
     lambda x, y: torch.tensordot(x, y, ([0, 2], [2, 0])), [A234, _r(4, 5, 2)]),
    ("einsum-matmul", lambda x, y: mg.einsum("ij,jk->ik", x, y),
     lambda x, y: torch.einsum("ij,jk->ik", x, y), [A23, _r(3, 4)]),
    ("einsum-bmm", lambda x, y: mg.einsum("bij,bjk->bik", x, y),
     lambda x, y: torch.einsum("bij,bjk->bik", x, y), [A234, _r(2, 4, 3)]),
    ("einsum-implicit", lambda x, y: mg.einsum("ij,kj", x, y),
     lambda x, y: torch.einsum("ij,kj", x, y), [A23, _r(4, 3)]),
    ("einsum-transpose", lambda x: mg.einsum("ijk->kji", x),
     lambda x: torch.einsum("ijk->kji", x), [A234]),
    ("einsum-trace", lambda x: mg.einsum("ii", x), lambda x: torch.einsum("ii", x), [A33]),
    ("einsum-diag", lambda x: mg.einsum("ii->i", x), lambda x: torch.einsum("ii->i", x), [A33]),
    ("einsum-sum", lambda x: mg.einsum("ijk->j", x), lambda x: torch.einsum("ijk->j", x),
     [A234]),
    ("einsum-outer", lambda x, y: mg.einsum("i,j->ij", x, y),
     lambda x, y: torch.einsum("i,j->ij", x, y), [A4, A5]),
    ("einsum-dot", lambda x, y: mg.einsum("i,i->", x, y),
     lambda x, y: torch.einsum("i,i->", x, y), [A4, _r(4)]),
    ("einsum-mixed", lambda x, y: mg.einsum("bik,kjb->jbi", x, y),
     lambda x, y: torch.einsum("bik,kjb->jbi", x, y), [A234, _r(4, 5, 2)]),
    ("einsum-three", lambda x, y, z: mg.einsum("ij,jk,kl->il", x, y, z),
     lambda x, y, z: torch.einsum("ij,jk,kl->il", x, y, z), [A23, _r(3, 4), _r(4, 2)]),
    ("einsum-list", lambda x, y: mg.einsum("ij,ij->i", [x, y]),
     lambda x, y: torch.einsum("ij,ij->i", [x, y]), [A23, _r(2, 3)]),
    ("std", lambda x: x.std(dim=1, keepdim=True, correction=1),
     lambda x: x.std(dim=1, keepdim=True), [A234]),
    ("var-dims", lambda x: mg.var(x, dim=(0, 2), unbiased=False),
     lambda x: torch.var(x, dim=(0, 2), unbiased=False), [A234]),
    ("sum-dim", lambda x: x.sum(dim=[0, 2], keepdim=True), lambda x: x.sum(dim=[0, 2],
                                                                           keepdim=True), [A234]),
    ("mean-dim", lambda x: mg.mean(x, dim=-1), lambda x: torch.mean(x, dim=-1), [A234]),
    ("clone", lambda x: x.clone(), lambda x: x.clone(), [A23]),
    ("pow", lambda x: x.pow(3), lambda x: x.pow(3), [A23]),
    ("type_as", lambda x: x.float().type_as(x), lambda x: x.float().type_as(x), [A23]),
]


def _tuple(out):
    return tuple(out) if isinstance(out, tuple | list) else (out,)


def _objective(outs, weights, lib):
    """sum_k sum(w_k * out_k**2): nonlinear, so the second derivative sees every VJP."""
    total = 0.0
    for out, w in zip(outs, weights, strict=True):
        total = total + (lib.tensor(w) * out * out).sum()
    return total


@pytest.mark.parametrize(("mg_fn", "torch_fn", "arrays"),
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_values_and_two_orders_of_gradients_match_pytorch(mg_fn, torch_fn, arrays) -> None:
    mine = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    outs, touts = _tuple(mg_fn(*mine)), _tuple(torch_fn(*theirs))
    assert len(outs) == len(touts)
    for out, tout in zip(outs, touts, strict=True):
        assert out.shape == tuple(tout.shape)
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    weights = [_rng.standard_normal(out.shape) for out in outs]
    grads = mg.grad(_objective(outs, weights, mg), mine, create_graph=True)
    tgrads = torch.autograd.grad(_objective(touts, weights, torch), theirs, create_graph=True)
    for g, tg in zip(grads, tgrads, strict=True):
        np.testing.assert_allclose(g.numpy(), tg.detach().numpy(), rtol=1e-10, atol=1e-12)
    directions = [_rng.standard_normal(a.shape) for a in arrays]
    second = mg.grad(sum((g * mg.tensor(u)).sum() for g, u in zip(grads, directions,
                                                                   strict=True)), mine)
    tsecond = torch.autograd.grad(sum((g * torch.tensor(u)).sum() for g, u in zip(
        tgrads, directions, strict=True)), theirs)
    for h, th in zip(second, tsecond, strict=True):
        np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("mg_fn", "arrays"), [
    pytest.param(lambda x, y: mg.cat([x, y], 1), [A234, _r(2, 2, 4)], id="cat"),
    pytest.param(lambda x: mg.pad(x, (2, 1), mode="reflect"), [A234], id="pad-reflect"),
    pytest.param(lambda x, y: mg.einsum("bik,kjb->jbi", x, y), [A234, _r(4, 5, 2)],
                 id="einsum"),
    pytest.param(lambda x: x.diagonal(-1, 0, 2), [A234], id="diagonal"),
])
def test_gradients_to_second_order_against_finite_differences(mg_fn, arrays) -> None:
    assert mg.gradcheck(lambda *xs: mg_fn(*xs) ** 2, arrays, order=2, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("requires_grad", [False, True])
def test_cat_of_many_parts_equals_numpy(requires_grad) -> None:
    """Without grad numpy joins the parts at once; with grad a tree of pairwise joins."""
    arrays = [_r(2, k, 3) for k in (1, 4, 2, 3, 1)]
    parts = [mg.tensor(a, requires_grad=requires_grad) for a in arrays]
    joined = mg.cat(parts, 1)
    np.testing.assert_array_equal(joined.numpy(), np.concatenate(arrays, 1))
    assert joined.requires_grad == requires_grad


def test_results_keep_dtype_and_promote_in_cat() -> None:
    ints = mg.tensor([[1, 2]])
    assert mg.cat([ints, ints]).dtype == mg.int64
    assert mg.cat([ints, mg.tensor([[0.5, 1.5]])]).dtype == mg.float32
    assert mg.stack([mg.tensor([True]), mg.tensor([False])]).tolist() == [[True], [False]]
    assert mg.pad(ints, (1, 1), value=7).tolist() == [[7, 1, 2, 7]]
    assert mg.flip(ints, 1).tolist() == [[2, 1]]
    assert mg.tril(mg.ones(2, 2, dtype=mg.int32)).dtype == mg.int32
    x = mg.tensor([[1.0, np.inf], [np.nan, 2.0]])
    assert x.tril().tolist()[0] == [1.0, 0.0] and x.triu().tolist()[1] == [0.0, 2.0]


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda x: x.permute(0, 1), ValueError, r"permute: 2 dims \(0, 1\) given for a tensor of "
                                            r"shape \(2, 3, 4\)"),
    (lambda x: x.permute(0, 0, 1), ValueError, r"permute: repeated dim in \(0, 0, 1\)"),
    (lambda x: x.unsqueeze(4), IndexError, r"unsqueeze: dim 4 is out of range for a tensor "
                                           r"with 3 dimensions \(expected one in \[-4, 3\]\)"),
    (lambda x: x.squeeze(3), IndexError, "squeeze: dim 3 is out of range"),
    (lambda x: x.t(), ValueError, r"t\(\) expects a tensor with <= 2 dimensions, got shape "
                                  r"\(2, 3, 4\)"),
    (lambda x: x.expand(3, 4), ValueError, "expand: 2 sizes"),
    (lambda x: x.expand(5, 3, 4), ValueError, r"shapes \(2, 3, 4\) and \(5, 3, 4\) cannot "
                                              "be broadcast together"),
    (lambda x: x.expand(-1, 2, 3, 4), ValueError, "-1 is not allowed for a new leading dim"),
    (lambda x: x.repeat(2, 2), ValueError, r"repeat: needs at least 3 non-negative repeats"),
    (lambda x: x.flatten(2, 1), ValueError, "flatten: start_dim 2 comes after end_dim 1"),
    (lambda x: x.unflatten(1, (2, 2)), ValueError, r"unflatten: sizes \(2, 2\) do not fit dim "
                                                   r"1 of size 3"),
    (lambda x: x.split([1, 1], 1), ValueError, r"split: sections \[1, 1\] do not add up to 3"),
    (lambda x: x.chunk(0), ValueError, "chunk: chunks must be a positive integer, got 0"),
    (lambda x: mg.cat([x, x[:, :, :2].sum(2)]), ValueError,
     r"cat: tensor 1 has shape \(2, 3\), tensor 0 has shape \(2, 3, 4\)"),
    (lambda x: mg.cat([]), ValueError, "cat: expected a non-empty sequence of tensors"),
    (lambda x: mg.stack([x, x[0]]), ValueError, r"stack: tensor 1 has shape \(3, 4\)"),
    (lambda x: mg.roll(x, (1, 2), 0), ValueError, r"roll: shifts \(1, 2\) and dims 0 differ"),
    (lambda x: mg.pad(x, (1, 2, 3)), ValueError, r"pad: 3 amounts \(1, 2, 3\) must come in"),
    (lambda x: mg.pad(x, (4, 0), mode="reflect"), ValueError,
     r"pad: reflect padding \(4, 0\) of dim 2 must be less than its size 4"),
    (lambda x: mg.pad(x, (1, 1), mode="wrap"), ValueError, "pad: mode must be one of"),
    (lambda x: mg.pad(x, (-3, -2)), ValueError, r"pad: amounts \(-3, -2\) leave a negative "
                                                r"size for dim 2"),
    (lambda x: x.diag(), ValueError, r"diag: needs a 1-D or 2-D tensor, got shape \(2, 3, 4\)"),
    (lambda x: x.diagonal(0, 1, -2), ValueError, "diagonal: dim1 and dim2 are the same dim 1"),
    (lambda x: x.trace(), ValueError, r"trace: needs a 2-D tensor, got shape \(2, 3, 4\)"),
    (lambda x: x.take_along_dim(mg.tensor([[[0.5]]]), 0), TypeError,
     "take_along_dim: indices must be integers, got dtype float32"),
    (lambda x: x.take_along_dim(mg.tensor([[[0, 1], [1, 1]]]), 2), ValueError,
     r"input \(2, 3, 4\) and indices \(1, 2, 2\) cannot be broadcast outside dim 2"),
    (lambda x: x[0, 0].dot(x[0]), ValueError, r"dot: needs two 1-D tensors of one length, got "
                                              r"shapes \(4,\) and \(3, 4\)"),
    (lambda x: mg.outer(x, x), ValueError, "outer: needs two 1-D tensors"),
    (lambda x: mg.tensordot(x, x, 2), ValueError, r"tensordot: dims \[1, 2\] of shape "
                                                  r"\(2, 3, 4\) and \[0, 1\]"),
    (lambda x: mg.einsum("ij,jk", x, x), RuntimeError, r"einsum: subscripts 'ij' do not fit "
                                                       r"an operand of shape \(2, 3, 4\)"),
    (lambda x: mg.einsum("ijk,jkl->il", x, x), RuntimeError,
     "einsum: letter 'j' has sizes 3 and 2"),
    (lambda x: mg.einsum("ij...kl->k", x), RuntimeError, r"einsum: subscripts 'ij...kl' do not "
                                                          r"fit an operand of shape \(2, 3, 4\)"),
    (lambda x: mg.einsum("ijk->iz", x), RuntimeError, "einsum: output 'iz' must name distinct "
                                                      "letters of the inputs"),
    (lambda x: mg.einsum("ijk", x, x), RuntimeError, "einsum: 'ijk' names 1 operands, 2 given"),
    (lambda x: x.sum(axis=0, dim=1), TypeError, "sum: got both axis=0 and dim=1; give one"),
    (lambda x: x.var(correction=1, unbiased=True), TypeError,
     "var: got both correction and unbiased"),
    (lambda x: x.size(3), IndexError, "size: dim 3 is out of range"),
])
def test_bad_arguments_are_named(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call(mg.tensor(A234))


def test_tensor_api_names() -> None:
    x = mg.tensor(A234, dtype=mg.float32)
    assert x.size() == (2, 3, 4) and x.size(-2) == 3 and x.dim() == 3 and x.numel() == 24
    assert x.to(mg.float64).dtype == mg.float64 and x.to("cpu") is x
    assert x.to(mg.zeros(1, dtype=mg.float16)).dtype == mg.float16
    assert (x.half().dtype, x.long().dtype, x.int().dtype, x.bool().dtype, x.double().dtype) == (
        mg.float16, mg.int64, mg.int32, mg.bool, mg.float64)
    assert x.contiguous() is x and x.clone() is not x
    assert not np.shares_memory(x.clone().numpy(), x.numpy())
    assert x.new_zeros(2, 2).dtype == mg.float32 and x.new_ones((3,)).tolist() == [1, 1, 1]
    assert x.new_full((2,), 3, dtype=mg.int64).tolist() == [3, 3]
    assert x.long().sum(dim=0).dtype == mg.int64
    assert x.sum(dtype=mg.float64).dtype == mg.float64
    assert mg.tensor(3.5).item() == 3.5
    np.testing.assert_allclose(x.std().item(), np.float32(A234).std(ddof=1), rtol=1e-6)  # torch
    np.testing.assert_allclose(x.var(ddof=0).item(), np.float32(A234).var(), rtol=1e-6)


@pytest.mark.parametrize("misuse", [
    lambda t: t.size == 6, lambda t: t.size != 1, lambda t: bool(t.size), lambda t: t.size > 0,
    lambda t: range(t.size), lambda t: f"{t.size} elements", lambda t: t.size // 2,
])
def test_size_used_as_numpys_element_count_is_refused(misuse) -> None:
    """Tensor.size was a property giving the element count; code written for that (t.size
    != 1 was always true of a bound method) gets an error saying what to call instead."""
    with pytest.raises(TypeError, match=r"Tensor.size is a method, as in PyTorch: size\(\) is "
                                        r"the shape.*numel\(\) is the number of elements"):
        misuse(mg.zeros(2, 3))


def test_jit_equals_eager_on_representative_shape_ops() -> None:
    """One compiled function through cat, pad, flip, roll, einsum, tril, diag and their
    gradients: the kernel's values and gradients equal eager's."""
    def step(x, y):
        z = mg.cat([x, y], 1).flip(0).roll(1, 1)
        z = mg.pad(z, (1, 1), mode="reflect")
        products = mg.einsum("bik,kjb->bij", x, y.permute(2, 1, 0))
        loss = (z.tril() ** 2).sum() + (products ** 2).mean() + mg.diag(x[0, 0]).trace()
        return mg.grad(loss, [x, y])

    x = mg.tensor(_r(2, 3, 4), requires_grad=True)
    y = mg.tensor(_r(2, 3, 4), requires_grad=True)
    eager = step(x, y)
    compiled = mg.jit(step)(x, y)
    for e, c in zip(eager, compiled, strict=True):
        np.testing.assert_allclose(c.numpy(), e.numpy(), rtol=1e-5, atol=1e-6)

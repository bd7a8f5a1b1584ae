"""Odd but valid uses give the right numbers: a second backward accumulates as PyTorch's
retain_graph does, empty and 0-d tensors follow numpy and PyTorch, and non-contiguous,
read-only and byte-swapped numpy arrays give the right values and gradients (moved from
tests/test_bad_inputs.py, which keeps the inputs that must be refused)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


# ------------------------------------------------------------------ backward twice
def test_backward_twice_accumulates_like_torch_retain_graph() -> None:
    """Graphs are kept after backward, so a second backward accumulates: exactly what
    PyTorch does with retain_graph=True."""
    data = np.array([0.3, -1.2, 2.0])
    x = mg.tensor(data, requires_grad=True)
    y = (mg.exp(x * x) * mg.tanh(x)).sum()
    y.backward()
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-12)
    assert x.grad.op is None and not x.grad.requires_grad  # a history-free leaf
    torch = pytest.importorskip("torch")
    xt = torch.tensor(data, requires_grad=True)
    yt = (torch.exp(xt * xt) * torch.tanh(xt)).sum()
    yt.backward(retain_graph=True)
    np.testing.assert_allclose(first, xt.grad.numpy(), rtol=1e-12)
    yt.backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_backward_twice_through_batchnorm_like_torch() -> None:
    rng = np.random.default_rng(3)
    data, upstream = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    for impl in ("composed", "fused"):
        layer = mg.nn.BatchNorm1d(3, dtype="float64", impl=impl)
        x = mg.tensor(data, requires_grad=True)
        out = layer(x)
        out.backward(upstream)
        out.backward(upstream)
        torch = pytest.importorskip("torch")
        tlayer = torch.nn.BatchNorm1d(3).double()
        xt = torch.tensor(data, requires_grad=True)
        outt = tlayer(xt)
        outt.backward(torch.tensor(upstream), retain_graph=True)
        outt.backward(torch.tensor(upstream))
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(layer.weight.grad.numpy(), tlayer.weight.grad.numpy(),
                                   atol=1e-12)


def test_zero_grad_between_backwards_restarts_accumulation() -> None:
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.zero_grad_()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


# --------------------------------------------------------------------- empty tensors
def test_empty_tensors_follow_numpy_and_torch() -> None:
    x = mg.tensor(np.zeros((0, 3)), requires_grad=True)
    assert (x + 1.0).shape == (0, 3)
    assert x.sum().item() == 0.0  # torch.zeros(0, 3).sum() == 0
    assert x.sum(axis=0).shape == (3,)
    assert x.amax(axis=1).shape == (0,)  # reducing a non-empty axis of an empty tensor
    product = mg.tensor(np.ones((2, 0))) @ mg.tensor(np.ones((0, 3)))
    np.testing.assert_array_equal(product.numpy(), np.zeros((2, 3)))  # as torch
    (x * 2.0).sum().backward()
    assert x.grad.shape == (0, 3)
    assert x.reshape(3, 0).shape == (3, 0)
    assert x.reshape(-1, 3).shape == (0, 3)


def test_zero_dim_tensors_stay_zero_dim() -> None:
    assert mg.tensor(1.5).shape == ()
    assert (mg.tensor(1.5) * 2.0).shape == ()
    assert mg.tensor(np.float64(2.0)).T.shape == ()
    assert mg.transpose(mg.tensor(np.float64(2.0))).shape == ()
    x = mg.tensor(3.0, dtype="float64", requires_grad=True)
    (x * x).backward()
    assert x.grad.shape == () and x.grad.item() == 6.0


# ----------------------------------------------- odd but valid numpy inputs work
def _strided_inputs() -> dict[str, np.ndarray]:
    base = np.arange(48, dtype=np.float64).reshape(6, 8) / 7.0 - 3.0
    fortran = np.asfortranarray(base[:4, :6])
    readonly = base[:4, :6].copy()
    readonly.setflags(write=False)
    swapped = base[:4, :6].astype(">f8")
    return {
        "step-slice": base[::2, 1:7],
        "every-other": base[::2, ::2],
        "transposed": base[:6, :4].T,
        "fortran": fortran,
        "negative-stride": base[::-1, ::-2][:4, :4],
        "readonly": readonly,
        "broadcast-view": np.broadcast_to(base[0, :6], (4, 6)),
        "big-endian": swapped,
    }


@pytest.mark.parametrize("kind", list(_strided_inputs()))
def test_odd_numpy_layouts_give_correct_values_and_gradients(kind) -> None:
    source = _strided_inputs()[kind]
    expected = np.array(source, dtype=np.float64)
    x = mg.tensor(source, requires_grad=True)
    np.testing.assert_array_equal(x.numpy(), expected)
    assert x.shape == expected.shape
    y = (mg.tanh(x) * x.T.T + x.sum(axis=0, keepdims=True)).sum()
    want = float(np.sum(np.tanh(expected) * expected + expected.sum(axis=0, keepdims=True)))
    np.testing.assert_allclose(y.item(), want, rtol=1e-12)
    y.backward()
    rows = expected.shape[0]
    grad = np.tanh(expected) + expected * (1 - np.tanh(expected) ** 2) + rows
    np.testing.assert_allclose(x.grad.numpy(), grad, rtol=1e-12)
    # a copy was taken: writing to the source (when allowed) does not change the tensor
    if source.flags.writeable:
        source[...] = 0.0
        np.testing.assert_array_equal(x.numpy(), expected)
    # matmul and reductions on the layout
    np.testing.assert_allclose((x @ x.T).numpy(), expected @ expected.T, rtol=1e-12)
    np.testing.assert_allclose(x.amax(axis=1).numpy(), expected.max(axis=1))


def test_readonly_arrays_as_parameters_train() -> None:
    data = np.array([[1.0, -2.0], [0.5, 3.0]])
    data.setflags(write=False)
    w = mg.nn.Parameter(data)
    assert w.numpy().flags.writeable
    loss = (w * w).sum()
    loss.backward()
    w.assign_(w.numpy() - 0.1 * w.grad.numpy())
    np.testing.assert_allclose(w.numpy(), data * 0.8)
    np.testing.assert_array_equal(data, [[1.0, -2.0], [0.5, 3.0]])  # source untouched


def test_readonly_and_strided_inputs_through_batchnorm() -> None:
    rng = np.random.default_rng(5)
    base = rng.standard_normal((8, 6))
    view = base[::2, ::2]
    view.setflags(write=False)
    layer = mg.nn.BatchNorm1d(3, dtype="float64")
    out = layer(mg.tensor(view))
    expected = (view - view.mean(0)) / np.sqrt(view.var(0) + 1e-5)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-12)

"""numpy functions called on minigrad tensors (issue 15 §1): each of the calls below either
runs minigrad's op, keeping the graph (value equal to numpy's on the arrays, gradient equal
to minigrad's own call's, against finite differences through mg.gradcheck for a few), or
raises a TypeError naming the numpy function: never a plain array that drops the graph."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

_rng = np.random.default_rng(21)
X = _rng.uniform(-2.0, 2.0, (2, 3))

# (id, numpy call); numpy's own answer on the array X is the expected value
KEEP = [
    ("exp", np.exp),
    ("sin", np.sin),
    ("add", lambda x: np.add(x, 1)),
    ("sum", np.sum),
    ("mean-axis", lambda x: np.mean(x, axis=0)),
    ("concatenate", lambda x: np.concatenate([x, x])),
    ("where", lambda x: np.where(x > 0, x, 0)),
    ("linalg.norm", np.linalg.norm),
    ("linalg.norm-axis", lambda x: np.linalg.norm(x, axis=1, keepdims=True)),
    ("max-axis", lambda x: np.max(x, axis=1)),
    ("amin", np.amin),
    ("min-keepdims", lambda x: np.min(x, axis=0, keepdims=True)),
    ("fmax", lambda x: np.fmax(x, 0.5)),
    ("mod", lambda x: np.mod(x, 0.7)),
    ("clip", lambda x: np.clip(x, -0.5, 1.0)),
    ("abs", np.abs),
    ("arctan2", lambda x: np.arctan2(x, 1.5)),
    ("square", np.square),
    ("round-decimals", lambda x: np.round(x * 10, 2)),
    ("around", lambda x: np.around(x, 1)),
    ("radians", np.radians),
    ("degrees", np.degrees),
    ("hypot", lambda x: np.hypot(x, 0.5)),
    ("logaddexp", lambda x: np.logaddexp(x, 0.3)),
    ("fmod", lambda x: np.fmod(x, -0.7)),
    ("sinc", np.sinc),
    ("float_power", lambda x: np.float_power(np.abs(x), 1.5)),
]


@pytest.mark.parametrize("call", [pytest.param(c, id=i) for i, c in KEEP])
def test_numpy_call_runs_the_minigrad_op_and_keeps_the_graph(call) -> None:
    x = mg.tensor(X, requires_grad=True)
    out = call(x)
    assert isinstance(out, mg.Tensor) and out.requires_grad, type(out)
    np.testing.assert_allclose(out.numpy(), call(X), rtol=1e-12, atol=1e-15)
    (grad,) = mg.grad(out.sum(), [x])
    assert grad is not None and np.all(np.isfinite(grad.numpy()))


@pytest.mark.parametrize("call", [np.linalg.norm, lambda x: np.max(x, axis=0),
                                  lambda x: np.where(x > 0, x, 0.0)])
def test_gradients_through_numpy_calls_match_finite_differences(call) -> None:
    assert mg.gradcheck(call, [X + 0.01], order=2)


def test_where_with_one_argument_gives_the_indices() -> None:
    got = np.where(mg.tensor(X) > 0)
    want = np.where(X > 0)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == np.int64 and np.array_equal(g.numpy(), w)


@pytest.mark.parametrize(("call", "named"), [
    (lambda x: np.linalg.lstsq(x, x), "numpy.linalg.lstsq"),
    (np.linalg.qr, "numpy.linalg.qr"),
    (np.fft.fft, "numpy.fft.fft"),
    (lambda x: np.round(x, 2, out=np.empty((2, 3))), "numpy.round"),
    (np.cbrt, "numpy.cbrt"),
    (lambda x: np.divmod(x, 2), "numpy.divmod"),
    (lambda x: np.cumsum(x, axis=0, out=np.empty((2, 3))), "numpy.cumsum"),
    (np.ldexp, "numpy.ldexp"),
    (np.median, "numpy.median"),
    (lambda x: np.sin(x, out=np.empty((2, 3))), "numpy.sin"),
])
def test_other_numpy_calls_are_refused_naming_the_function(call, named) -> None:
    x = mg.tensor(X, requires_grad=True)
    with pytest.raises(TypeError, match=f"{named} is not supported on minigrad tensors"):
        call(x) if call is not np.ldexp else call(x, 2)


VALUES = np.array([[1.0, 2.0, 4.0, 7.0], [0.5, -1.0, 3.0, 2.5]])


def test_var_and_std_default_to_pytorchs_correction_but_numpy_calls_to_ddof_0() -> None:
    """x.var() / mg.std(x) divide by N - 1 as torch.var does ([1, 2, 4, 7]: 7.0, where the
    biased estimate is 5.25); np.var(t) / np.std(t) keep numpy's ddof=0, and ddof= works."""
    t = mg.tensor(VALUES)
    np.testing.assert_allclose(t.var().data, np.var(VALUES, ddof=1), rtol=1e-15)
    np.testing.assert_allclose(mg.std(t, dim=1).data, np.std(VALUES, axis=1, ddof=1),
                               rtol=1e-15)
    np.testing.assert_allclose(t[0].var().data, 7.0, rtol=1e-15)
    for name in ("var", "std"):
        numpy_function = getattr(np, name)
        result = numpy_function(t, axis=1)
        assert isinstance(result, mg.Tensor)
        np.testing.assert_allclose(result.data, numpy_function(VALUES, axis=1), rtol=1e-15)
        np.testing.assert_allclose(numpy_function(t, ddof=1).data,
                                   numpy_function(VALUES, ddof=1), rtol=1e-15)
    np.testing.assert_allclose(t.var(ddof=0).data, np.var(VALUES), rtol=1e-15)
    with pytest.raises(TypeError, match="ddof with correction"):
        t.var(ddof=0, correction=1)


def test_var_default_matches_torch_live() -> None:
    torch = pytest.importorskip("torch")
    t, ref = mg.tensor(VALUES), torch.tensor(VALUES)
    np.testing.assert_allclose(t.var(dim=0).data, ref.var(dim=0).numpy(), rtol=1e-15)
    np.testing.assert_allclose(t.std().data, ref.std().numpy(), rtol=1e-15)

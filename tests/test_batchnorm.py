"""BatchNorm: composed and fused against PyTorch 2.13 (committed reference values, and
live when torch is importable), against each other to order 3, and the seed's example."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.cli import seed_relu_example
from minigrad.nn import functional as F
from minigrad.reference import seed_backward, seed_forward
from tests.reference import gen_torch_bn as gen

REFERENCE = np.load(gen.OUT)
IMPLS = ["composed", "fused"]


def minigrad_scenario(name: str, impl: str) -> dict[str, np.ndarray]:
    """The PyTorch scenario of gen_torch_bn, run in minigrad (float64)."""
    kind, _, momentum, affine, track, eps = gen.SCENARIOS[name]
    data = {k: REFERENCE[f"{name}/input/{k}"] for k in ("x", "dout", "weight", "bias",
                                                         "x_eval", "probe")}
    layer = getattr(mg.nn, kind)(data["weight"].size, eps=eps, momentum=momentum,
                                 affine=affine, track_running_stats=track, impl=impl).double()
    if affine:
        layer.weight.assign_(data["weight"])
        layer.bias.assign_(data["bias"])
    results: dict[str, list[np.ndarray]] = {}
    for step in range(gen.STEPS):
        x = mg.tensor(data["x"][step], requires_grad=True)
        out = layer(x)
        params = [x] + ([layer.weight, layer.bias] if affine else [])
        grads = mg.grad(out, params, mg.tensor(data["dout"][step]), create_graph=True)
        (d2x,) = mg.grad((grads[0] * mg.tensor(data["probe"])).sum(), [x])
        step_values = {"out": out, "dx": grads[0], "d2x": d2x}
        if affine:
            step_values.update(dweight=grads[1], dbias=grads[2])
        if track:
            step_values.update(running_mean=layer.running_mean, running_var=layer.running_var)
        for key, value in step_values.items():
            results.setdefault(key, []).append(value.numpy().copy())
    layer.eval()
    arrays = {k: np.stack(v) for k, v in results.items()}
    arrays["eval_out"] = layer(mg.tensor(data["x_eval"])).numpy()
    return arrays


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", list(gen.SCENARIOS))
def test_matches_committed_pytorch_reference(name: str, impl: str) -> None:
    ours = minigrad_scenario(name, impl)
    expected_keys = {k.split("/", 1)[1] for k in REFERENCE.files
                     if k.startswith(f"{name}/") and "/input/" not in k}
    assert set(ours) == expected_keys
    for key, value in ours.items():
        np.testing.assert_allclose(value, REFERENCE[f"{name}/{key}"], rtol=1e-10, atol=1e-10,
                                   err_msg=f"{name} {impl} {key}")


def test_reference_file_is_current_with_live_pytorch() -> None:
    pytest.importorskip("torch")
    for name in gen.SCENARIOS:
        live = gen.torch_scenario(name)
        for key, value in live.items():
            np.testing.assert_allclose(value, REFERENCE[f"{name}/{key}"], rtol=1e-12,
                                       atol=1e-12)


@pytest.mark.parametrize("impl", IMPLS)
def test_live_pytorch_at_a_new_shape(impl: str) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x_np, dout_np = rng.standard_normal((16, 3, 4, 4)) + 5.0, rng.standard_normal((16, 3, 4, 4))
    theirs = torch.nn.BatchNorm2d(3).double()
    ours = mg.nn.BatchNorm2d(3, impl=impl).double()
    xt = torch.tensor(x_np, requires_grad=True)
    xm = mg.tensor(x_np, requires_grad=True)
    out_t, out_m = theirs(xt), ours(xm)
    out_t.backward(torch.tensor(dout_np))
    out_m.backward(mg.tensor(dout_np))
    np.testing.assert_allclose(out_m.numpy(), out_t.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), atol=1e-10)
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 1


# --------------------------------------------------------------- composed vs fused, orders
def _derivatives(impl: str, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                 eps: float) -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    probes = [rng.standard_normal(x.shape) for _ in range(3)]
    leaves = [mg.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    out = F.batch_norm(leaves[0], None, None, leaves[1], leaves[2], training=True, eps=eps,
                       impl=impl)
    first = mg.grad((out * mg.tensor(probes[0])).sum(), leaves, create_graph=True)
    second = mg.grad((first[0] * mg.tensor(probes[1])).sum(), leaves[:2], create_graph=True)
    third = mg.grad((second[0] * mg.tensor(probes[2])).sum(), leaves[:2])
    return [out.numpy(), *(g.numpy() for g in (*first, *second, *third))]


@pytest.mark.parametrize("shape", [(6, 4), (2, 3), (3, 2, 5), (2, 3, 2, 2)])
@pytest.mark.parametrize("eps", [1e-5, 0.1])
def test_composed_and_fused_agree_to_order_3(shape: tuple, eps: float) -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape) * 2 + 1
    gamma, beta = rng.uniform(0.5, 1.5, shape[1]), rng.standard_normal(shape[1])
    composed = _derivatives("composed", x, gamma, beta, eps)
    fused = _derivatives("fused", x, gamma, beta, eps)
    for a, b in zip(composed, fused, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8)


def test_order_3_against_finite_differences_of_order_2() -> None:
    """Independent check of the third derivative (where PyTorch's fused BN goes wrong)."""
    rng = np.random.default_rng(9)
    x, gamma, beta = rng.standard_normal((4, 2)), rng.uniform(0.5, 1.5, 2), rng.standard_normal(2)

    def bn(xx: mg.Tensor) -> mg.Tensor:
        return F.batch_norm(xx, None, None, mg.tensor(gamma), mg.tensor(beta), training=True,
                            eps=1e-3, impl="fused")

    def hessian_vector(xx: mg.Tensor) -> mg.Tensor:
        (g,) = mg.grad((bn(xx) ** 3).sum(), [xx], create_graph=True)
        (h,) = mg.grad((g * mg.tensor(np.ones_like(x))).sum(), [xx], create_graph=True)
        return h

    assert mg.gradcheck(hessian_vector, [x], order=1, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_the_seeds_numpy_code(dtype: str) -> None:
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((32, 6)) * 3 + 2).astype(dtype)
    gamma, beta = rng.uniform(0.5, 1.5, 6).astype(dtype), rng.standard_normal(6).astype(dtype)
    dout = rng.standard_normal((32, 6)).astype(dtype)
    out_ref, cache = seed_forward(x, gamma, beta, 1e-5)
    grads_ref = seed_backward(dout, cache)
    tol = 1e-12 if dtype == "float64" else 2e-5
    for impl in IMPLS:
        leaves = [mg.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
        out = F.batch_norm(leaves[0], None, None, leaves[1], leaves[2], training=True,
                           impl=impl)
        out.backward(mg.tensor(dout))
        assert out.dtype == np.dtype(dtype)
        np.testing.assert_allclose(out.numpy(), out_ref, rtol=tol, atol=tol)
        for leaf, ref in zip(leaves, grads_ref, strict=True):
            assert leaf.grad.dtype == np.dtype(dtype)
            np.testing.assert_allclose(leaf.grad.numpy(), ref, rtol=tol, atol=tol * 10)


# ------------------------------------------------------------------ the seed's example
@pytest.mark.parametrize("impl", IMPLS)
def test_seed_relu_example_is_exactly_zero(impl: str) -> None:
    grad = seed_relu_example(impl)
    assert grad.dtype == np.float32
    assert grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("values", [(0.0, 1.0), (3.0, -5.0), (2.0, 4.0), (-0.75, 0.25),
                                    (10.0, 11.0)])
def test_seed_relu_example_exact_for_other_pairs(impl: str, values: tuple) -> None:
    """Exact whenever |a - b| / 2 is a power of two: every step is then exact in binary."""
    assert seed_relu_example(impl, values=values).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("impl", IMPLS)
def test_seed_relu_example_any_pair_within_rounding(impl: str) -> None:
    """In exact arithmetic every distinct pair gives 0; in float32 the residue stays at
    rounding level relative to the gradient's natural scale 1/|a - b|."""
    rng = np.random.default_rng(4)
    for _ in range(200):
        a, b = (rng.standard_normal(2) * rng.choice([0.01, 1, 100])).astype(np.float32)
        grad = seed_relu_example(impl, values=(a, b))
        assert np.all(np.abs(grad) * abs(float(a) - float(b)) < 1e-5), (a, b, grad)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("eps", [1e-5, 1e-3])
def test_seed_relu_example_with_eps_matches_pytorch(impl: str, eps: float) -> None:
    expected = REFERENCE[f"seed_relu/eps{eps:.0e}".replace("e-0", "e-")]
    grad = seed_relu_example(impl, eps=eps)
    np.testing.assert_allclose(grad, expected, rtol=1e-3, atol=1e-9)
    assert np.all(np.abs(grad) > 0)


# ------------------------------------------------------------------------------ errors
def test_one_value_per_channel_in_training_is_an_error_but_eval_accepts_it() -> None:
    layer = mg.nn.BatchNorm1d(100)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when "
                                         r"training, got input size \(1, 100\)"):
        layer(mg.tensor(np.zeros((1, 100)), dtype="float32"))
    layer.eval()
    assert layer(mg.tensor(np.ones((1, 100)), dtype="float32")).shape == (1, 100)


def test_wrong_feature_count_names_both_numbers() -> None:
    with pytest.raises(ValueError, match=r"256.*128|128.*256"):
        mg.nn.BatchNorm1d(128)(mg.tensor(np.zeros((4, 256))))
    with pytest.raises(ValueError, match="running_mean should contain 3 elements not 4"):
        F.batch_norm(mg.tensor(np.zeros((2, 3))), mg.tensor(np.zeros(4)),
                     mg.tensor(np.ones(4)), training=True)


@pytest.mark.parametrize("kwargs", [{"eps": -1e-5}, {"momentum": 1.5}, {"momentum": -0.1}])
def test_bad_hyperparameters(kwargs: dict) -> None:
    key, value = next(iter(kwargs.items()))
    with pytest.raises(ValueError, match=f"{key}.*{value}"):
        mg.nn.BatchNorm1d(3, **kwargs)


def test_wrong_ndim() -> None:
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        mg.nn.BatchNorm1d(3)(mg.tensor(np.zeros((2, 3, 2, 2))))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        mg.nn.BatchNorm2d(3)(mg.tensor(np.zeros((2, 3))))


def test_zero_variance_with_eps_zero_warns_naming_the_channel() -> None:
    x = np.array([[1.0, 2.0, 5.0], [1.0, 3.0, 5.0]])
    with pytest.warns(RuntimeWarning, match=r"channel\(s\) \[0, 2\]"):
        mg.nn.BatchNorm1d(3, eps=0, dtype="float64")(mg.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mg.nn.BatchNorm1d(3, eps=1e-5, dtype="float64")(mg.tensor(x))


# --------------------------------------------------------------------- numerics, modes
@pytest.mark.parametrize("impl", IMPLS)
def test_float32_variance_is_stable_at_a_large_mean_offset(impl: str) -> None:
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((256, 4))
    x32 = (1e4 + noise).astype(np.float32)
    layer = mg.nn.BatchNorm1d(4, impl=impl, momentum=1.0)
    out = layer(mg.tensor(x32))
    exact = x32.astype(np.float64)
    exact_var = exact.var(axis=0)
    expected = (exact - exact.mean(0)) / np.sqrt(exact_var + 1e-5)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-3)  # PyTorch 2.13: 2.4e-3
    np.testing.assert_allclose(layer.running_var.numpy(), exact_var * 256 / 255, rtol=1e-3)


def test_module_protocol() -> None:
    layer = mg.nn.BatchNorm1d(3)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in layer.named_buffers()] == [
        "running_mean", "running_var", "num_batches_tracked"]
    state = layer.state_dict()
    other = mg.nn.BatchNorm1d(3)
    layer(mg.tensor(np.random.default_rng(0).standard_normal((5, 3)), dtype="float32"))
    other.load_state_dict(layer.state_dict())
    np.testing.assert_array_equal(other.running_mean.numpy(), layer.running_mean.numpy())
    assert int(other.num_batches_tracked) == 1
    assert state["running_mean"].numpy().tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(KeyError, match=r"missing keys.*bias"):
        other.load_state_dict({k: v for k, v in state.items() if k != "bias"})
    with pytest.raises(ValueError, match=r"weight has shape \(4,\)"):
        other.load_state_dict({**state, "weight": np.ones(4)})
    net = mg.nn.Sequential(mg.nn.BatchNorm1d(2), mg.nn.ReLU())
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias"]
    assert not net.eval()[0].training
    assert net.double()[0].weight.dtype == np.float64

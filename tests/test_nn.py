"""nn layers and functional losses against PyTorch 2.13: committed reference values
(tests/reference/gen_nn_optim.py) always, live PyTorch when it is importable."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import functional as F
from tests.reference import gen_nn_optim as gen

COMMITTED = gen.committed()


def value_and_grad(fn, *arrays):
    """fn's value and the gradient of its first (float64) argument, in minigrad."""
    first = mg.tensor(arrays[0], requires_grad=True)
    out = fn(first, *arrays[1:])
    out.backward()
    return out.numpy(), first.grad.numpy()


# ------------------------------------------------------------------------------ losses
@pytest.mark.parametrize("stem", ["ce", "ce_big"])
def test_cross_entropy_matches_torch(ref, stem):
    logits = ref["logits" if stem == "ce" else "big_logits"]
    targets = ref["targets" if stem == "ce" else "big_targets"]
    loss, grad = value_and_grad(F.cross_entropy, logits, targets)
    np.testing.assert_allclose(loss, ref[f"{stem}_loss"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad, ref[f"{stem}_grad"], rtol=1e-12, atol=1e-15)
    total = F.cross_entropy(mg.tensor(logits), targets, reduction="sum").numpy()
    np.testing.assert_allclose(total, ref[f"{stem}_sum"], rtol=1e-12)


def test_cross_entropy_stable_at_1e4_in_float32():
    logits = mg.tensor([[1e4, 0.0, -1e4], [1e4, 1e4, 0.0]], requires_grad=True)
    loss = F.cross_entropy(logits, [0, 2])
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(logits.grad.numpy()))
    # row 0 is certain and right (loss 0); row 1 puts 1e4 against the target (loss 1e4 + log 2)
    np.testing.assert_allclose(loss.item(), (1e4 + np.log(2)) / 2, rtol=1e-6)


@pytest.mark.parametrize("name", ["logits", "big_logits"])
def test_softmax_and_log_softmax_match_torch(ref, name):
    x = ref[name]
    np.testing.assert_allclose(F.softmax(mg.tensor(x)).numpy(), ref[f"softmax_{name}"],
                               rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(F.log_softmax(mg.tensor(x)).numpy(),
                               ref[f"log_softmax_{name}"], rtol=1e-12, atol=1e-12)
    weights = np.arange(x.size, dtype=float).reshape(x.shape)
    for fn, key in ((F.log_softmax, "log_softmax_grad"), (F.softmax, "softmax_grad")):
        _, grad = value_and_grad(lambda z, f=fn: (f(z) * weights).sum(), x)
        np.testing.assert_allclose(grad, ref[f"{key}_{name}"], rtol=1e-10, atol=1e-12)


def test_bce_with_logits_matches_torch_at_extreme_logits(ref):
    loss, grad = value_and_grad(F.binary_cross_entropy_with_logits, ref["bce_logits"],
                                ref["bce_target"])
    np.testing.assert_allclose(loss, ref["bce_loss"], rtol=1e-12)
    np.testing.assert_allclose(grad, ref["bce_grad"], rtol=1e-12, atol=1e-15)


def test_mse_loss_matches_torch(ref):
    loss, grad = value_and_grad(F.mse_loss, ref["mse_pred"], ref["mse_target"])
    np.testing.assert_allclose(loss, ref["mse_loss"], rtol=1e-12)
    np.testing.assert_allclose(grad, ref["mse_grad"], rtol=1e-12)


def test_loss_modules_equal_functional():
    logits = mg.tensor(COMMITTED["logits"])
    assert mg.nn.CrossEntropyLoss()(logits, COMMITTED["targets"]).item() == pytest.approx(
        float(COMMITTED["ce_loss"]), rel=1e-12)
    pred, target = mg.tensor(COMMITTED["mse_pred"]), COMMITTED["mse_target"]
    assert mg.nn.MSELoss()(pred, target).item() == pytest.approx(float(COMMITTED["mse_loss"]))
    bce = mg.nn.BCEWithLogitsLoss()(mg.tensor(COMMITTED["bce_logits"]), COMMITTED["bce_target"])
    assert bce.item() == pytest.approx(float(COMMITTED["bce_loss"]))


@pytest.mark.parametrize("targets, error, words", [
    ([0, 5], IndexError, ["target 5", "position 1", "5 classes"]),
    ([-1, 0], IndexError, ["target -1", "position 0"]),
    (np.array([0.0, 1.0]), TypeError, ["integer", "float64"]),
    ([0, 1, 2], ValueError, ["(3,)", "(2,)"]),
])
def test_cross_entropy_rejects_bad_targets_naming_them(targets, error, words):
    logits = mg.tensor(np.zeros((2, 5)))
    with pytest.raises(error) as caught:
        F.cross_entropy(logits, targets)
    for word in words:
        assert word in str(caught.value)


def test_bad_reduction_and_shape_mismatch_are_errors():
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(mg.tensor([1.0]), np.array([1.0]), reduction="avg")
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        F.mse_loss(mg.tensor([1.0, 2.0]), np.zeros(3))


# ------------------------------------------------------------------------------ layers
def test_layer_norm_matches_torch(ref):
    x = mg.tensor(ref["ln_x"], requires_grad=True)
    layer = mg.nn.LayerNorm((3, 5), dtype="float64")
    layer.weight.assign_(ref["ln_weight"])
    layer.bias.assign_(ref["ln_bias"])
    y = layer(x)
    (y * ref["ln_upstream"]).sum().backward()
    np.testing.assert_allclose(y.numpy(), ref["ln_out"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), ref["ln_grad_x"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.weight.grad.numpy(), ref["ln_grad_w"], rtol=1e-10)
    np.testing.assert_allclose(layer.bias.grad.numpy(), ref["ln_grad_b"], rtol=1e-10)


def test_linear_init_bound_and_shapes():
    mg.manual_seed(0)
    layer = mg.nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.shape == (300, 400) and b.shape == (300,) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # uniform on [-bound, bound]: std bound / sqrt(3), near-edge values occur
    assert np.std(w) == pytest.approx(bound / np.sqrt(3), rel=0.01)
    assert np.abs(w).max() > 0.999 * bound
    assert mg.nn.Linear(3, 2, bias=False).bias is None
    assert mg.nn.Linear(3, 2, dtype="float64").weight.dtype == np.float64


def test_linear_init_distribution_matches_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.Linear(256, 128)
    mg.manual_seed(0)
    ours = mg.nn.Linear(256, 128)
    assert tuple(theirs.weight.shape) == ours.weight.shape
    assert tuple(theirs.bias.shape) == ours.bias.shape
    for mine, their in ((ours.weight, theirs.weight), (ours.bias, theirs.bias)):
        their = their.detach().numpy()
        quantiles = np.linspace(0.05, 0.95, 7)
        # same distribution: quantiles agree within sampling noise of the bound
        np.testing.assert_allclose(np.quantile(mine.numpy(), quantiles),
                                   np.quantile(their, quantiles), atol=0.15 / 16)
        assert np.abs(mine.numpy()).max() <= np.abs(their).max() * 1.01 + 1e-3


def test_linear_forward_matches_torch_semantics():
    torch = pytest.importorskip("torch")
    layer = mg.nn.Linear(4, 3, dtype="float64")
    x = np.random.default_rng(1).normal(size=(2, 5, 4))
    expected = torch.nn.functional.linear(torch.tensor(x), torch.tensor(layer.weight.numpy()),
                                          torch.tensor(layer.bias.numpy())).numpy()
    np.testing.assert_allclose(layer(mg.tensor(x)).numpy(), expected, rtol=1e-12)
    with pytest.raises(ValueError, match=r"5 features.*expected 4"):
        layer(mg.tensor(np.zeros((2, 5))))


def test_activation_modules():
    x = mg.tensor([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(mg.nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-x.numpy())),
                               rtol=1e-6)
    np.testing.assert_allclose(mg.nn.Tanh()(x).numpy(), np.tanh(x.numpy()), rtol=1e-6)
    np.testing.assert_array_equal(mg.nn.ReLU()(x).numpy(), [0.0, 0.0, 3.0])
    assert mg.nn.Identity()(x) is x
    np.testing.assert_allclose(mg.nn.Softmax(0)(x).numpy().sum(), 1.0, rtol=1e-6)


def test_flatten_keeps_the_batch_axis():
    x = mg.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    y = mg.nn.Flatten()(x)
    assert y.shape == (2, 12)
    assert mg.nn.Flatten(0, 1)(x).shape == (6, 4)
    y.sum().backward()
    assert x.grad.shape == (2, 3, 4)


def test_dropout_scales_survivors_and_is_identity_in_eval():
    mg.manual_seed(0)
    layer = mg.nn.Dropout(0.25)
    x = mg.tensor(np.ones((200, 50)))
    y = layer(x).numpy()
    assert set(np.unique(y)) == {0.0, 1 / 0.75}
    assert np.mean(y == 0) == pytest.approx(0.25, abs=0.02)
    assert layer.eval()(x) is x
    with pytest.raises(ValueError, match="p must lie"):
        mg.nn.Dropout(1.5)


def test_dropout_gradient_follows_the_mask():
    mg.manual_seed(1)
    x = mg.tensor(np.ones((4, 5)), requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())


def test_sequential_mlp_trains_one_step_and_exports():
    mg.manual_seed(0)
    net = mg.nn.Sequential(mg.nn.Flatten(), mg.nn.Linear(6, 8), mg.nn.LayerNorm(8),
                           mg.nn.Tanh(), mg.nn.Dropout(0.1), mg.nn.Linear(8, 3))
    x = mg.tensor(np.random.default_rng(0).normal(size=(5, 2, 3)).astype(np.float32))
    loss = F.cross_entropy(net(x), [0, 1, 2, 1, 0])
    loss.backward()
    assert all(p.grad is not None for p in net.parameters())
    assert "Linear(in_features=6, out_features=8, bias=True)" in repr(net)


# ------------------------------------------------------------------ saving and loading
def test_save_load_roundtrip(tmp_path):
    mg.manual_seed(0)
    net = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.BatchNorm1d(4), mg.nn.Linear(4, 2))
    net(mg.tensor(np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)))
    path = tmp_path / "model.npz"
    mg.save(net.state_dict(), path)
    assert path.exists()
    loaded = mg.load(path)
    mg.manual_seed(1)
    other = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.BatchNorm1d(4), mg.nn.Linear(4, 2))
    other.load_state_dict(loaded)
    for (name, mine), (_, theirs) in zip(net.state_dict().items(),
                                         other.state_dict().items(), strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy(), err_msg=name)
        assert mine.dtype == theirs.dtype
    assert int(other[1].num_batches_tracked) == 1


def test_save_refuses_object_arrays_and_load_refuses_pickles(tmp_path):
    with pytest.raises(TypeError, match=r"'bad'.*object"):
        mg.save({"bad": np.array([{"a": 1}], dtype=object)}, tmp_path / "x.npz")
    path = tmp_path / "pickled.npz"
    np.savez(path, evil=np.array([None, 1], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        mg.load(path)


def test_load_state_dict_names_missing_unexpected_and_mismatched_keys():
    net = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.Linear(4, 2))
    state = dict(net.state_dict())
    del state["1.bias"]
    state["2.weight"] = np.zeros(1)
    with pytest.raises(KeyError) as caught:
        net.load_state_dict(state)
    assert "1.bias" in str(caught.value) and "2.weight" in str(caught.value)
    state = dict(net.state_dict())
    state["0.weight"] = np.zeros((4, 4))
    with pytest.raises(ValueError, match=r"0\.weight.*\(4, 4\).*\(4, 3\)"):
        net.load_state_dict(state)

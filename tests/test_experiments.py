"""The BatchNorm paper's claims on toy data, at fixed seeds (Ioffe & Szegedy 2015, and the
seed's list of BN's drawbacks)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import experiments as ex

pytestmark = pytest.mark.usefixtures("one_blas_thread")


@pytest.fixture(scope="module")
def high_lr():
    """The paper's MNIST shape: 3 hidden layers of 100 sigmoid units, batch 60, lr 2.0."""
    return ex.compare_bn("moons", "sigmoid", (100, 100, 100), lr=2.0, steps=300,
                         batch_size=60, seed=0)


@pytest.fixture(scope="module")
def moderate_lr():
    """The same network at lr 0.5, where the plain one does learn, slowly."""
    return ex.compare_bn("moons", "sigmoid", (100, 100, 100), lr=0.5, steps=300,
                         batch_size=60, seed=0)


def test_result_structure(high_lr):
    assert set(high_lr) == {"bn", "plain"}
    for result in high_lr.values():
        assert len(result["loss"]) == 300
        assert result["steps"][-1] == 300 and len(result["steps"]) == 30
        assert result["percentiles"].shape == (30, 3)
        assert np.all(np.diff(result["percentiles"], axis=1) >= 0)  # 15th <= 50th <= 85th
        assert 0.0 <= result["test_accuracy"] <= 1.0
        assert result["test_accuracy"] == result["test_accuracy_curve"][-1]


def test_bn_trains_at_a_high_learning_rate_where_plain_stalls(high_lr):
    bn, plain = high_lr["bn"], high_lr["plain"]
    assert bn["test_accuracy"] >= 0.97
    assert np.mean(bn["loss"][-50:]) < 0.1
    # the plain network is stuck at chance: loss ln 2 with saturated sigmoids
    assert np.mean(plain["loss"][-50:]) == pytest.approx(np.log(2), abs=0.02)
    assert max(plain["test_accuracy_curve"]) < 0.85
    assert np.abs(plain["percentiles"]).min() > 5  # pre-activations deep in saturation


def test_bn_reaches_an_accuracy_in_fewer_steps(moderate_lr):
    bn_steps = ex.steps_to_accuracy(moderate_lr["bn"], 0.85)
    plain_steps = ex.steps_to_accuracy(moderate_lr["plain"], 0.85)
    assert bn_steps is not None and bn_steps <= 50
    assert plain_steps is None or plain_steps >= 3 * bn_steps
    assert np.mean(moderate_lr["bn"]["loss"][-50:]) < 0.5 * np.mean(
        moderate_lr["plain"]["loss"][-50:])


def test_percentiles_stay_stable_with_bn_and_drift_without(moderate_lr):
    bn = moderate_lr["bn"]["percentiles"]
    plain = moderate_lr["plain"]["percentiles"]
    bn_drift = np.abs(bn[-1] - bn[0]).max()
    plain_median_drift = abs(plain[-1, 1] - plain[0, 1])
    assert bn_drift < 0.5
    assert plain_median_drift > 0.7
    assert plain_median_drift > 3 * abs(bn[-1, 1] - bn[0, 1])
    # BN keeps the spread of the input near that of N(0, 1)'s 15th-85th (about 2.07)
    assert np.all(np.abs((bn[:, 2] - bn[:, 0]) - 2.07) < 0.7)


@pytest.mark.parametrize("batch_size", [2, 4])
def test_bn_degrades_at_tiny_batches_while_layernorm_does_not(batch_size):
    runs = ex.compare_norms("moons", "tanh", (32, 32), lr=0.05, steps=400,
                            batch_size=batch_size, seed=0, norms=("bn", "ln"), noise=0.15)
    late = {k: np.mean(v["test_accuracy_curve"][-5:]) for k, v in runs.items()}
    loss = {k: np.mean(v["loss"][-100:]) for k, v in runs.items()}
    assert late["ln"] >= 0.9
    assert late["ln"] - late["bn"] >= 0.05
    assert loss["bn"] > 3 * loss["ln"]


def test_same_initial_weights_and_composed_equals_fused():
    runs = {impl: ex.compare_bn("xor", "relu", (8,), lr=0.1, steps=20, batch_size=16,
                                seed=3, impl=impl, n=200) for impl in ("composed", "fused")}
    np.testing.assert_allclose(runs["composed"]["bn"]["loss"], runs["fused"]["bn"]["loss"],
                               rtol=1e-4)
    weights = {}
    for norm in ("bn", "plain"):
        mg.manual_seed(3)
        model = ex.mlp([2, 8, 2], "relu", norm)
        weights[norm] = [layer.weight.numpy() for layer in model
                         if isinstance(layer, mg.nn.Linear)]
    for with_bn, without in zip(weights["bn"], weights["plain"], strict=True):
        np.testing.assert_array_equal(with_bn, without)


def test_mlp_layout_and_errors():
    mg.manual_seed(0)
    model = ex.mlp([2, 5, 4, 3], "sigmoid", "bn")
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Linear", "BatchNorm1d", "Sigmoid", "Linear", "BatchNorm1d", "Probe",
                     "Sigmoid", "Linear"]
    with pytest.raises(ValueError, match="activation"):
        ex.mlp([2, 3], "gelu")
    with pytest.raises(ValueError, match="unknown dataset"):
        ex.load_dataset("iris")

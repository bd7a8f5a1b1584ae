"""The losses of nn.functional and nn against PyTorch 2.13 (committed values from
tests/reference/gen_losses.py always, live torch when importable), second-order gradients
against finite differences, and the errors bad inputs get."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F
from tests.reference import gen_losses as gen

CASE_NAMES = [name for name, _ in gen.cases()]
CASES = dict(gen.cases())


@pytest.fixture(params=["committed", "live"], scope="module")
def torch_values(request: pytest.FixtureRequest) -> dict[str, np.ndarray]:
    """PyTorch's values and gradients of every case: committed, or computed now."""
    if request.param == "live":
        pytest.importorskip("torch")
        return gen.compute()
    return gen.committed()


def _scale(values: np.ndarray) -> float:
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size else 1.0


@pytest.mark.parametrize("name", CASE_NAMES)
def test_values_and_gradients_match_pytorch(torch_values, name: str) -> None:
    case = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div's 'mean' warning (tested below)
        mine = gen.run(mg, F, case, gen.inputs())
    for key, value in mine.items():
        expected = torch_values[f"{name}/{key}"]
        assert value.shape == expected.shape, (key, value.shape, expected.shape)
        assert value.dtype == np.float64, (key, value.dtype)
        np.testing.assert_allclose(value, expected, rtol=1e-12,
                                   atol=1e-14 * _scale(expected), err_msg=f"{name} {key}")


def test_the_committed_inputs_are_the_generators() -> None:
    """The file was written from today's inputs (a changed seed or case would show)."""
    committed = gen.committed()
    for key, value in gen.inputs().items():
        np.testing.assert_array_equal(committed[key], value, err_msg=key)
    assert {f"{name}/value" for name in CASE_NAMES} <= set(committed)


# ------------------------------------------------------------------ second order
X = gen.inputs()
SECOND_ORDER = {
    "cross_entropy weight/ignore/smoothing": (
        lambda z: F.cross_entropy(z, X["targets_with_1"], weight=X["class_weight"],
                                  ignore_index=1, label_smoothing=0.1), [X["logits"]]),
    "cross_entropy N-d": (
        lambda z: F.cross_entropy(z, X["targets_nd"][:2, :, :2], weight=X["class_weight"],
                                  reduction="sum"), [X["logits_nd"][:2, :, :, :2]]),
    "cross_entropy probabilities": (
        lambda z, y: F.cross_entropy(z, y, label_smoothing=0.2), [X["logits"], X["probs"]]),
    "nll_loss weight": (
        lambda z: F.nll_loss(F.log_softmax(z, 1), X["targets"], weight=X["class_weight"]),
        [X["logits"]]),
    "binary_cross_entropy": (
        lambda p, y: F.binary_cross_entropy(p, y, weight=X["class_weight"]), [X["p"], X["y"]]),
    "binary_cross_entropy_with_logits": (
        lambda z, y: F.binary_cross_entropy_with_logits(
            z, y, weight=X["row_weight"], pos_weight=X["class_weight"]),
        [X["z"].clip(-6, 6) + 0.1, X["y"]]),
    "huber_loss": (lambda a, b: F.huber_loss(a, b, delta=0.7), [X["pred"], X["target"]]),
    "smooth_l1_loss": (lambda a, b: F.smooth_l1_loss(a, b, beta=0.7),
                       [X["pred"], X["target"]]),
    "l1_loss": (lambda a, b: F.l1_loss(a, b, reduction="sum"), [X["pred"], X["target"]]),
    "kl_div": (lambda a, b: F.kl_div(a, b, reduction="batchmean"),
               [X["log_probs"], X["probs"]]),
    "kl_div log_target": (
        lambda a, b: F.kl_div(a, b, reduction="batchmean", log_target=True),
        [X["log_probs"], X["log_probs_b"]]),
    "soft_margin_loss": (lambda a: F.soft_margin_loss(a, X["signs"]), [X["pred"]]),
    "normalize p=3 dim 0": (lambda a: F.normalize(a, 3.0, 0), [X["pred"]]),
    "cosine_similarity": (F.cosine_similarity, [X["pred"], X["target"]]),
    "softmax dim 2": (lambda a: F.softmax(a, 2), [X["logits_nd"][:2]]),
    "log_softmax dim 0": (lambda a: F.log_softmax(a, 0), [X["logits_nd"][:2]]),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_gradients_to_second_order(name: str) -> None:
    fn, inputs = SECOND_ORDER[name]
    assert mg.gradcheck(fn, inputs, order=1, atol=1e-6, rtol=1e-5)
    assert mg.gradcheck(fn, inputs, order=2, atol=1e-5, rtol=1e-4)


# ------------------------------------------------------------------ semantics
def test_weighted_mean_divides_by_the_weights_of_the_kept_targets() -> None:
    """PyTorch's denominator: sum of w[t_i] over targets != ignore_index, for the nll
    and the smoothing term alike (worked out by hand here)."""
    logits = X["logits"]
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    w, t, eps = X["class_weight"], X["targets_with_1"], 0.1
    kept = t != 1
    nll = -w[t] * logp[np.arange(5), t]
    smooth = -(logp * w).sum(1)
    expected = (((1 - eps) * nll + eps / 4 * smooth) * kept).sum() / (w[t] * kept).sum()
    loss = F.cross_entropy(mg.tensor(logits), t, weight=w, ignore_index=1, label_smoothing=eps)
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-13)


def test_all_targets_ignored_gives_nan_like_pytorch() -> None:
    logits = mg.tensor(X["logits"][:2], requires_grad=True)
    loss = F.cross_entropy(logits, np.array([-100, -100]))
    assert np.isnan(loss.item())
    assert F.cross_entropy(logits, np.array([-100, -100]), reduction="sum").item() == 0.0
    none = F.nll_loss(logits, np.array([-100, 1]), reduction="none").numpy()
    assert none[0] == 0.0 and none[1] == -X["logits"][1, 1]


def test_ignored_positions_never_read_their_scores() -> None:
    """An ignored target's row may hold -inf log-probabilities: its loss is 0, not NaN."""
    log_probs = mg.tensor([[-np.inf, -np.inf, 0.0], [-0.5, -1.0, -2.0]], requires_grad=True)
    loss = F.nll_loss(log_probs, np.array([-100, 2]))
    loss.backward()
    assert loss.item() == 2.0
    assert np.isfinite(log_probs.grad.numpy()).all()


def test_clamped_bce_log_and_its_gradient_at_the_edges() -> None:
    """log clamped at -100 as in PyTorch; the gradient there is that of the clamped formula
    (0 from the clamped log, no NaN from log(0))."""
    p = mg.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    loss = F.binary_cross_entropy(p, np.array([1.0, 0.0, 0.0, 1.0]), reduction="none")
    assert loss.tolist() == [100.0, 100.0, 0.0, 0.0]
    loss.sum().backward()
    assert np.isfinite(p.grad.numpy()).all()


def test_float32_stays_float32_and_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    logits = X["logits_nd"].astype(np.float32)
    w = X["class_weight"].astype(np.float32)
    mine = mg.tensor(logits, requires_grad=True)
    theirs = torch.tensor(logits, requires_grad=True)
    a = F.cross_entropy(mine, X["targets_nd"], weight=w, label_smoothing=0.1)
    b = tf.cross_entropy(theirs, torch.tensor(X["targets_nd"]), weight=torch.tensor(w),
                         label_smoothing=0.1)
    a.backward()
    b.backward()
    assert a.dtype == np.float32 and mine.grad.dtype == np.float32
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-6)
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-7)
    z = mg.tensor(X["z"].astype(np.float32))
    bce = F.binary_cross_entropy_with_logits(z, X["y"].astype(np.float32), pos_weight=w)
    expected = tf.binary_cross_entropy_with_logits(
        torch.tensor(X["z"], dtype=torch.float32), torch.tensor(X["y"], dtype=torch.float32),
        pos_weight=torch.tensor(w))
    assert bce.dtype == np.float32
    np.testing.assert_allclose(bce.item(), expected.item(), rtol=1e-6)


def test_one_hot_matches_pytorch() -> None:
    labels = np.array([[0, 2], [3, 1]])
    out = F.one_hot(labels)
    assert out.dtype == np.int64 and out.shape == (2, 2, 4)
    np.testing.assert_array_equal(out.numpy(), np.eye(4, dtype=np.int64)[labels])
    assert F.one_hot(mg.tensor(labels), num_classes=6).shape == (2, 2, 6)
    assert F.one_hot(np.zeros(0, np.int64), 3).shape == (0, 3)
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(
        out.numpy(), torch.nn.functional.one_hot(torch.tensor(labels)).numpy())


def test_softmax_dims_dtype_and_implicit_dim() -> None:
    x = mg.tensor(X["logits_nd"])
    for dim in range(-4, 4):
        np.testing.assert_allclose(F.softmax(x, dim).numpy().sum(dim), 1.0, rtol=1e-14)
    ints = F.log_softmax(mg.tensor([[1, 2, 3]]), dim=1, dtype=np.float64)
    assert ints.dtype == np.float64
    with pytest.warns(UserWarning, match=r"Implicit dimension choice for softmax.*dim=1"):
        implicit = F.softmax(x)  # PyTorch's choice for a 4-d input is 1, for 3-d 0
    np.testing.assert_allclose(implicit.numpy(), F.softmax(x, 1).numpy())
    with pytest.warns(UserWarning, match="dim=0"):
        F.softmax(mg.tensor(X["logits_nd"][0]))


def test_kl_div_mean_warns_like_pytorch() -> None:
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(mg.tensor(X["log_probs"]), X["probs"])


# ------------------------------------------------------------------------- modules
MODULES = [
    (nn.CrossEntropyLoss, dict(weight=X["class_weight"], ignore_index=1, label_smoothing=0.1,
                               reduction="sum"), "cross_entropy", ("logits", "targets_with_1")),
    (nn.NLLLoss, dict(weight=X["class_weight"], reduction="none"), "nll_loss",
     ("log_probs", "targets")),
    (nn.BCELoss, dict(weight=X["class_weight"]), "binary_cross_entropy", ("p", "y")),
    (nn.BCEWithLogitsLoss, dict(weight=X["row_weight"], pos_weight=X["class_weight"]),
     "binary_cross_entropy_with_logits", ("z", "y")),
    (nn.HuberLoss, dict(delta=0.5, reduction="sum"), "huber_loss", ("pred", "target")),
    (nn.SmoothL1Loss, dict(beta=0.5), "smooth_l1_loss", ("pred", "target")),
    (nn.L1Loss, dict(reduction="none"), "l1_loss", ("pred", "target")),
    (nn.MSELoss, dict(reduction="sum"), "mse_loss", ("pred", "target")),
    (nn.KLDivLoss, dict(reduction="batchmean", log_target=True), "kl_div",
     ("log_probs", "log_probs_b")),
    (nn.SoftMarginLoss, dict(), "soft_margin_loss", ("pred", "signs")),
]


@pytest.mark.parametrize("cls, kwargs, fn, args", MODULES,
                         ids=[m[0].__name__ for m in MODULES])
def test_loss_modules_match_pytorch_and_their_buffers(cls, kwargs, fn, args) -> None:
    torch = pytest.importorskip("torch")
    module = cls(**kwargs)
    theirs = getattr(torch.nn, cls.__name__)(
        **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()})
    values = [X[name] for name in args]
    np.testing.assert_allclose(module(mg.tensor(values[0]), values[1]).numpy(),
                               theirs(*map(torch.tensor, values)).numpy(), rtol=1e-12)
    assert sorted(module.state_dict()) == sorted(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(module.state_dict()[key].numpy(), value.numpy())


def test_legacy_size_average_and_reduce_map_like_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for size_average, reduce in ((False, None), (None, False), (True, True), (False, True)):
        with pytest.warns(UserWarning), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            mine = nn.MSELoss(size_average, reduce).reduction
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = torch.nn.MSELoss(size_average, reduce).reduction
        assert mine == theirs, (size_average, reduce)


# -------------------------------------------------------------------------- errors
def _t(*shape: int) -> mg.Tensor:
    return mg.tensor(np.zeros(shape))


ERRORS = [
    (lambda: F.cross_entropy(_t(2, 3, 4), np.zeros((2, 3), np.int64)), ValueError,
     r"cross_entropy: targets of shape \(2, 3\) do not match logits of shape \(2, 3, 4\) "
     r"\(expected \(2, 4\)\)"),
    (lambda: F.cross_entropy(_t(2, 3, 2), np.array([[0, 1], [5, 0]])), IndexError,
     r"target 5 at position \(1, 0\) is out of range for 3 classes \(valid: 0\.\.2\) and is "
     r"not ignore_index \(-100\)"),
    (lambda: F.nll_loss(_t(2, 3), np.array([0, -100]), ignore_index=1), IndexError,
     r"nll_loss: target -100 at position 1 is out of range .* ignore_index \(1\)"),
    (lambda: F.cross_entropy(_t(2, 3), np.array([0, 1]), weight=np.ones(4)), ValueError,
     r"cross_entropy: weight must hold one value per class, shape \(3,\), got shape \(4,\)"),
    (lambda: F.cross_entropy(_t(2, 3), np.array([0, 1]), label_smoothing=1.5), ValueError,
     r"label_smoothing must be between 0\.0 and 1\.0, got 1\.5"),
    (lambda: F.cross_entropy(_t(2, 3), np.zeros((2, 3), np.int64)), TypeError,
     r"targets of the logits' shape \(2, 3\) are class probabilities and must be floating "
     r"point, got dtype int64"),
    (lambda: F.cross_entropy(_t(2, 3), np.zeros((2, 3)), ignore_index=0), ValueError,
     r"ignore_index \(0\) is not supported for probability targets"),
    (lambda: F.cross_entropy(mg.tensor(np.zeros((2, 3), np.int64)), np.array([0, 1])),
     TypeError, r"cross_entropy: logits must be floating point, got dtype int64"),
    (lambda: F.nll_loss(_t(3), np.array([0])), ValueError,
     r"nll_loss: input must have shape \(N, C\), got \(3,\) \(or \(C,\) with a 0-d target"),
    (lambda: F.nll_loss(_t(2, 3), np.array([0, 1]), reduction="batchmean"), ValueError,
     r"reduction must be one of \('mean', 'sum', 'none'\), got 'batchmean'"),
    (lambda: F.binary_cross_entropy(mg.tensor([0.5, 1.2]), np.array([0.0, 1.0])), ValueError,
     r"binary_cross_entropy: every element of input must lie in \[0, 1\], got 1\.2 at "
     r"position \(1,\)"),
    (lambda: F.binary_cross_entropy(mg.tensor([0.5, np.nan]), np.array([0.0, 1.0])),
     ValueError, r"got nan at position \(1,\)"),
    (lambda: F.binary_cross_entropy(_t(2, 3), np.zeros((2, 3)), weight=np.ones(4)),
     ValueError, r"binary_cross_entropy: weight of shape \(4,\) does not broadcast to the "
     r"input's shape \(2, 3\)"),
    (lambda: F.binary_cross_entropy_with_logits(_t(2, 3), np.zeros((2, 3)),
                                                pos_weight=np.ones(2)), ValueError,
     r"pos_weight of shape \(2,\) does not broadcast to the input's shape \(2, 3\)"),
    (lambda: F.binary_cross_entropy(_t(2), np.zeros(3)), ValueError,
     r"binary_cross_entropy: input shape \(2,\) differs from target shape \(3,\)"),
    (lambda: F.huber_loss(_t(2), np.zeros(2), delta=0.0), ValueError,
     r"huber_loss: delta must be positive, got 0\.0"),
    (lambda: F.smooth_l1_loss(_t(2), np.zeros(2), beta=-1.0), ValueError,
     r"smooth_l1_loss: beta must be >= 0, got -1\.0"),
    (lambda: F.l1_loss(mg.tensor([1, 2]), np.zeros(2)), TypeError,
     r"l1_loss: input must be floating point, got dtype int64"),
    (lambda: F.kl_div(_t(2), np.array([0.5, -0.5])), ValueError,
     r"kl_div: target must hold probabilities \(>= 0\) when log_target is False \(pass "
     r"log_target=True for log-probabilities\), got -0\.5 at position \(1,\)"),
    (lambda: F.kl_div(_t(2), np.ones(2), reduction="avg"), ValueError,
     r"reduction must be one of \('mean', 'batchmean', 'sum', 'none'\), got 'avg'"),
    (lambda: F.one_hot(np.array([0.0, 1.0])), TypeError,
     r"one_hot: tensor must hold integer class indices, got dtype float64"),
    (lambda: F.one_hot(np.array([0, 3]), 3), ValueError,
     r"one_hot: class value 3 is not smaller than num_classes \(3\)"),
    (lambda: F.one_hot(np.array([0, -1])), ValueError,
     r"one_hot: class values must be non-negative, got -1"),
    (lambda: F.one_hot(np.zeros(0, np.int64)), ValueError,
     r"cannot infer the number of classes from an empty tensor \(shape \(0,\)\)"),
    (lambda: F.normalize(_t(2, 3), p=0.0), ValueError, r"normalize: p must be positive, got 0\.0"),
    (lambda: F.cosine_similarity(_t(2, 3), _t(3, 2)), ValueError,
     r"cosine_similarity: shapes \(2, 3\) and \(3, 2\) cannot be broadcast together"),
    (lambda: F.softmax(_t(2, 3), 2), IndexError,
     r"softmax: dim 2 is out of range for a tensor of shape \(2, 3\) \(valid: -2\.\.1\)"),
    (lambda: F.log_softmax(mg.tensor([1, 2]), 0), TypeError,
     r"log_softmax: input must be floating point, got dtype int64 \(pass dtype= to convert"),
]


@pytest.mark.parametrize("call, error, message", ERRORS, ids=[m[2][:40] for m in ERRORS])
def test_bad_inputs_get_errors_naming_them(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()

"""nn.init, layers' default initialisation and nn.utils against PyTorch 2.13: gains and fans
exactly (PyTorch's formulas written out, and torch live), distributions statistically
(bounds, mean, std within a few standard errors, and beside torch's own draws),
gradient clipping and flat vectors in float64 to 1e-12 (torch live)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg

nn = mg.nn
init = nn.init

# calculate_gain as PyTorch's docs table gives it
GAINS = [("linear", None, 1.0), ("conv2d", None, 1.0), ("sigmoid", None, 1.0),
         ("tanh", None, 5.0 / 3), ("relu", None, math.sqrt(2.0)),
         ("leaky_relu", None, math.sqrt(2.0 / (1 + 0.01**2))),
         ("leaky_relu", 0.2, math.sqrt(2.0 / 1.04)), ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
         ("selu", None, 0.75)]


@pytest.mark.parametrize("name,param,expected", GAINS)
def test_calculate_gain(name, param, expected):
    assert init.calculate_gain(name, param) == pytest.approx(expected, rel=1e-15)
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)


def test_fans_and_errors():
    cases = {(3, 4): (4, 3), (8, 3, 5, 5): (75, 200), (2, 3, 4, 5, 6): (360, 240)}
    for shape, fans in cases.items():
        assert init._calculate_fan_in_and_fan_out(mg.tensor(np.zeros(shape))) == fans
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_uniform_(mg.tensor(np.zeros(3)))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(mg.tensor(np.zeros((3, 3))), mode="fan_avg")
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        init.kaiming_uniform_(mg.tensor(np.zeros((0, 3))))


SHAPE = (256, 64, 3, 3)  # fan_in 576, fan_out 2304; 147456 draws
FAN_IN, FAN_OUT = 576, 2304
# (call, kind, the scale PyTorch's formula gives: the bound of a uniform, the std of a normal)
DISTRIBUTIONS = {
    "kaiming_uniform": (init.kaiming_uniform_, "uniform",
                        math.sqrt(2) * math.sqrt(3 / FAN_IN)),  # a = 0: leaky_relu's gain
    "kaiming_uniform_relu_fan_out": (
        lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"), "uniform",
        math.sqrt(2) * math.sqrt(3 / FAN_OUT)),
    "kaiming_normal_a": (lambda t: init.kaiming_normal_(t, a=0.3), "normal",
                         math.sqrt(2 / 1.09) / math.sqrt(FAN_IN)),
    "xavier_uniform": (lambda t: init.xavier_uniform_(t, gain=2.0), "uniform",
                       2.0 * math.sqrt(6 / (FAN_IN + FAN_OUT))),
    "xavier_normal": (init.xavier_normal_, "normal",
                      math.sqrt(2 / (FAN_IN + FAN_OUT))),
    "uniform": (lambda t: init.uniform_(t, -0.3, 0.3), "uniform", 0.3),
    "normal": (lambda t: init.normal_(t, 0.0, 0.05), "normal", 0.05),
}
TORCH_CALLS = {
    "kaiming_uniform": lambda nn_init, t: nn_init.kaiming_uniform_(t),
    "kaiming_uniform_relu_fan_out":
        lambda nn_init, t: nn_init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
    "kaiming_normal_a": lambda nn_init, t: nn_init.kaiming_normal_(t, a=0.3),
    "xavier_uniform": lambda nn_init, t: nn_init.xavier_uniform_(t, gain=2.0),
    "xavier_normal": lambda nn_init, t: nn_init.xavier_normal_(t),
    "uniform": lambda nn_init, t: nn_init.uniform_(t, -0.3, 0.3),
    "normal": lambda nn_init, t: nn_init.normal_(t, 0.0, 0.05),
}


def _check_distribution(values: np.ndarray, kind: str, scale: float) -> None:
    """Bounds and moments: the std of U(-b, b) is b / sqrt(3); tolerances are 5 standard
    errors of the sample mean and std for this many draws."""
    n = values.size
    std = scale / math.sqrt(3) if kind == "uniform" else scale
    if kind == "uniform":  # (the max falls below (1 - 10/n) b with probability e^-10)
        assert np.all(np.abs(values) <= scale * (1 + 1e-7))  # float32 rounding
        assert np.abs(values).max() > (1 - 10 / n) * scale
    assert abs(values.mean()) < 5 * std / math.sqrt(n)
    assert abs(values.std() / std - 1) < 5 * (math.sqrt(0.8 / n) if kind == "uniform"
                                              else math.sqrt(0.5 / n))


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_init_distributions(name):
    call, kind, scale = DISTRIBUTIONS[name]
    mg.manual_seed(7)
    tensor = mg.tensor(np.zeros(SHAPE, np.float32))
    assert call(tensor) is tensor and tensor.dtype == np.float32
    _check_distribution(tensor.numpy().astype(np.float64), kind, scale)
    torch = pytest.importorskip("torch")
    theirs = torch.empty(SHAPE)
    TORCH_CALLS[name](torch.nn.init, theirs)
    _check_distribution(theirs.numpy().astype(np.float64), kind, scale)  # the same formula


def test_init_is_reproducible_and_constant_fills():
    mg.manual_seed(3)
    a = init.xavier_normal_(mg.tensor(np.zeros((4, 5))))
    mg.manual_seed(3)
    b = init.xavier_normal_(mg.tensor(np.zeros((4, 5))))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    t = mg.tensor(np.zeros((2, 3)))
    assert init.constant_(t, 0.25).numpy().tolist() == [[0.25] * 3] * 2
    assert init.ones_(t).numpy().sum() == 6 and init.zeros_(t).numpy().sum() == 0


# ------------------------------------------------------------- layers' default init
def _layer_cases(lib):
    return {
        "Linear": lambda: lib.nn.Linear(300, 400),
        "Embedding": lambda: lib.nn.Embedding(300, 200, padding_idx=3),
        "BatchNorm2d": lambda: lib.nn.BatchNorm2d(5),
        "LayerNorm": lambda: lib.nn.LayerNorm((3, 4)),
    }


# PyTorch's default distributions written out: (kind, bound or std); others are constants
DEFAULTS = {("Linear", "weight"): ("uniform", 1 / math.sqrt(300)),
            ("Linear", "bias"): ("uniform", 1 / math.sqrt(300)),
            ("Embedding", "weight"): ("normal", 1.0)}


@pytest.mark.parametrize("layer", sorted(_layer_cases(mg)))
def test_default_init_matches_torch(layer):
    mg.manual_seed(0)
    ours = _layer_cases(mg)[layer]()
    before = {k: v.numpy().copy() for k, v in ours.state_dict().items()}
    ours.reset_parameters()
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = _layer_cases(torch)[layer]()
    for (key, mine), (key_t, their) in zip(ours.state_dict().items(),
                                           theirs.state_dict().items(), strict=True):
        assert key == key_t and mine.shape == tuple(their.shape)
        a, b = mine.numpy().astype(np.float64), their.numpy().astype(np.float64)
        if (layer, key) not in DEFAULTS:  # a constant: equal
            np.testing.assert_array_equal(a, b, err_msg=key)
            continue
        kind, scale = DEFAULTS[layer, key]
        if layer == "Embedding":  # the padding row is zero in both, not drawn
            assert np.all(a[3] == 0) and np.all(b[3] == 0)
            a, b = np.delete(a, 3, axis=0), np.delete(b, 3, axis=0)
        _check_distribution(a, kind, scale)
        _check_distribution(b, kind, scale)  # the formula is PyTorch's
        assert not np.array_equal(before[key], mine.numpy()), key  # drawn anew


def test_batchnorm_reset_running_stats():
    bn = nn.BatchNorm1d(3)
    bn(mg.tensor(np.random.default_rng(0).normal(size=(8, 3)), dtype="float32"))
    bn.weight.assign_(np.full(3, 2.0))
    bn.reset_running_stats()
    assert bn.running_mean.numpy().tolist() == [0, 0, 0]
    assert bn.running_var.numpy().tolist() == [1, 1, 1]
    assert int(bn.num_batches_tracked) == 0 and bn.weight.numpy().tolist() == [2, 2, 2]
    bn.reset_parameters()
    assert bn.weight.numpy().tolist() == [1, 1, 1]


# ------------------------------------------------------------------------ nn.utils
def _grads(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s) * 3 for s in ((3, 4), (4,), (2, 2, 2))]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf, 0.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    grads = _grads()
    ours = [nn.Parameter(np.zeros(g.shape)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, q, g in zip(ours, theirs, grads, strict=True):
        p.grad = mg.tensor(g)
        q.grad = torch.tensor(g)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(total.numpy(), total_t.numpy(), rtol=1e-13)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-13)


def test_clip_grad_norm_nonfinite_and_no_grads():
    p = nn.Parameter(np.zeros(2))
    p.grad = mg.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match=r"total norm of order 2.0 .* is non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([nn.Parameter(np.zeros(2))], 1.0).item() == 0.0


def test_clip_grad_value_and_flat_vectors_match_torch():
    torch = pytest.importorskip("torch")
    grads = _grads(1)
    ours = [nn.Parameter(g * 0.5) for g in grads]
    theirs = [torch.tensor(g * 0.5, requires_grad=True) for g in grads]
    for p, q, g in zip(ours, theirs, grads, strict=True):
        p.grad, q.grad = mg.tensor(g), torch.tensor(g)
    nn.utils.clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    vector = nn.utils.parameters_to_vector(ours)
    np.testing.assert_array_equal(vector.numpy(),
                                  torch.nn.utils.parameters_to_vector(theirs).detach().numpy())
    weights = np.arange(vector.shape[0], dtype=float)
    for p in ours:
        p.grad = None
    (vector * weights).sum().backward()  # the gradient goes back to each parameter's slot
    assert ours[1].grad.numpy().tolist() == [12.0, 13.0, 14.0, 15.0]
    nn.utils.vector_to_parameters(mg.tensor(weights), ours)
    np.testing.assert_array_equal(ours[2].numpy(), np.arange(16, 24).reshape(2, 2, 2))
    with pytest.raises(ValueError, match="vec has 3 values, the parameters hold 24"):
        nn.utils.vector_to_parameters(mg.tensor([1.0, 2.0, 3.0]), ours)


def test_clip_grad_norm_inside_a_jitted_training_step_equals_eager():
    def make():
        mg.manual_seed(4)
        model = nn.Sequential(nn.Linear(3, 4, dtype="float64"), nn.Tanh(),
                              nn.Linear(4, 1, dtype="float64"))
        return model, mg.optim.SGD(model.parameters(), lr=0.5)

    runs = []
    for use_jit in (False, True):
        model, opt = make()

        def step(x, y, model=model, opt=opt):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            total = nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            opt.step()
            return total

        run = mg.jit(step) if use_jit else step
        rng = np.random.default_rng(0)
        totals = [run(mg.tensor(rng.normal(size=(5, 3))), mg.tensor(rng.normal(size=(5, 1))))
                  .item() for _ in range(3)]
        runs.append((totals, [p.numpy().copy() for p in model.parameters()]))
        if use_jit:
            # (a second compile: the first call found no .grad, the next ones last step's)
            assert run.stats()["compiles"] <= 2 and run.stats()["calls"] == 3, run.stats()
    (eager_totals, eager_params), (jit_totals, jit_params) = runs
    np.testing.assert_allclose(jit_totals, eager_totals, rtol=1e-12)
    assert eager_totals[0] > 0.1  # the clipping acts
    for a, b in zip(jit_params, eager_params, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)

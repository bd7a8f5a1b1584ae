"""Normalisation layers against PyTorch 2.13 (live; the committed BatchNorm references are
in tests/reference/torch_bn.npz and test_batchnorm.py): BatchNorm3d, a zero-size batch,
reset_running_stats / reset_parameters, LayerNorm without affine or bias."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

nn = mg.nn


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (0, 3)), ("BatchNorm2d", (0, 3, 2, 2)),
                                       ("BatchNorm2d", (2, 3, 0, 2)),
                                       ("BatchNorm3d", (0, 3, 1, 2, 2))])
def test_zero_size_batch_is_pytorchs(cls, shape):
    layer = getattr(nn, cls)(3, dtype="float64")
    x = mg.tensor(np.zeros(shape), requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert out.shape == shape and x.grad.shape == shape
    assert layer.weight.grad.numpy().tolist() == [0.0] * 3
    assert layer.running_mean.numpy().tolist() == [0.0] * 3
    assert layer.running_var.numpy().tolist() == [1.0] * 3
    assert int(layer.num_batches_tracked) == 1
    assert layer.eval()(x).shape == shape
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, cls)(3)
    t = torch.zeros(shape, requires_grad=True)
    out_t = theirs(t)
    out_t.sum().backward()
    assert tuple(out_t.shape) == shape and int(theirs.num_batches_tracked) == 1
    assert theirs.weight.grad.tolist() == [0.0] * 3


@pytest.mark.parametrize("impl", ["composed", "fused"])
def test_batchnorm3d_matches_torch_over_steps(impl):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    ours = nn.BatchNorm3d(3, momentum=0.3, impl=impl, dtype="float64")
    theirs = torch.nn.BatchNorm3d(3, momentum=0.3).double()
    for _ in range(2):
        x = rng.normal(size=(2, 3, 2, 3, 2)) * 2 + 1
        g = rng.normal(size=x.shape)
        a = mg.tensor(x, requires_grad=True)
        t = torch.tensor(x, requires_grad=True)
        (ours(a) * g).sum().backward()
        (theirs(t) * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (key, mine), (_, their) in zip(ours.state_dict().items(),
                                       theirs.state_dict().items(), strict=True):
        np.testing.assert_allclose(mine.numpy(), their.numpy(), rtol=1e-12, err_msg=key)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                               rtol=1e-10)
    with pytest.raises(ValueError, match="expected 5D input"):
        ours(mg.tensor(np.zeros((2, 3, 4))))


@pytest.mark.parametrize("affine,bias", [(True, True), (True, False), (False, True)])
def test_layer_norm_affine_and_bias_options_match_torch(affine, bias):
    torch = pytest.importorskip("torch")
    ours = nn.LayerNorm((3, 4), elementwise_affine=affine, bias=bias, dtype="float64")
    theirs = torch.nn.LayerNorm((3, 4), elementwise_affine=affine, bias=bias).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(2).normal(size=(2, 3, 4))
    for mine, their in zip(ours.parameters(), theirs.parameters(), strict=True):
        value = np.random.default_rng(mine.ndim).normal(size=mine.shape)
        mine.assign_(value)
        with torch.no_grad():
            their.copy_(torch.tensor(value))
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)


# ------------------------------------------------- LayerNorm, GroupNorm, InstanceNorm
from minigrad.nn import functional as F  # noqa: E402
from tests.reference import gen_nn_layers as gen  # noqa: E402


@pytest.fixture(params=["committed", "live"], scope="module")
def ref(request: pytest.FixtureRequest) -> dict[str, np.ndarray]:
    """PyTorch's values: from the committed .npz, or computed now with torch."""
    if request.param == "live":
        pytest.importorskip("torch")
        return gen.compute()
    return gen.committed()


def _norm_derivatives(name: str, impl: str, arrays: dict[str, np.ndarray],
                      third: bool = False) -> dict[str, np.ndarray]:
    """y, first-order gradients of sum(y * g), second-order of sum(dx * v) (and the third
    order along v when asked), in minigrad."""
    fn_name, _, kwargs, param_shape = gen.NORMS[name]
    leaves = {"x": mg.tensor(arrays[f"{name}_x"], requires_grad=True)}
    if param_shape is not None:
        for key in ("weight", "bias"):
            leaves[key] = mg.tensor(arrays[f"{name}_{key}"], requires_grad=True)
    y = getattr(F, fn_name)(leaves["x"], **kwargs, weight=leaves.get("weight"),
                            bias=leaves.get("bias"), impl=impl)
    grads = mg.grad((y * arrays[f"{name}_g"]).sum(), list(leaves.values()), create_graph=True)
    second = mg.grad((grads[0] * arrays[f"{name}_v"]).sum(), list(leaves.values())[:2],
                     create_graph=third)
    out = {"y": y.numpy()}
    out.update({f"d{key}": g.numpy() for key, g in zip(leaves, grads, strict=True)})
    out.update({f"d2{key}": g.numpy() for key, g in zip(list(leaves)[:2], second,
                                                         strict=True)})
    if third:
        (out["d3x"],) = (g.numpy() for g in mg.grad((second[0] * arrays[f"{name}_v"]).sum(),
                                                    [leaves["x"]]))
    return out


@pytest.mark.parametrize("impl", ["composed", "fused"])
@pytest.mark.parametrize("name", sorted(gen.NORMS))
def test_norm_values_and_two_orders_of_gradients_match_torch(ref, name, impl):
    ours = _norm_derivatives(name, impl, ref)
    for key, value in ours.items():
        np.testing.assert_allclose(value, ref[f"{name}_{key}"], rtol=1e-10, atol=1e-11,
                                   err_msg=f"{name} {impl} {key}")


@pytest.mark.parametrize("name", sorted(gen.NORMS))
def test_norm_composed_and_fused_agree_to_third_order(name):
    arrays = gen.committed()
    composed = _norm_derivatives(name, "composed", arrays, third=True)
    fused = _norm_derivatives(name, "fused", arrays, third=True)
    for key, value in composed.items():
        np.testing.assert_allclose(fused[key], value, rtol=1e-9, atol=1e-10, err_msg=key)


@pytest.mark.parametrize("impl", ["composed", "fused"])
def test_norms_gradcheck_to_second_order(impl):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 4, 3))
    w, b = rng.normal(size=4), rng.normal(size=4)
    calls = [lambda t, u, c: F.group_norm(t, 2, u, c, impl=impl),
             lambda t, u, c: F.instance_norm(t, weight=u, bias=c, impl=impl),
             lambda t, u, c: F.layer_norm(t.reshape(6, 4), (4,), u, c, impl=impl)]
    for call in calls:
        for order in (1, 2):
            assert mg.gradcheck(call, [x, w, b], order=order)


@pytest.mark.parametrize("impl", ["composed", "fused"])
@pytest.mark.parametrize("cls,shape", [("InstanceNorm1d", (4, 3, 5)),
                                       ("InstanceNorm2d", (2, 3, 2, 3)),
                                       ("InstanceNorm1d", (3, 5))])
def test_instance_norm_running_stats_and_eval_match_torch(cls, shape, impl):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    ours = getattr(nn, cls)(3, momentum=0.3, affine=True, track_running_stats=True,
                            impl=impl, dtype="float64")
    theirs = getattr(torch.nn, cls)(3, momentum=0.3, affine=True,
                                    track_running_stats=True).double()
    for step in range(3):
        if step == 2:
            ours.eval()
            theirs.eval()
        x = rng.normal(size=shape) * 3 + 1
        g = rng.normal(size=shape)
        a, t = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        (ours(a) * g).sum().backward()
        (theirs(t) * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (key, mine), (key_t, their) in zip(ours.state_dict().items(),
                                           theirs.state_dict().items(), strict=True):
        assert key == key_t
        np.testing.assert_allclose(mine.numpy(), their.detach().numpy(), rtol=1e-12,
                                   err_msg=key)
    assert repr(ours).startswith(repr(theirs)[:-1])


def test_norm_module_defaults_and_errors_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in ((nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)),
                         (nn.InstanceNorm2d(3), torch.nn.InstanceNorm2d(3))):
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert repr(ours) == repr(theirs)
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="does not have 4 channels"):
        nn.GroupNorm(2, 4)(mg.tensor(np.zeros((2, 6, 3))))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element"):
        nn.InstanceNorm1d(3)(mg.tensor(np.zeros((2, 3, 1))))
    with pytest.raises(ValueError, match=r"expected 3D \(unbatched\) or 4D"):
        nn.InstanceNorm2d(3)(mg.tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="impl must be one of"):
        nn.GroupNorm(1, 2, impl="fast")
    with pytest.warns(UserWarning, match="input has 4 channels"):
        nn.InstanceNorm1d(3)(mg.tensor(np.random.default_rng(0).normal(size=(2, 4, 5))))


def _names_and_ops(out: mg.Tensor) -> tuple[set, set]:
    names, op_names, stack, seen = set(), set(), [out], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        names.add(node.name)
        op_names.add(getattr(node.op, "name", None))
        stack.extend(node.inputs)
    return names, op_names


@pytest.mark.parametrize("make", [lambda impl: nn.GroupNorm(2, 4, impl=impl),
                                  lambda impl: nn.InstanceNorm1d(4, affine=True, impl=impl),
                                  lambda impl: nn.LayerNorm(3, impl=impl)])
def test_composed_norms_name_the_seed_steps_and_fused_is_one_node(make):
    x = mg.tensor(np.random.default_rng(1).normal(size=(2, 4, 3)), requires_grad=True)
    names, op_names = _names_and_ops(make("composed")(x))
    assert {"mu", "xmu", "sq", "var", "sqrtvar", "ivar", "xhat", "gammax", "out"} <= names
    assert "normalize" not in op_names
    names, op_names = _names_and_ops(make("fused")(x))
    assert "normalize" in op_names and not names & {"mu", "xmu", "sq", "sqrtvar", "ivar"}


def test_compare_norm_table_is_within_roundoff_and_fd_error():
    from minigrad.compare import compare_norm, format_table

    rows = compare_norm("group", (3, 2), "float64", 1e-5, seed=2)
    assert len(rows) == 13 and "d3x" in format_table(rows)
    for row in rows:
        limit = 1e-12 if row.right == "fused" else 1e-6  # FD error (step 1e-6 / 1e-5)
        assert row.max_abs < limit, row
    with pytest.raises(ValueError, match="compare_norm: kind must be one of"):
        compare_norm("batch")


@pytest.mark.parametrize("impl", ["composed", "fused"])
def test_batchnorm_without_bias_matches_torch(impl):
    torch = pytest.importorskip("torch")
    ours = nn.BatchNorm1d(3, bias=False, impl=impl, dtype="float64")
    theirs = torch.nn.BatchNorm1d(3, bias=False).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours).startswith(repr(theirs)[:-1])  # then minigrad's impl=
    x = np.random.default_rng(3).normal(size=(5, 3))
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)


def test_time_norm_reports_both_implementations():
    from minigrad.compare import time_norm

    text = time_norm("layer", (4, 3), "float64")
    assert "layer norm forward + backward" in text
    assert all(f"{impl}" in text for impl in ("composed", "fused")) and "error" not in text


def test_compare_command_takes_the_norm(capsys):
    from minigrad import cli

    assert cli.main(["compare", "--norm", "layer", "--shape", "3x2", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "Composed vs fused LayerNorm, shape (3, 2), float64" in out and "d3x" in out


def test_norms_under_jit_match_eager_values_and_gradients():
    mg.manual_seed(0)
    layers = [nn.GroupNorm(2, 4, dtype="float64"), nn.GroupNorm(2, 4, impl="fused",
                                                                 dtype="float64"),
              nn.LayerNorm(3, impl="fused", dtype="float64"),
              nn.InstanceNorm1d(4, affine=True, impl="fused", dtype="float64")]

    def step(x):
        y = layers[0](x) * 2.0 + layers[1](x) + layers[2](x) + layers[3](x)
        loss = (y * y * x).sum()
        loss.backward()
        return loss

    compiled = mg.jit(step)
    rng = np.random.default_rng(0)
    for _ in range(2):  # the second call runs the compiled entry on new values
        value = rng.normal(size=(2, 4, 3))
        results = []
        for run in (compiled, step):
            x = mg.tensor(value, requires_grad=True)
            for layer in layers:
                layer.zero_grad()
            loss = run(x)
            results.append((loss.item(), x.grad.numpy(), layers[1].weight.grad.numpy()))
        (a, ga, wa), (b, gb, wb) = results
        np.testing.assert_allclose(a, b, rtol=1e-12)
        np.testing.assert_allclose(ga, gb, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(wa, wb, rtol=1e-10, atol=1e-12)
    assert compiled.stats()["compiles"] == 1 and compiled.stats()["calls"] == 2

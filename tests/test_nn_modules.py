"""Module traversal, containers and hooks against PyTorch 2.13: the order of
named_parameters / named_buffers / named_modules / state_dict (written out below as PyTorch
prints it, and compared live when torch is importable), containers' registration, hooks."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

nn = mg.nn


def _nested(lib):
    """The same nested network in minigrad or torch: Sequential / ModuleList / a custom
    module with its own parameter, buffer and children, BatchNorm buffers, a shared layer."""

    class Block(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = lib.nn.Parameter(lib.tensor(np.ones(3, np.float32)))
            self.inner = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.BatchNorm1d(3))
            self.register_buffer("steps", lib.tensor(np.zeros(1, np.float32)))
            self.heads = lib.nn.ModuleList([lib.nn.Linear(3, 2), lib.nn.Linear(3, 1)])

        def forward(self, x):
            return x

    shared = lib.nn.Linear(2, 3)
    return lib.nn.Sequential(
        lib.nn.Sequential(shared, lib.nn.BatchNorm1d(3)),
        Block(),
        lib.nn.ModuleDict({"b": lib.nn.Linear(3, 3), "a": lib.nn.LayerNorm(3)}),
        shared,
        lib.nn.Linear(3, 1),
    )


# PyTorch 2.13's answers for _nested(torch) (printed by the live test's torch side)
TORCH_PARAMETERS = [
    "0.0.weight", "0.0.bias", "0.1.weight", "0.1.bias", "1.scale", "1.inner.0.weight",
    "1.inner.0.bias", "1.inner.1.weight", "1.inner.1.bias", "1.heads.0.weight",
    "1.heads.0.bias", "1.heads.1.weight", "1.heads.1.bias", "2.b.weight", "2.b.bias",
    "2.a.weight", "2.a.bias", "4.weight", "4.bias",
]
TORCH_BUFFERS = [
    "0.1.running_mean", "0.1.running_var", "0.1.num_batches_tracked", "1.steps",
    "1.inner.1.running_mean", "1.inner.1.running_var", "1.inner.1.num_batches_tracked",
]
TORCH_MODULES = ["", "0", "0.0", "0.1", "1", "1.inner", "1.inner.0", "1.inner.1", "1.heads",
                 "1.heads.0", "1.heads.1", "2", "2.b", "2.a", "4"]
TORCH_STATE = [
    "0.0.weight", "0.0.bias", "0.1.weight", "0.1.bias", "0.1.running_mean", "0.1.running_var",
    "0.1.num_batches_tracked", "1.scale", "1.steps", "1.inner.0.weight", "1.inner.0.bias",
    "1.inner.1.weight", "1.inner.1.bias", "1.inner.1.running_mean", "1.inner.1.running_var",
    "1.inner.1.num_batches_tracked", "1.heads.0.weight", "1.heads.0.bias", "1.heads.1.weight",
    "1.heads.1.bias", "2.b.weight", "2.b.bias", "2.a.weight", "2.a.bias", "3.weight",
    "3.bias", "4.weight", "4.bias",
]


def _orders(model) -> dict[str, list[str]]:
    return {
        "parameters": [n for n, _ in model.named_parameters()],
        "buffers": [n for n, _ in model.named_buffers()],
        "modules": [n for n, _ in model.named_modules()],
        "state": list(model.state_dict()),
        "modules_all": [n for n, _ in model.named_modules(remove_duplicate=False)],
        "parameters_all": [n for n, _ in model.named_parameters(remove_duplicate=False)],
        "children": [n for n, _ in model.named_children()],
        "own": [n for n, _ in model[1].named_parameters(recurse=False)],
        "prefixed": [n for n, _ in model[1].named_parameters(prefix="x")][:3],
    }


def test_traversal_order_is_pytorchs_written_out():
    orders = _orders(_nested(mg))
    assert orders["parameters"] == TORCH_PARAMETERS
    assert orders["buffers"] == TORCH_BUFFERS
    assert orders["modules"] == TORCH_MODULES
    assert orders["state"] == TORCH_STATE
    model = _nested(mg)
    assert [id(p) for p in model.parameters()] == [id(p) for _, p in model.named_parameters()]


def test_traversal_order_matches_torch_live():
    torch = pytest.importorskip("torch")
    assert _orders(_nested(mg)) == _orders(_nested(torch))


def test_state_dict_round_trips_with_torch_by_key_and_by_position():
    torch = pytest.importorskip("torch")
    ours, theirs = _nested(mg), _nested(torch).double()
    ours.double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for (key, a), (key_t, b) in zip(ours.state_dict().items(), theirs.state_dict().items(),
                                    strict=True):
        assert key == key_t
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.detach().numpy())


def test_deep_nesting_walks_without_recursion():
    model = nn.Identity()
    for _ in range(3000):  # deeper than Python's recursion limit
        model = nn.Sequential(model, nn.Linear(1, 1))
    assert len(list(model.parameters())) == 6000
    assert len(model.state_dict()) == 6000
    assert sum(1 for _ in model.modules()) == 6001
    count = []
    model.apply(count.append)
    assert len(count) == 6001 and count[-1] is model


def test_non_persistent_buffer_and_load_result():
    layer = nn.Linear(2, 2)
    layer.register_buffer("cache", mg.tensor([1.0]), persistent=False)
    assert [n for n, _ in layer.named_buffers()] == ["cache"]
    assert list(layer.state_dict()) == ["weight", "bias"]
    result = layer.load_state_dict({"weight": np.zeros((2, 2)), "extra": np.ones(1)},
                                   strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(layer.weight.numpy(), 0)


def test_tied_weights_are_saved_under_each_name_and_loaded():
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, shared)
    assert list(net.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert len(list(net.parameters())) == 2
    net.load_state_dict({k: np.full(v.shape, 3.0) for k, v in net.state_dict().items()})
    np.testing.assert_array_equal(shared.weight.numpy(), 3.0)


# ------------------------------------------------------------------------- containers
def test_module_list_registers_renumbers_and_slices_like_torch():
    torch = pytest.importorskip("torch")
    for lib in (mg, torch):
        layers = lib.nn.ModuleList([lib.nn.Linear(1, 1) for _ in range(4)])
        first = layers[0]
        del layers[1]
        layers.insert(0, lib.nn.Identity())
        layers.append(lib.nn.Identity())
        layers += [lib.nn.Linear(1, 2)]
        popped = layers.pop(2)
        names = [n for n, _ in layers.named_parameters()]
        kinds = [type(m).__name__ for m in layers]
        assert layers[1] is first and popped is not first
        assert len(layers[1:3]) == 2 and isinstance(layers[1:3], type(layers))
        if lib is mg:
            ours = names, kinds
        else:
            assert (names, kinds) == ours
    assert ours[0] == ["1.weight", "1.bias", "2.weight", "2.bias", "4.weight", "4.bias"]


def test_module_dict_and_parameter_containers():
    blocks = nn.ModuleDict([("enc", nn.Linear(2, 3)), ("dec", nn.Linear(3, 2))])
    blocks["act"] = nn.ReLU()
    assert blocks.keys() == ["enc", "dec", "act"] and "dec" in blocks
    del blocks["enc"]
    assert [n for n, _ in blocks.named_parameters()] == ["dec.weight", "dec.bias"]
    plist = nn.ParameterList([mg.tensor([1.0, 2.0]), nn.Parameter(np.zeros(3))])
    plist.append(mg.tensor([5.0]))
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in plist)
    assert [n for n, _ in plist.named_parameters()] == ["0", "1", "2"]
    assert len(plist) == 3 and plist[-1].numpy().tolist() == [5.0]
    pdict = nn.ParameterDict({"w": mg.tensor([1.0]), "b": nn.Parameter(np.zeros(1))})
    assert [n for n, _ in pdict.named_parameters()] == ["w", "b"]
    assert pdict.pop("w").numpy().tolist() == [1.0] and pdict.keys() == ["b"]
    with pytest.raises(IndexError, match="index 3 is out of range for a ParameterList of length 3"):
        plist[3]


def test_registration_errors_name_the_problem():
    layer = nn.Linear(2, 2)
    with pytest.raises(KeyError, match="be empty or contain"):
        layer.register_parameter("a.b", None)
    with pytest.raises(KeyError, match="attribute 'in_features' already exists"):
        layer.register_buffer("in_features", mg.tensor([1.0]))
    with pytest.raises(TypeError, match="cannot assign 'Tensor' object to parameter 'w'"):
        layer.register_parameter("w", mg.tensor([1.0]))
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        layer.add_module("child", 3)
    layer.register_parameter("extra", None)
    layer.add_module("child", nn.Identity())
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.get_submodule("child") is layer.child


def test_apply_requires_grad_and_zero_grad():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2)))
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "Linear", "Sequential", "Sequential"]  # children first
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    net(mg.tensor([[1.0, 2.0]])).sum().backward()
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


# ------------------------------------------------------------------------------ hooks
def test_forward_hooks_run_in_order_change_values_and_go_away():
    layer = nn.Linear(2, 1)
    x = mg.tensor([[1.0, -1.0]])
    plain = layer(x).numpy()
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: calls.append("pre") or (args[0] * 2,))
    post = layer.register_forward_hook(lambda m, args, out: calls.append("post") or out + 1.0)
    first = layer.register_forward_hook(lambda m, args, out: calls.append("first"), prepend=True)
    np.testing.assert_allclose(layer(x).numpy(), layer.forward(x * 2).numpy() + 1.0)
    assert calls == ["pre", "first", "post"]
    pre.remove()
    post.remove()
    first.remove()
    pre.remove()  # a second remove does nothing
    np.testing.assert_array_equal(layer(x).numpy(), plain)
    with layer.register_forward_hook(lambda m, args, out: out * 0.0):
        assert layer(x).numpy().tolist() == [[0.0]]
    np.testing.assert_array_equal(layer(x).numpy(), plain)


def test_forward_hook_added_after_jit_trace_is_seen():
    layer = nn.Linear(2, 1).double()

    @mg.jit
    def run(x):
        return layer(x)

    x = mg.tensor([[1.0, -1.0]], dtype="float64")
    plain = run(x).numpy()
    handle = layer.register_forward_hook(lambda m, args, out: out * 3.0)
    np.testing.assert_allclose(run(x).numpy(), plain * 3.0)
    handle.remove()
    np.testing.assert_allclose(run(x).numpy(), plain)


def test_repr_is_pytorchs_and_needs_no_recursion():
    torch = pytest.importorskip("torch")

    def build(lib):
        return lib.nn.Sequential(
            lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.Tanh()),
            lib.nn.ModuleDict({"a": lib.nn.ReLU(), "b": lib.nn.Flatten()}),
            lib.nn.Linear(3, 1, bias=False), lib.nn.ModuleList(), lib.nn.GELU("tanh"),
            lib.nn.Embedding(4, 2, padding_idx=1), lib.nn.LeakyReLU(0.2), lib.nn.Softplus())

    assert repr(build(mg)) == repr(build(torch))
    deep = nn.Identity()
    for _ in range(1500):
        deep = nn.Sequential(deep)
    assert repr(deep).count("\n") == 3000

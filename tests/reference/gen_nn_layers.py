"""Reference values from PyTorch for tests/test_nn_layers.py (activations, Embedding) and
tests/test_nn_norms.py (normalisation layers).

Run with the project's torch (2.13) to regenerate ``nn_layers_torch.npz``:

    .venv/bin/python tests/reference/gen_nn_layers.py

Inputs are made with numpy from fixed seeds and stored beside the outputs, so the tests
need no torch; ``compute()`` is imported by the tests when torch is installed, to compare
against live PyTorch too.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
OUTPUT = HERE / "nn_layers_torch.npz"

# name -> (torch.nn.functional function name, keyword arguments); minigrad's F has the same
ACTIVATIONS = {
    "gelu": ("gelu", {}),
    "gelu_tanh": ("gelu", {"approximate": "tanh"}),
    "silu": ("silu", {}),
    "leaky_relu": ("leaky_relu", {}),
    "leaky_relu_02": ("leaky_relu", {"negative_slope": 0.2}),
    "elu": ("elu", {}),
    "elu_05": ("elu", {"alpha": 0.5}),
    "softplus": ("softplus", {}),
    "softplus_b2_t5": ("softplus", {"beta": 2.0, "threshold": 5.0}),
    "hardtanh": ("hardtanh", {}),
    "hardtanh_m05_2": ("hardtanh", {"min_val": -0.5, "max_val": 2.0}),
    "relu6": ("relu6", {}),
    "tanh": ("tanh", {}),
    "sigmoid": ("sigmoid", {}),
    "selu": ("selu", {}),
    "celu": ("celu", {}),
    "celu_05": ("celu", {"alpha": 0.5}),
    "mish": ("mish", {}),
    "softsign": ("softsign", {}),
    "hardsigmoid": ("hardsigmoid", {}),
    "hardswish": ("hardswish", {}),
    "logsigmoid": ("logsigmoid", {}),
}
# Activations whose gradient is constant between kinks, so the second order is 0, and for
# which PyTorch 2.13 implements no double backward ("derivative for
# aten::hardsigmoid_backward is not implemented").
PIECEWISE_CONSTANT_GRADIENT = ("hardsigmoid",)


# name -> (function, input shape, its arguments besides x, weight and bias, parameter shape
# or None for no affine parameters); the same call in torch.nn.functional and minigrad's F
NORMS = {
    "group_norm_g2": ("group_norm", (3, 4, 5), {"num_groups": 2}, (4,)),
    "group_norm_g1_4d": ("group_norm", (2, 4, 2, 3), {"num_groups": 1}, (4,)),
    "group_norm_g4": ("group_norm", (2, 4, 3), {"num_groups": 4}, (4,)),
    "instance_norm_1d": ("instance_norm", (2, 3, 5), {}, (3,)),
    "instance_norm_2d_plain": ("instance_norm", (2, 3, 2, 3), {}, None),
    "layer_norm_2d_shape": ("layer_norm", (2, 3, 4), {"normalized_shape": (3, 4)}, (3, 4)),
    "layer_norm_plain": ("layer_norm", (4, 5), {"normalized_shape": (5,)}, None),
}


def inputs() -> dict[str, np.ndarray]:
    """Fixed float64 inputs (numpy, seed 16): random values, the kinks and thresholds."""
    rng = np.random.default_rng(16)
    special = [0.0, -1.0, 1.0, -0.5, 2.0, 6.0, 2.5, 20.0, 21.0, -21.0, 40.0, -40.0, 1e-3,
               -3.0, 3.0]
    x = np.concatenate([rng.normal(scale=3.0, size=27), special])
    return {
        "act_x": x,
        "act_w": rng.normal(size=x.shape),
        "act_v": rng.normal(size=x.shape),
        "emb_weight": rng.normal(size=(7, 3)),
        "emb_idx": np.array([[0, 2, 6, 2], [3, 3, 0, 1]]),
        "emb_g": rng.normal(size=(2, 4, 3)),
        **_norm_inputs(),
    }


def _norm_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(17)
    out = {}
    for name, (_, shape, _, param_shape) in NORMS.items():
        out[f"{name}_x"] = rng.normal(size=shape) * 2.0 + 0.5
        for probe in ("g", "v"):
            out[f"{name}_{probe}"] = rng.normal(size=shape)
        if param_shape is not None:
            out[f"{name}_weight"] = rng.normal(size=param_shape) * 0.5 + 1.0
            out[f"{name}_bias"] = rng.normal(size=param_shape)
    return out


def _norms(torch, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Output, gradients of sum(y * g) (x, weight, bias), and the gradient of
    sum(dx * v) (x and weight): values and two orders of derivatives."""
    out = {}
    for name, (fn_name, _, kwargs, param_shape) in NORMS.items():
        leaves = {"x": torch.tensor(x[f"{name}_x"], requires_grad=True)}
        if param_shape is not None:
            for key in ("weight", "bias"):
                leaves[key] = torch.tensor(x[f"{name}_{key}"], requires_grad=True)
        y = getattr(torch.nn.functional, fn_name)(leaves["x"], **kwargs,
                                                  weight=leaves.get("weight"),
                                                  bias=leaves.get("bias"))
        grads = torch.autograd.grad((y * torch.tensor(x[f"{name}_g"])).sum(),
                                    list(leaves.values()), create_graph=True)
        second = torch.autograd.grad((grads[0] * torch.tensor(x[f"{name}_v"])).sum(),
                                     list(leaves.values())[:2])
        out[f"{name}_y"] = y.detach().numpy()
        for key, value in zip(leaves, grads, strict=True):
            out[f"{name}_d{key}"] = value.detach().numpy()
        for key, value in zip(list(leaves)[:2], second, strict=True):
            out[f"{name}_d2{key}"] = value.numpy()
    return out


def _activations(torch, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Value, gradient of sum(f(x) * w), and gradient of sum(grad * v) (second order)."""
    out = {}
    for name, (fn_name, kwargs) in ACTIVATIONS.items():
        fn = getattr(torch.nn.functional, fn_name)
        t = torch.tensor(x["act_x"], requires_grad=True)
        y = fn(t, **kwargs)
        (grad,) = torch.autograd.grad((y * torch.tensor(x["act_w"])).sum(), t,
                                      create_graph=True)
        if name in PIECEWISE_CONSTANT_GRADIENT:  # torch has no double backward for it
            grad2 = None
        else:
            (grad2,) = torch.autograd.grad((grad * torch.tensor(x["act_v"])).sum(), t,
                                           allow_unused=True)
        out[f"{name}_y"] = y.detach().numpy()
        out[f"{name}_grad"] = grad.detach().numpy()
        out[f"{name}_grad2"] = (np.zeros_like(x["act_x"]) if grad2 is None
                                else grad2.numpy())
    return out


def _embedding(torch, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for label, padding_idx in (("emb", None), ("emb_pad", 2)):
        layer = torch.nn.Embedding(7, 3, padding_idx=padding_idx).double()
        with torch.no_grad():
            layer.weight.copy_(torch.tensor(x["emb_weight"]))
        y = layer(torch.tensor(x["emb_idx"]))
        (y * torch.tensor(x["emb_g"])).sum().backward()
        out[f"{label}_y"] = y.detach().numpy()
        out[f"{label}_grad"] = layer.weight.grad.numpy()
    return out


def committed() -> dict[str, np.ndarray]:
    """The stored reference values (and their inputs)."""
    with np.load(OUTPUT) as data:
        return dict(data)


@functools.cache
def compute() -> dict[str, np.ndarray]:
    """Inputs and PyTorch's results, computed now (needs torch)."""
    import torch

    x = inputs()
    return {**x, **_activations(torch, x), **_embedding(torch, x), **_norms(torch, x)}


if __name__ == "__main__":
    np.savez_compressed(OUTPUT, **compute())
    print(f"wrote {OUTPUT}")

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
}


def inputs() -> dict[str, np.ndarray]:
    """Fixed float64 inputs (numpy, seed 16): random values, the kinks and thresholds."""
    rng = np.random.default_rng(16)
    special = [0.0, -1.0, 1.0, -0.5, 2.0, 6.0, 2.5, 20.0, 21.0, -21.0, 40.0, -40.0, 1e-3]
    x = np.concatenate([rng.normal(scale=3.0, size=27), special])
    return {
        "act_x": x,
        "act_w": rng.normal(size=x.shape),
        "act_v": rng.normal(size=x.shape),
        "emb_weight": rng.normal(size=(7, 3)),
        "emb_idx": np.array([[0, 2, 6, 2], [3, 3, 0, 1]]),
        "emb_g": rng.normal(size=(2, 4, 3)),
    }


def _activations(torch, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Value, gradient of sum(f(x) * w), and gradient of sum(grad * v) (second order)."""
    out = {}
    for name, (fn_name, kwargs) in ACTIVATIONS.items():
        fn = getattr(torch.nn.functional, fn_name)
        t = torch.tensor(x["act_x"], requires_grad=True)
        y = fn(t, **kwargs)
        (grad,) = torch.autograd.grad((y * torch.tensor(x["act_w"])).sum(), t,
                                      create_graph=True)
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
    return {**x, **_activations(torch, x), **_embedding(torch, x)}


if __name__ == "__main__":
    np.savez_compressed(OUTPUT, **compute())
    print(f"wrote {OUTPUT}")

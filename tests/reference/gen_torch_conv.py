"""Generate PyTorch 2.13 reference values for convolution and pooling
(tests/reference/torch_conv.npz).

Run: .venv/bin/python -m tests.reference.gen_torch_conv
Per case (float64): the output, the gradients of sum(tanh(out) * head) in every input, and
the second-order gradients of <those gradients, probes>. tests/test_conv_reference.py
compares minigrad with the committed file always, and with these functions live when torch
is importable. Inputs come from numpy so they are stored alongside the results.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np

OUT = Path(__file__).with_name("torch_conv.npz")

# name -> (function, input shapes, keyword arguments)
CASES: dict[str, tuple[str, tuple[tuple[int, ...], ...], dict[str, Any]]] = {
    "conv2d_plain": ("conv2d", ((2, 3, 6, 5), (4, 3, 3, 3), (4,)), {}),
    "conv2d_strided": ("conv2d", ((2, 4, 7, 6), (6, 2, 3, 2), (6,)),
                       {"stride": (2, 1), "padding": (1, 2), "groups": 2}),
    "conv2d_dilated_same": ("conv2d", ((1, 2, 6, 7), (3, 2, 2, 3), (3,)),
                            {"padding": "same", "dilation": (2, 1)}),
    "conv2d_depthwise": ("conv2d", ((2, 3, 5, 5), (3, 1, 3, 3), (3,)),
                         {"stride": 2, "padding": 1, "groups": 3}),
    "conv1d": ("conv1d", ((2, 4, 9), (6, 2, 3), (6,)),
               {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}),
    "max_pool2d": ("max_pool2d", ((2, 3, 7, 6),),
                   {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    "avg_pool2d": ("avg_pool2d", ((2, 3, 7, 6),),
                   {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                    "count_include_pad": False}),
    "adaptive_avg_pool2d": ("adaptive_avg_pool2d", ((2, 3, 7, 6),),
                            {"output_size": (3, 4)}),
}


def case_inputs(name: str) -> list[np.ndarray]:
    """The inputs of one case (distinct values for the pools: no ties)."""
    _, shapes, _ = CASES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    if name.endswith("pool2d"):
        size = int(np.prod(shapes[0]))
        return [(rng.permutation(size) * 0.1 - size * 0.05).reshape(shapes[0])]
    return [rng.standard_normal(shape) for shape in shapes]


def case_extras(name: str, out_shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """The head multiplying tanh(out) and one probe per input (for the second order)."""
    rng = np.random.default_rng(zlib.crc32(name.encode()) + 1)
    shapes = CASES[name][1]
    return {"head": rng.standard_normal(out_shape),
            **{f"probe{k}": rng.standard_normal(s) for k, s in enumerate(shapes)}}


def torch_case(name: str) -> dict[str, np.ndarray]:
    """Run one case in PyTorch: out, grad{k}, second{k}."""
    import torch

    fn, _, kwargs = CASES[name]
    arrays = case_inputs(name)
    leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = getattr(torch.nn.functional, fn)(*leaves, **kwargs)
    extras = case_extras(name, tuple(out.shape))
    loss = (torch.tanh(out) * torch.tensor(extras["head"])).sum()
    grads = torch.autograd.grad(loss, leaves, create_graph=True)
    inner = sum((g * torch.tensor(extras[f"probe{k}"])).sum() for k, g in enumerate(grads))
    second = torch.autograd.grad(inner, leaves)
    result = {"out": out.detach().numpy()}
    for k, (g, s) in enumerate(zip(grads, second, strict=True)):
        result[f"grad{k}"] = g.detach().numpy()
        result[f"second{k}"] = s.numpy()
    return result


def main() -> None:
    import torch

    stored = {}
    for name in CASES:
        for key, value in torch_case(name).items():
            stored[f"{name}/{key}"] = value
    stored["torch_version"] = np.array(torch.__version__)
    np.savez_compressed(OUT, **stored)
    print(f"wrote {OUT} ({len(CASES)} cases, torch {torch.__version__})")


if __name__ == "__main__":
    main()

"""Generate PyTorch 2.13 reference values for BatchNorm (tests/reference/torch_bn.npz).

Run: .venv/bin/python -m tests.reference.gen_torch_bn
The tests compare minigrad with the committed file, and with these same functions live
when torch is importable. Inputs come from numpy so they are stored alongside the results.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("torch_bn.npz")

# name -> (module class, input shape, momentum, affine, track_running_stats, eps)
SCENARIOS = {
    "bn1d_2d": ("BatchNorm1d", (8, 5), 0.1, True, True, 1e-5),
    "bn1d_3d": ("BatchNorm1d", (4, 3, 6), 0.3, True, True, 1e-3),
    "bn2d": ("BatchNorm2d", (3, 4, 5, 2), 0.1, True, True, 1e-5),
    "cumulative": ("BatchNorm1d", (6, 4), None, True, True, 1e-5),
    "no_affine": ("BatchNorm1d", (7, 3), 0.1, False, True, 1e-5),
    "untracked": ("BatchNorm2d", (2, 3, 2, 2), 0.1, True, False, 1e-5),
}
STEPS = 3


def scenario_inputs(name: str) -> dict[str, np.ndarray]:
    """The numpy inputs of one scenario: STEPS training batches, their output gradients,
    affine parameters, an eval batch and a probe for the second derivative."""
    _, shape, *_ = SCENARIOS[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    channels = shape[1]
    return {
        "x": rng.standard_normal((STEPS, *shape)) * 3.0 + 1.5,
        "dout": rng.standard_normal((STEPS, *shape)),
        "weight": rng.uniform(0.5, 1.5, channels),
        "bias": rng.standard_normal(channels),
        "x_eval": rng.standard_normal(shape) * 2.0,
        "probe": rng.standard_normal(shape),
    }


def torch_scenario(name: str) -> dict[str, np.ndarray]:
    """Run one scenario in PyTorch (float64): per step out, dx, dweight, dbias and the
    running statistics; then the eval output and a second derivative (grad of <dx, probe>)."""
    import torch

    kind, _, momentum, affine, track, eps = SCENARIOS[name]
    data = scenario_inputs(name)
    layer = getattr(torch.nn, kind)(data["weight"].size, eps=eps, momentum=momentum,
                                    affine=affine, track_running_stats=track).double()
    if affine:
        with torch.no_grad():
            layer.weight.copy_(torch.tensor(data["weight"]))
            layer.bias.copy_(torch.tensor(data["bias"]))
    results: dict[str, list[np.ndarray]] = {k: [] for k in (
        "out", "dx", "dweight", "dbias", "running_mean", "running_var", "d2x")}
    for step in range(STEPS):
        x = torch.tensor(data["x"][step], requires_grad=True)
        out = layer(x)
        params = [x] + ([layer.weight, layer.bias] if affine else [])
        grads = torch.autograd.grad(out, params, torch.tensor(data["dout"][step]),
                                    create_graph=True)
        (d2x,) = torch.autograd.grad((grads[0] * torch.tensor(data["probe"])).sum(), [x])
        results["out"].append(out.detach().numpy())
        results["dx"].append(grads[0].detach().numpy())
        results["d2x"].append(d2x.numpy())
        if affine:
            results["dweight"].append(grads[1].detach().numpy())
            results["dbias"].append(grads[2].detach().numpy())
        if track:
            results["running_mean"].append(layer.running_mean.numpy().copy())
            results["running_var"].append(layer.running_var.numpy().copy())
    layer.eval()
    with torch.no_grad():
        eval_out = layer(torch.tensor(data["x_eval"])).numpy()
    arrays = {k: np.stack(v) for k, v in results.items() if v}
    arrays["eval_out"] = eval_out
    return arrays


def torch_seed_relu(eps: float) -> np.ndarray:
    """The seed's snippet in PyTorch (float32) with a positive eps (PyTorch refuses 0)."""
    import torch

    net = torch.nn.BatchNorm1d(1, momentum=0, eps=eps, affine=False)
    x = torch.tensor([-1.0, 1.0], dtype=torch.float32, requires_grad=True)
    torch.nn.ReLU()(net(x.view(-1, 1))).sum().backward()
    return x.grad.numpy()


def generate() -> dict[str, np.ndarray]:
    """Every reference array, keyed '<scenario>/<quantity>'."""
    arrays: dict[str, np.ndarray] = {}
    for name in SCENARIOS:
        for key, value in scenario_inputs(name).items():
            arrays[f"{name}/input/{key}"] = value
        for key, value in torch_scenario(name).items():
            arrays[f"{name}/{key}"] = value
    arrays["seed_relu/eps1e-5"] = torch_seed_relu(1e-5)
    arrays["seed_relu/eps1e-3"] = torch_seed_relu(1e-3)
    return arrays


def main() -> None:
    """Write the reference file."""
    import torch

    arrays = generate()
    arrays["torch_version"] = np.array(torch.__version__)
    np.savez(OUT, **arrays)
    print(f"wrote {len(arrays)} arrays to {OUT} (torch {torch.__version__})")


if __name__ == "__main__":
    main()

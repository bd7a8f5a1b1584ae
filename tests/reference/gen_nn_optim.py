"""Reference values from PyTorch for tests/test_nn*.py and tests/test_optim*.py.

Run with the project's torch (2.13) to regenerate ``nn_optim_torch.npz``:

    .venv/bin/python tests/reference/gen_nn_optim.py

The inputs are made with numpy from fixed seeds and stored beside the outputs, so the
tests need no torch to compare against them. ``compute()`` is also imported by the tests
when torch is installed, to compare against live PyTorch.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
OUTPUT = HERE / "nn_optim_torch.npz"

SGD_CONFIGS = {
    "sgd_plain": {"lr": 0.1},
    "sgd_momentum": {"lr": 0.1, "momentum": 0.9},
    "sgd_nesterov_wd": {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
    "sgd_dampening": {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1},
}
ADAM_CONFIGS = {
    "adam_default": {"lr": 0.01},
    "adam_custom": {"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.1},
}
OPTIM_STEPS = 8


def inputs() -> dict[str, np.ndarray]:
    """Fixed float64 inputs (numpy, seed 0)."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 5))
    return {
        "logits": logits,
        "targets": np.array([0, 4, 2, 2, 1, 3], np.int64),
        "big_logits": np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 5e3], [0.0, 0.0, 1e4]]),
        "big_targets": np.array([1, 0, 2], np.int64),
        "bce_logits": np.array([-1e4, -30.0, -2.0, 0.0, 0.5, 3.0, 40.0, 1e4]),
        "bce_target": np.array([1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.0, 1.0]),
        "mse_pred": rng.normal(size=(4, 3)),
        "mse_target": rng.normal(size=(4, 3)),
        "ln_x": rng.normal(size=(4, 3, 5)) * 3 + 1,
        "ln_weight": rng.normal(size=(3, 5)),
        "ln_bias": rng.normal(size=(3, 5)),
        "ln_upstream": rng.normal(size=(4, 3, 5)),
        "opt_w0": rng.normal(size=(3, 4)),
        "opt_b0": rng.normal(size=3),
        "opt_x": rng.normal(size=(7, 4)),
        "opt_y": rng.normal(size=(7, 3)),
    }


def _grad_of(torch, fn, *arrays):
    tensors = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(*tensors)
    out.backward()
    return out.detach().numpy(), tensors[0].grad.numpy()


def _losses(torch, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    F = torch.nn.functional
    out: dict[str, np.ndarray] = {}
    for stem, logits, targets in (("ce", x["logits"], x["targets"]),
                                  ("ce_big", x["big_logits"], x["big_targets"])):
        out[f"{stem}_loss"], out[f"{stem}_grad"] = _grad_of(torch, F.cross_entropy,
                                                            logits, targets)
        out[f"{stem}_sum"] = F.cross_entropy(torch.tensor(logits), torch.tensor(targets),
                                             reduction="sum").numpy()
    for name in ("logits", "big_logits"):
        t = torch.tensor(x[name])
        out[f"softmax_{name}"] = F.softmax(t, dim=-1).numpy()
        out[f"log_softmax_{name}"] = F.log_softmax(t, dim=-1).numpy()
        weights = torch.tensor(np.arange(t.numel(), dtype=float).reshape(t.shape))
        out[f"log_softmax_grad_{name}"] = _grad_of(
            torch, lambda z, w=weights: (F.log_softmax(z, -1) * w).sum(), x[name])[1]
        out[f"softmax_grad_{name}"] = _grad_of(
            torch, lambda z, w=weights: (F.softmax(z, -1) * w).sum(), x[name])[1]
    out["bce_loss"], out["bce_grad"] = _grad_of(
        torch, F.binary_cross_entropy_with_logits, x["bce_logits"], x["bce_target"])
    out["mse_loss"], out["mse_grad"] = _grad_of(torch, F.mse_loss, x["mse_pred"],
                                                x["mse_target"])
    return out


def _layer_norm(torch, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    xs = torch.tensor(x["ln_x"], requires_grad=True)
    w = torch.tensor(x["ln_weight"], requires_grad=True)
    b = torch.tensor(x["ln_bias"], requires_grad=True)
    y = torch.nn.functional.layer_norm(xs, (3, 5), w, b, eps=1e-5)
    (y * torch.tensor(x["ln_upstream"])).sum().backward()
    return {"ln_out": y.detach().numpy(), "ln_grad_x": xs.grad.numpy(),
            "ln_grad_w": w.grad.numpy(), "ln_grad_b": b.grad.numpy()}


def _trajectory(torch, x: dict[str, np.ndarray], make) -> np.ndarray:
    """Weights and bias after each of OPTIM_STEPS steps on an MSE regression."""
    w = torch.tensor(x["opt_w0"], requires_grad=True)
    b = torch.tensor(x["opt_b0"], requires_grad=True)
    opt = make([w, b])
    rows = []
    for _ in range(OPTIM_STEPS):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(torch.tensor(x["opt_x"]) @ w.T + b,
                                            torch.tensor(x["opt_y"]))
        loss.backward()
        opt.step()
        rows.append(np.concatenate([w.detach().numpy().ravel(), b.detach().numpy()]))
    return np.array(rows)


def _optim(torch, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for name, config in SGD_CONFIGS.items():
        out[f"traj_{name}"] = _trajectory(torch, x, lambda p, c=config: torch.optim.SGD(p, **c))
    for name, config in ADAM_CONFIGS.items():
        out[f"traj_{name}"] = _trajectory(torch, x,
                                          lambda p, c=config: torch.optim.Adam(p, **c))
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    lrs = []
    for _ in range(10):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    out["steplr_lrs"] = np.array(lrs)
    return out


@functools.cache
def committed() -> dict[str, np.ndarray]:
    """The values written by ``main`` (read once per test session)."""
    return dict(np.load(OUTPUT, allow_pickle=False))


def compute() -> dict[str, np.ndarray]:
    """Inputs and PyTorch's outputs, all as numpy arrays."""
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        x = inputs()
        return {**x, **_losses(torch, x), **_layer_norm(torch, x), **_optim(torch, x)}
    finally:
        torch.set_default_dtype(previous)


if __name__ == "__main__":
    import torch

    values = compute()
    np.savez(OUTPUT, torch_version=np.array(torch.__version__), **values)
    print(f"wrote {OUTPUT} ({len(values)} arrays, torch {torch.__version__})")

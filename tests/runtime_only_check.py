"""A jitted MLP training step against eager, with only minigrad's runtime dependencies.

Run by ``make check-runtime`` in a fresh venv holding ``pip install .`` and nothing else
(no pytest, no torch, no scikit-learn, which would pull scipy in by accident): it shows that
the declared dependencies are enough for mg.jit, matmuls included. Exits non-zero on a
mismatch, a compile failure or a missing import.
"""

from __future__ import annotations

import sys

import numpy as np


def main() -> int:
    import minigrad as mg
    from minigrad import nn, optim
    from minigrad.experiments import make_train_step

    for name in ("pytest", "torch", "sklearn"):
        if name in sys.modules:
            print(f"runtime check: {name} was imported; this check must run without it")
            return 1

    def build():
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2))
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        return make_train_step(model, opt), model  # zero_grad, cross-entropy, backward, step

    eager, eager_model = build()
    step, jit_model = build()
    compiled = mg.jit(step, background=False)  # compiled code from call 2 on
    rng = np.random.default_rng(0)
    worst = 0.0
    for k in range(5):
        x = rng.standard_normal((32, 2)).astype(np.float32)
        y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
        a = eager(mg.Tensor(x), mg.Tensor(y)).item()
        b = compiled(mg.Tensor(x), mg.Tensor(y)).item()
        worst = max(worst, abs(a - b))
        print(f"step {k}: eager loss {a:.10f}  jit loss {b:.10f}")
    for (_, p), (_, q) in zip(eager_model.named_parameters(), jit_model.named_parameters(),
                                 strict=True):
        worst = max(worst, float(np.max(np.abs(p.data - q.data))))
    import numba
    import scipy

    print(f"numpy {np.__version__}, numba {numba.__version__}, scipy {scipy.__version__}; "
          f"traces {compiled.stats()['traces']}; largest difference {worst:.3e}")
    if not worst < 1e-5:
        print("runtime check: FAILED (jit differs from eager)")
        return 1
    print("runtime check: OK (jitted MLP step with matmuls equals eager)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

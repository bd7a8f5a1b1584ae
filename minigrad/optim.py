"""Optimizers (SGD, Adam) with PyTorch's exact update rules, and a step LR scheduler.

Every state change is written as ops under ``no_grad()`` followed by ``tensor.assign_``,
never as an in-place write to ``.data``, so a tracer (``mg.jit``) sees the whole step.
The learning rate and Adam's step counters are tensors for the same reason.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from . import ops
from ._state import no_grad
from .tensor import Tensor


class Optimizer:
    """Holds the parameters, the learning rate (a 0-d float64 tensor) and per-parameter state."""

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params: list[Tensor] = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if lr < 0:
            raise ValueError(f"{type(self).__name__}: lr must be >= 0, got {lr}")
        self.lr_tensor = Tensor(np.array(lr, np.float64), name="lr")
        # The learning rate in each parameter dtype (float32 copies avoid a cast per step).
        self._lr_copies: dict[np.dtype, Tensor] = {self.lr_tensor.dtype: self.lr_tensor}
        self.state: list[dict[str, Tensor]] = [{} for _ in self.params]

    @property
    def lr(self) -> float:
        """The current learning rate."""
        return float(self.lr_tensor.data)

    @lr.setter
    def lr(self, value: float) -> None:
        for copy in self._lr_copies.values():
            copy.assign_(np.array(value, copy.dtype))

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``set_to_none``, PyTorch's default)."""
        for param in self.params:
            param.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        with no_grad():
            for param, state in zip(self.params, self.state, strict=True):
                if param.grad is not None:
                    param.assign_(self._update(param, param.grad, state))

    def _update(self, param: Tensor, grad: Tensor, state: dict[str, Tensor]) -> Tensor:
        raise NotImplementedError

    def _lr_as(self, param: Tensor) -> Tensor:
        """The learning rate as a 0-d tensor of the parameter's dtype."""
        if param.dtype not in self._lr_copies:
            value = np.array(self.lr_tensor.data, param.dtype)
            self._lr_copies[param.dtype] = Tensor(value, name="lr")
        return self._lr_copies[param.dtype]


def _as_dtype(value: Tensor, dtype: np.dtype) -> Tensor:
    return value if value.dtype == dtype else ops.cast(value, dtype)


def _zeros_like(param: Tensor, name: str) -> Tensor:
    return Tensor(np.zeros(param.shape, param.dtype), name=name)


class SGD(Optimizer):
    """Stochastic gradient descent with PyTorch's momentum, dampening, nesterov, weight decay.

    g = grad + weight_decay * p;  buf = momentum * buf + (1 - dampening) * g  (buf = g on the
    first step);  g = g + momentum * buf if nesterov else buf;  p = p - lr * g.
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False) -> None:
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError(
                f"SGD: momentum and weight_decay must be >= 0, got {momentum}, {weight_decay}"
            )
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov momentum requires a momentum > 0 and zero dampening")
        self.momentum = float(momentum)
        self.dampening = float(dampening)
        self.weight_decay = float(weight_decay)
        self.nesterov = nesterov

    def _update(self, param: Tensor, grad: Tensor, state: dict[str, Tensor]) -> Tensor:
        if self.weight_decay:
            grad = ops.add(grad, ops.mul(param, self.weight_decay))
        if self.momentum:
            grad = self._momentum(param, grad, state)
        return ops.sub(param, ops.mul(self._lr_as(param), grad))

    def _momentum(self, param: Tensor, grad: Tensor, state: dict[str, Tensor]) -> Tensor:
        """buf = momentum * buf + (1 - dampening) * g, with buf = g on the first step."""
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = _zeros_like(param, "momentum_buffer")
            state["step"] = Tensor(np.array(0.0, np.float64), name="step")
        buf, step = state["momentum_buffer"], state["step"]
        scaled = grad
        if self.dampening:  # the first step takes g undamped, as PyTorch does
            started = ops.cast(ops.not_equal(step, 0.0), np.float64)
            factor = ops.sub(1.0, ops.mul(started, self.dampening))  # 1 or 1 - dampening
            scaled = ops.mul(grad, ops.cast(factor, grad.dtype))
        # With buf = 0 at first, momentum * 0 + g == g exactly: PyTorch's "buf = g".
        buf.assign_(ops.add(ops.mul(buf, self.momentum), scaled))
        step.assign_(ops.add(step, 1.0))
        if self.nesterov:
            return ops.add(grad, ops.mul(buf, self.momentum))
        return buf


class Adam(Optimizer):
    """Adam with PyTorch's rule (L2 weight decay added to the gradient, not AdamW).

    t += 1;  g = grad + weight_decay * p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        beta1, beta2 = betas
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError(f"Adam: betas must lie in [0, 1), got {betas}")
        if eps < 0 or weight_decay < 0:
            raise ValueError(f"Adam: eps and weight_decay must be >= 0, got {eps}, {weight_decay}")
        self.betas = (float(beta1), float(beta2))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)

    def _update(self, param: Tensor, grad: Tensor, state: dict[str, Tensor]) -> Tensor:
        if not state:
            state["step"] = Tensor(np.array(0.0, np.float64), name="step")
            state["exp_avg"] = _zeros_like(param, "exp_avg")
            state["exp_avg_sq"] = _zeros_like(param, "exp_avg_sq")
            state["beta1_power"] = Tensor(np.array(1.0, np.float64), name="beta1_power")
            state["beta2_power"] = Tensor(np.array(1.0, np.float64), name="beta2_power")
        beta1, beta2 = self.betas
        step, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        step.assign_(ops.add(step, 1.0))
        power1, power2 = state["beta1_power"], state["beta2_power"]
        power1.assign_(ops.mul(power1, beta1))  # b1^t, kept as a running product
        power2.assign_(ops.mul(power2, beta2))
        if self.weight_decay:
            grad = ops.add(grad, ops.mul(param, self.weight_decay))
        m.assign_(ops.add(ops.mul(m, beta1), ops.mul(grad, 1.0 - beta1)))
        v.assign_(ops.add(ops.mul(v, beta2), ops.mul(ops.mul(grad, grad), 1.0 - beta2)))
        correction1 = ops.sub(1.0, power1)  # 1 - b1^t, in float64
        correction2 = ops.sub(1.0, power2)
        step_size = _as_dtype(ops.div(self.lr_tensor, correction1), param.dtype)
        root2 = _as_dtype(ops.sqrt(correction2), param.dtype)
        denom = ops.add(ops.div(ops.sqrt(v), root2), self.eps)
        return ops.sub(param, ops.mul(step_size, ops.div(m, denom)))


class StepLR:
    """Multiply the learning rate by ``gamma`` every ``step_size`` calls of ``step()``.

    lr(epoch) = base_lr * gamma ** (epoch // step_size), applied multiplicatively as PyTorch.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if int(step_size) < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size}")
        self.optimizer = optimizer
        self.step_size = int(step_size)
        self.gamma = float(gamma)
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def step(self) -> None:
        """Advance one epoch; decay the learning rate when a period ends."""
        self.last_epoch += 1
        if self.last_epoch % self.step_size == 0:
            self.optimizer.lr = self.optimizer.lr * self.gamma

    def get_last_lr(self) -> list[float]:
        """The current learning rate, as a one-element list (PyTorch's shape)."""
        return [self.optimizer.lr]

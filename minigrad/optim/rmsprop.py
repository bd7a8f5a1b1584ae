"""RMSprop and Adagrad with PyTorch's rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor
from ._groups import ParamGroup
from .optimizer import Optimizer, Scalars, check_at_least, counter, zeros_like


class RMSprop(Optimizer):
    """RMSprop, PyTorch's rule step by step:

    g = -grad if maximize else grad;  g = g + weight_decay * p;
    s = alpha s + (1 - alpha) g^2;  avg = sqrt(s) + eps, or when centered
    a = a + (1 - alpha) (g - a), avg = sqrt(s - a^2) + eps;
    buf = momentum buf + g / avg, p = p - lr buf  (momentum > 0), else p = p - lr g / avg.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False,
                 capturable: bool = False, foreach: bool | None = None,
                 differentiable: bool = False) -> None:
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay,
                    "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any]) -> None:
        super()._check_options(group)
        for key in ("eps", "momentum", "alpha"):
            check_at_least(self, group, key, 0.0)

    def _update(self, param: Tensor, grad: Tensor, state: dict[str, Any],
                group: ParamGroup, scalars: Scalars) -> None:
        if not state:
            state["step"] = counter()
            state["square_avg"] = zeros_like(param, "square_avg")
        if group.number("momentum") > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = zeros_like(param, "momentum_buffer")
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = zeros_like(param, "grad_avg")
        state["step"].assign_(ops.add(state["step"], 1.0))
        if group["maximize"]:
            grad = ops.neg(grad)
        if group["weight_decay"] != 0:
            grad = ops.add(grad, ops.mul(group["weight_decay"], param))
        alpha, square_avg = group["alpha"], state["square_avg"]
        square_avg.assign_(ops.add(ops.mul(square_avg, alpha),
                                   ops.mul(ops.mul(1.0 - alpha, grad), grad)))
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.assign_(ops.add(grad_avg, ops.mul(1.0 - alpha, ops.sub(grad, grad_avg))))
            avg = ops.sqrt(ops.add(square_avg, ops.mul(ops.neg(grad_avg), grad_avg)))
        else:
            avg = ops.sqrt(square_avg)
        avg = ops.add(avg, group["eps"])
        lr = scalars("lr", param.dtype)
        if group.number("momentum") > 0:
            buf = state["momentum_buffer"]
            buf.assign_(ops.add(ops.mul(buf, scalars("momentum", param.dtype)),
                                ops.div(grad, avg)))
            param.assign_(ops.sub(param, ops.mul(lr, buf)))
        else:
            param.assign_(ops.sub(param, ops.mul(lr, ops.div(grad, avg))))


class Adagrad(Optimizer):
    """Adagrad, PyTorch's rule step by step:

    t += 1;  g = -grad if maximize else grad;  g = g + weight_decay * p;
    clr = lr / (1 + (t - 1) lr_decay);  sum = sum + g^2;  p = p - clr g / (sqrt(sum) + eps).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:  # PyTorch makes Adagrad's state at once
            for param in group["params"]:
                _adagrad_state(self.state[param], param, group)

    def _check_options(self, group: dict[str, Any]) -> None:
        super()._check_options(group)
        for key in ("lr_decay", "eps", "initial_accumulator_value"):
            check_at_least(self, group, key, 0.0)

    def _update(self, param: Tensor, grad: Tensor, state: dict[str, Any],
                group: ParamGroup, scalars: Scalars) -> None:
        _adagrad_state(state, param, group)
        step, total = state["step"], state["sum"]
        step.assign_(ops.add(step, 1.0))
        if group["maximize"]:
            grad = ops.neg(grad)
        if group["weight_decay"] != 0:
            grad = ops.add(grad, ops.mul(group["weight_decay"], param))
        decayed = ops.add(1.0, ops.mul(ops.sub(step, 1.0), group["lr_decay"]))
        clr = ops.div(group.tensor("lr"), decayed)  # float64, as PyTorch's Python floats
        clr = clr if clr.dtype == param.dtype else ops.cast(clr, param.dtype)
        total.assign_(ops.add(total, ops.mul(grad, grad)))
        std = ops.add(ops.sqrt(total), group["eps"])
        param.assign_(ops.sub(param, ops.mul(clr, ops.div(grad, std))))


def _adagrad_state(state: dict[str, Any], param: Tensor, group: ParamGroup) -> None:
    if not state:
        state["step"] = counter()
        start = np.full(param.shape, group["initial_accumulator_value"], param.dtype)
        state["sum"] = Tensor(start, name="sum")

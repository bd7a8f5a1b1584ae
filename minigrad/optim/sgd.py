"""SGD with PyTorch's momentum, dampening, Nesterov, weight decay and maximize."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import ops
from ..errors import ArgumentError
from ..tensor import Tensor
from ._groups import ParamGroup
from .optimizer import Optimizer, Scalars, check_at_least, counter, zeros_like


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's rule step by step:

    g = -grad if maximize else grad;  g = g + weight_decay * p;
    buf = momentum * buf + (1 - dampening) * g  (buf = g on the first step);
    g = g + momentum * buf if nesterov else buf;  p = p - lr * g.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any]) -> None:
        super()._check_options(group)
        check_at_least(self, group, "momentum", 0.0)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ArgumentError("SGD: nesterov=True: Nesterov momentum requires a momentum and "
                                "zero dampening, "
                                f"got momentum={group['momentum']}, "
                                f"dampening={group['dampening']}")

    def _update(self, param: Tensor, grad: Tensor, state: dict[str, Any],
                group: ParamGroup, scalars: Scalars) -> None:
        if group["maximize"]:
            grad = ops.neg(grad)
        if group["weight_decay"] != 0:
            grad = ops.add(grad, ops.mul(group["weight_decay"], param))
        if group.number("momentum") != 0:  # the group's guard retraces when this flips
            grad = _momentum(param, grad, state, group, scalars)
        param.assign_(ops.sub(param, ops.mul(scalars("lr", param.dtype), grad)))


def _momentum(param: Tensor, grad: Tensor, state: dict[str, Any], group: ParamGroup,
              scalars: Scalars) -> Tensor:
    """buf = momentum * buf + (1 - dampening) * g, with buf = g on the first step.

    The buffer starts at zeros, so ``momentum * 0 + g == g`` exactly: PyTorch's first step
    without a branch a compiled step would have to retrace. With dampening, a 'step'
    counter says whether the first step is done (PyTorch's buffer is None until then).
    """
    dampening = group["dampening"]
    fresh = "momentum_buffer" not in state
    if fresh:
        state["momentum_buffer"] = zeros_like(param, "momentum_buffer")
    if dampening != 0 and "step" not in state:  # a loaded buffer has made its first step
        state["step"] = counter(start=0.0 if fresh else 1.0)
    buf, momentum = state["momentum_buffer"], scalars("momentum", param.dtype)
    scaled = grad
    if dampening != 0:
        started = ops.cast(ops.not_equal(state["step"], 0.0), param.dtype)  # 0 or 1
        scaled = ops.mul(ops.sub(1.0, ops.mul(started, dampening)), grad)
        state["step"].assign_(ops.add(state["step"], 1.0))
    buf.assign_(ops.add(ops.mul(buf, momentum), scaled))
    if group["nesterov"]:
        return ops.add(grad, ops.mul(momentum, buf))
    return buf

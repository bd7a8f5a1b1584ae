"""Adam and AdamW with PyTorch's rules (amsgrad, weight decay, maximize)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import ops
from ..errors import ArgumentError
from ..tensor import Tensor
from ._groups import ParamGroup
from .optimizer import Optimizer, Scalars, check_at_least, counter, zeros_like


class Adam(Optimizer):
    """Adam, PyTorch's rule step by step (L2 weight decay added to the gradient, or
    AdamW's decoupled decay with ``decoupled_weight_decay=True``):

    t += 1;  g = -grad if maximize else grad;  g = g + weight_decay * p;
    m = m + (1 - b1) (g - m);  v = b2 v + (1 - b2) g^2;  v_max = max(v_max, v) if amsgrad;
    p = p - lr / (1 - b1^t) * m / (sqrt(v or v_max) / sqrt(1 - b2^t) + eps).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps,
                    "weight_decay": weight_decay, "amsgrad": amsgrad, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any]) -> None:
        super()._check_options(group)
        check_at_least(self, group, "eps", 0.0)
        betas = tuple(group["betas"])
        for k, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ArgumentError(f"{type(self).__name__}: invalid beta parameter at index "
                                    f"{k}: {beta} (betas must lie in [0, 1), got {betas})")

    def _update(self, param: Tensor, grad: Tensor, state: dict[str, Any],
                group: ParamGroup, scalars: Scalars) -> None:
        if not state:
            state["step"] = counter()
            state["exp_avg"] = zeros_like(param, "exp_avg")
            state["exp_avg_sq"] = zeros_like(param, "exp_avg_sq")
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = zeros_like(param, "max_exp_avg_sq")
        step, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        step.assign_(ops.add(step, 1.0))
        if group["maximize"]:
            grad = ops.neg(grad)
        dtype = param.dtype
        start = param
        if group["weight_decay"] != 0:
            if group["decoupled_weight_decay"]:  # p = p * (1 - lr * weight_decay)
                decay = ops.sub(1.0, ops.mul(group.tensor("lr"), group["weight_decay"]))
                start = ops.mul(param, ops.cast(decay, dtype) if decay.dtype != dtype
                                else decay)
            else:
                grad = ops.add(grad, ops.mul(group["weight_decay"], param))
        beta2 = scalars("betas", dtype, 1)
        weight1, weight2 = _one_minus(group, 0, dtype), _one_minus(group, 1, dtype)
        m.assign_(ops.add(m, ops.mul(weight1, ops.sub(grad, m))))  # PyTorch's lerp
        v.assign_(ops.add(ops.mul(v, beta2), ops.mul(ops.mul(weight2, grad), grad)))
        if group["amsgrad"]:
            state["max_exp_avg_sq"].assign_(ops.maximum(state["max_exp_avg_sq"], v))
            v = state["max_exp_avg_sq"]
        param.assign_(ops.sub(start, ops.mul(_step_size(group, step, dtype),
                                             ops.div(m, _denominator(group, step, v)))))


def _one_minus(group: ParamGroup, index: int, dtype: Any) -> Tensor:
    """1 - betas[index], computed in float64 (PyTorch's Python float), then cast."""
    weight = ops.sub(1.0, group.tensor("betas", index))
    return weight if weight.dtype == dtype else ops.cast(weight, dtype)


def _bias_correction(group: ParamGroup, index: int, step: Tensor) -> Tensor:
    """1 - beta ** t in float64 (beta the group's live betas[index])."""
    return ops.sub(1.0, ops.power(group.tensor("betas", index), step))


def _step_size(group: ParamGroup, step: Tensor, dtype: Any) -> Tensor:
    """lr / (1 - b1^t), computed in float64 as PyTorch does in Python floats."""
    size = ops.div(group.tensor("lr"), _bias_correction(group, 0, step))
    return size if size.dtype == dtype else ops.cast(size, dtype)


def _denominator(group: ParamGroup, step: Tensor, v: Tensor) -> Tensor:
    """sqrt(v) / sqrt(1 - b2^t) + eps."""
    root = ops.sqrt(_bias_correction(group, 1, step))
    root = root if root.dtype == v.dtype else ops.cast(root, v.dtype)
    return ops.add(ops.div(ops.sqrt(v), root), group["eps"])


class AdamW(Adam):
    """Adam with decoupled weight decay (PyTorch's AdamW; weight_decay defaults to 0.01):
    p = p * (1 - lr * weight_decay) before Adam's update."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         foreach=foreach, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

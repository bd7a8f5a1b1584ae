"""The optimizer base class: parameter groups, state, ``state_dict`` as PyTorch lays it out.

Every state change is written as ops under ``no_grad()`` followed by ``tensor.assign_``,
never as an in-place write to ``.data``, so a tracer (``mg.jit``) sees the whole step. The
learning rate, momentum and betas of each group, and the step counters, are tensors for the
same reason (see ``_groups.py`` for how a jitted step follows a schedule without retracing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .. import ops
from .._state import clear_grad, enable_grad, no_grad
from ..errors import ArgumentError, ArgumentTypeError
from ..tensor import Tensor
from ._groups import ParamGroup, ParamState, flat_params


class Optimizer:
    """Holds ``param_groups`` (a list of ``ParamGroup`` dicts: 'params' and the options),
    ``defaults`` (the options a new group takes) and ``state`` (per parameter)."""

    def __init__(self, params: Iterable[Any], defaults: Mapping[str, Any]) -> None:
        self.defaults: dict[str, Any] = dict(defaults)
        self.state = ParamState()
        self.param_groups: list[ParamGroup] = []
        if isinstance(params, Tensor):
            raise ArgumentTypeError(f"{type(self).__name__}: params must be an iterable of tensors "
                                    f"or of dicts, got a Tensor of shape {params.shape}")
        groups = list(params)
        if not groups:
            raise ArgumentError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(groups[0], Mapping):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: Mapping[str, Any]) -> None:
        """Append a group: its 'params', its own options, the defaults for the rest."""
        name = type(self).__name__
        if not isinstance(param_group, Mapping):
            raise ArgumentTypeError(f"{name}: param_group must be a dict, got {type(param_group)}")
        group = dict(param_group)
        params, names = _split_names(group.get("params"), name)
        group["params"] = params
        if names:
            group["param_names"] = names
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        self._check_options(group)
        known = {id(p) for p in flat_params(self.param_groups)}
        if any(id(p) in known for p in params):
            raise ArgumentError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append(ParamGroup.build(group))

    def _check_options(self, group: Mapping[str, Any]) -> None:
        """Raise ValueError naming the optimizer and the value for a bad option.

        PyTorch's implementation switches (foreach, fused, capturable) are kept as options
        and change nothing here; differentiable=True is refused: minigrad's steps run under
        no_grad, so a graph through the update would silently be missing."""
        check_at_least(self, group, "lr", 0.0)
        check_at_least(self, group, "weight_decay", 0.0)
        if group.get("differentiable"):
            raise ArgumentError(f"{type(self).__name__}: differentiable=True is not supported "
                                "(the update runs under no_grad)")

    # ------------------------------------------------------------------ the step
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                scalars = Scalars(group)
                for param in group["params"]:
                    if param.grad is not None:
                        self._update(param, param.grad, self.state[param], group, scalars)
        return loss

    def _update(self, param: Tensor, grad: Tensor, state: dict[str, Any],
                group: ParamGroup, scalars: Scalars) -> None:
        raise NotImplementedError

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every gradient (``set_to_none``, PyTorch's default), or set it to zeros."""
        for param in flat_params(self.param_groups):
            if set_to_none:
                clear_grad(param)
            elif param.grad is not None:
                zeros = Tensor(np.zeros(param.grad.shape, param.grad.dtype))
                param.grad.assign_(zeros)  # a tensor: mg.jit traces it as a constant

    # ------------------------------------------------------------------ old spellings
    @property
    def lr(self) -> float:
        """The first group's learning rate (setting it sets every group's)."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.param_groups:
            group["lr"] = value

    @property
    def params(self) -> list[Tensor]:
        """Every optimized parameter, in group order (a new list)."""
        return flat_params(self.param_groups)

    # ------------------------------------------------------------------ saving
    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: ``{'state': {position: {name: tensor}}, 'param_groups':
        [{options..., 'params': [positions]}]}``; positions count through the groups.
        The state tensors are the optimizer's own (copy them to keep a snapshot)."""
        position = {id(p): k for k, p in enumerate(flat_params(self.param_groups))}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [position[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {position[id(p)]: dict(slot) for p, slot in self.state.items()
                 if id(p) in position}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Load options and state saved by ``state_dict`` (minigrad's or PyTorch's: values
        may be minigrad tensors, numpy arrays or CPU torch tensors). State is copied and
        cast to each parameter's dtype ('step' stays float64)."""
        saved_groups = list(state_dict["param_groups"])
        name = type(self).__name__
        if len(saved_groups) != len(self.param_groups):
            raise ArgumentError(f"{name}: loaded state dict has {len(saved_groups)} parameter "
                                f"groups, the optimizer has {len(self.param_groups)}")
        for k, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(group["params"]) != len(saved["params"]):
                raise ArgumentError(
                    f"{name}: loaded state dict's group {k} has {len(saved['params'])} "
                    f"parameters, the optimizer's has {len(group['params'])}")
        by_id = dict(zip([i for g in saved_groups for i in g["params"]],
                         flat_params(self.param_groups), strict=True))
        self.state.clear()
        for key, slot in state_dict["state"].items():
            if key in by_id:
                param = by_id[key]
                self.state[param] = {n: _state_value(n, v, param) for n, v in slot.items()}
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            for key in [k for k in group if k != "params" and k not in saved]:
                del group[key]
            group.update({k: v for k, v in saved.items() if k != "params"})

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for k, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {k}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join([*lines, ")"])


def _split_names(params: Any, optimizer: str) -> tuple[list[Tensor], list[str]]:
    """A group's parameters as a list, and their names when given as (name, tensor)."""
    if isinstance(params, Tensor):
        return [params], []
    if isinstance(params, set):
        raise ArgumentTypeError(f"{optimizer}: parameters must be an ordered collection (a list), "
                                "not a set: its order changes between runs")
    items = list(params) if params is not None else []
    names = [item[0] for item in items if isinstance(item, tuple)]
    tensors = [item[1] if isinstance(item, tuple) else item for item in items]
    if names and len(names) != len(tensors):
        raise ArgumentError(f"{optimizer}: give every parameter a name, or none")
    for item in tensors:
        if not isinstance(item, Tensor):
            raise ArgumentTypeError(f"{optimizer} can only optimize Tensors, got "
                                    f"{type(item).__name__}")
        if not item.is_leaf:
            raise ArgumentError(f"{optimizer}: can't optimize a non-leaf Tensor "
                                f"(shape {item.shape}, made by {item.op.name})")
    return tensors, names


def _state_value(name: str, value: Any, param: Tensor) -> Any:
    """A loaded state entry: a new tensor of the parameter's dtype ('step': float64)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    dtype = np.float64 if name == "step" or array.ndim == 0 else param.dtype
    return Tensor(np.array(array, dtype=dtype), name=name)


def check_at_least(optimizer: Optimizer, group: Mapping[str, Any], key: str,
                   low: float) -> None:
    """ValueError unless ``group[key] >= low``."""
    value = group[key]
    if not value >= low:
        raise ArgumentError(f"{type(optimizer).__name__}: invalid {key} value: {value} "
                            f"(must be >= {low})")


class Scalars:
    """A group's live options as 0-d tensors of a parameter's dtype (cast once per step)."""

    def __init__(self, group: ParamGroup) -> None:
        self.group = group
        self.cache: dict[tuple, Tensor] = {}

    def __call__(self, key: str, dtype: np.dtype, index: int | None = None) -> Tensor:
        """The value of option ``key`` (``betas[index]``) as a 0-d tensor of ``dtype``."""
        slot = (key, index, np.dtype(dtype))
        if slot not in self.cache:
            value = self.group.tensor(key, index)
            self.cache[slot] = value if value.dtype == dtype else ops.cast(value, dtype)
        return self.cache[slot]


def zeros_like(param: Tensor, name: str) -> Tensor:
    """A state tensor of zeros shaped and typed like ``param``."""
    return Tensor(np.zeros(param.shape, param.dtype), name=name)


def counter(name: str = "step", start: float = 0.0) -> Tensor:
    """A 0-d float64 counter (PyTorch keeps its step counts as tensors too)."""
    return Tensor(np.array(start, np.float64), name=name)

"""The scheduler base class (``minigrad.optim.lr_scheduler.LRScheduler``) and helpers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ArgumentError, ArgumentTypeError
from .optimizer import Optimizer


def _values(optimizer: Optimizer, key: str) -> list[Any]:
    return [group[key] for group in optimizer.param_groups]


def _check_optimizer(optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise ArgumentTypeError(f"{type(optimizer).__name__} is not an Optimizer")


class LRScheduler:
    """The base: ``base_lrs`` (each group's 'initial_lr'), ``last_epoch``, ``step()``,
    ``get_last_lr()``, ``state_dict()`` (everything but the optimizer)."""

    __slots__ = ("__weakref__", "_is_initial", "_last_lr", "_step_count", "base_lrs",
                 "last_epoch", "optimizer")

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for k, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{k}] "
                                   "when resuming a scheduler with last_epoch >= 0")
        self.base_lrs: list[float] = _values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """The step a new scheduler takes (epoch 0), marked so get_lr can tell."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The next learning rate of each group (called by ``step``)."""
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or jump to ``epoch``, by the closed form where there is one)
        and write the new learning rates into the optimizer's groups."""
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = _values(self.optimizer, "lr")

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` set, one per group."""
        return self._last_lr

    def state_dict(self) -> dict[str, Any]:
        """Every attribute but the optimizer (PyTorch's layout)."""
        names = [name for cls in reversed(type(self).__mro__)
                 for name in cls.__dict__.get("__slots__", ())]
        names += list(getattr(self, "__dict__", {}))  # a subclass without slots
        return {name: getattr(self, name) for name in names
                if name not in ("optimizer", "__weakref__") and hasattr(self, name)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the attributes ``state_dict`` returned."""
        for name, value in state_dict.items():
            setattr(self, name, value)


def _per_group(name: str, optimizer: Optimizer, value: float | Sequence[float]) -> list[float]:
    """One value per group: a list as given (its length checked), else repeated."""
    groups = len(optimizer.param_groups)
    if isinstance(value, list | tuple):
        if len(value) != groups:
            raise ArgumentError(f"expected {groups} values for {name}, got {len(value)}")
        return list(value)
    return [value] * groups

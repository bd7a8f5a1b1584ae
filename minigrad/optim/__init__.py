"""Optimizers with PyTorch's exact update rules, parameter groups and ``state_dict``,
and learning-rate schedulers (``minigrad.optim.lr_scheduler``), all usable inside
``mg.jit`` (docs/jit.md)."""

from . import lr_scheduler
from ._groups import ParamGroup, ParamState
from .adam import Adam, AdamW
from .lr_scheduler import StepLR
from .optimizer import Optimizer
from .rmsprop import Adagrad, RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "ParamGroup", "ParamState",
           "RMSprop", "StepLR", "lr_scheduler"]

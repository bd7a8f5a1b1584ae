"""Layers and the Module system (``mg.nn``, like ``torch.nn``)."""

from . import functional
from .activation import ReLU
from .batchnorm import BatchNorm1d, BatchNorm2d
from .module import Module, Parameter, Sequential

__all__ = [
    "BatchNorm1d", "BatchNorm2d", "Module", "Parameter", "ReLU", "Sequential", "functional",
]

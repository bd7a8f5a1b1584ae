"""What the reductions and sorts of issue 15 (extrema, aggregates, scans, sorting) share:
checking a ``dim`` against a shape, PyTorch's numpy-style keyword aliases (``axis=`` for
``dim=``, ``keepdims=`` for ``keepdim=``), and installing functions as Tensor methods."""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from ..errors import ArgumentTypeError, OutOfRangeError
from ..tensor import Tensor
from .core import normalize_axes

Dims = int | tuple[int, ...] | list[int] | None
F = TypeVar("F", bound=Callable[..., Any])
ALIASES = (("axis", "dim"), ("keepdims", "keepdim"))


def check_dim(name: str, dim: Any, shape: tuple[int, ...]) -> int:
    """``dim`` as a non-negative dim of a tensor of ``shape`` (a 0-d tensor takes 0 and
    -1, as in PyTorch); an error naming the dim and the shape otherwise."""
    span = builtins.max(len(shape), 1)
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
        raise ArgumentTypeError(f"{name}: dim must be an integer, got {dim!r}")
    if not -span <= dim < span:
        raise OutOfRangeError(f"{name}: dim {dim} is out of range for a tensor of shape {shape} "
                              f"(expected one in [{-span}, {span - 1}])")
    return int(dim) % span


def reduced_dims(name: str, dim: Dims, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The sorted dims ``dim`` names: an int, a tuple or list, or None and () for all."""
    if dim is None or (isinstance(dim, tuple | list) and not dim):
        return tuple(range(len(shape)))
    many = tuple(dim) if isinstance(dim, tuple | list) else (dim,)
    for d in many:
        check_dim(name, d, shape)
    return normalize_axes(many, len(shape), name)


def torch_keywords(function: F) -> F:
    """``function`` also taking numpy's ``axis=`` and ``keepdims=`` for ``dim=`` and
    ``keepdim=``, as PyTorch's functions and methods do (one spelling of each)."""
    @functools.wraps(function)
    def call(*args: Any, **keywords: Any) -> Any:
        for alias, name in ALIASES:
            if alias in keywords:
                if name in keywords:
                    raise ArgumentTypeError(f"{call.__name__}: got both {name}= and {alias}=; "
                                            "give one")
                keywords[name] = keywords.pop(alias)
        return function(*args, **keywords)

    return call  # type: ignore[return-value]


def _method(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Tensor, *args: Any, **keywords: Any) -> Any:
        return function(self, *args, **keywords)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = function.__doc__
    return method


def install(functions: dict[str, Callable[..., Any]]) -> None:
    """Set each function as the Tensor method of that name (``x.max(1)``)."""
    for name, function in functions.items():
        setattr(Tensor, name, _method(name, function))

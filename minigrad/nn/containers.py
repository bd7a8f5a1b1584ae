"""Containers: ModuleList, ModuleDict, ParameterList, ParameterDict (PyTorch's)."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..errors import ArgumentError, ArgumentTypeError, OutOfRangeError
from ..tensor import Tensor
from .module import Module, Parameter


def _index(position: Any, length: int, kind: str) -> int:
    """``position`` as an index in [0, length); IndexError naming both otherwise."""
    position = operator.index(position)
    if not -length <= position < length:
        raise OutOfRangeError(f"index {position} is out of range for a {kind} of length {length}")
    return position % length


class ModuleList(Module):
    """A list of modules, registered as submodules "0", "1", ... (no forward of its own)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _renumber(self, modules: list[Module]) -> None:
        for name in list(self._modules):
            delattr(self, name)
        for position, module in enumerate(modules):
            self.add_module(str(position), module)

    def __getitem__(self, position: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(position, slice):
            return type(self)(modules[position])
        return modules[_index(position, len(modules), "ModuleList")]

    def __setitem__(self, position: int, module: Module) -> None:
        self.add_module(str(_index(position, len(self), "ModuleList")), module)

    def __delitem__(self, position: int | slice) -> None:
        modules = list(self._modules.values())
        if not isinstance(position, slice):
            position = _index(position, len(modules), "ModuleList")
        del modules[position]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return type(self)([*self, *other])

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each of ``modules`` at the end; returns self."""
        if isinstance(modules, Module) or not isinstance(modules, Iterable):
            raise ArgumentTypeError(
                f"ModuleList.extend should be called with an iterable, got "
                f"{type(modules).__name__}"
            )
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, position: int, module: Module) -> None:
        """Insert ``module`` before ``position``."""
        modules = list(self._modules.values())
        modules.insert(position, module)
        self._renumber(modules)

    def pop(self, position: int = -1) -> Module:
        """Remove and return the module at ``position``."""
        module = self[position]
        del self[position]
        return module


class ModuleDict(Module):
    """A dict of modules, registered as submodules under their keys (insertion order)."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None
                 = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        if key not in self._modules:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> list[str]:
        """The keys, in insertion order."""
        return list(self._modules)

    def values(self) -> list[Module]:
        """The modules, in insertion order."""
        return list(self._modules.values())

    def items(self) -> list[tuple[str, Module]]:
        """(key, module) pairs, in insertion order."""
        return list(self._modules.items())

    def pop(self, key: str) -> Module:
        """Remove and return the module under ``key``."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        """Remove every module."""
        for key in list(self._modules):
            del self[key]

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add (or replace) modules from a mapping or from (key, module) pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for entry in pairs:
            if not isinstance(entry, tuple | list) or len(entry) != 2:
                raise ArgumentError(
                    f"ModuleDict.update: expected (key, module) pairs, got {entry!r}"
                )
            self[entry[0]] = entry[1]


def _as_parameter(value: Any) -> Any:
    """A plain tensor becomes a Parameter (as PyTorch's ParameterList does); a Parameter
    or a non-tensor value is kept."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


class ParameterList(Module):
    """A list of parameters, registered as "0", "1", ... (tensors become Parameters)."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def __getitem__(self, position: int | slice) -> Any:
        if isinstance(position, slice):
            return ParameterList([self[k] for k in range(len(self))[position]])
        return getattr(self, str(_index(position, len(self), "ParameterList")))

    def __setitem__(self, position: int, value: Any) -> None:
        setattr(self, str(_index(position, len(self), "ParameterList")), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return iter([self[k] for k in range(len(self))])

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def append(self, value: Any) -> ParameterList:
        """Add ``value`` at the end; returns self."""
        object.__setattr__(self, "_size", self._size + 1)
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Add each of ``values`` at the end; returns self."""
        if isinstance(values, Tensor) or not isinstance(values, Iterable):
            raise ArgumentTypeError(
                f"ParameterList.extend should be called with an iterable, got "
                f"{type(values).__name__}"
            )
        for value in list(values):
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return ", ".join(f"({k}): shape {tuple(getattr(v, 'shape', ()))}"
                         for k, v in enumerate(self))


class ParameterDict(Module):
    """A dict of parameters under their keys (tensors become Parameters)."""

    def __init__(self, values: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None
                 ) -> None:
        super().__init__()
        object.__setattr__(self, "_keys", {})
        if values is not None:
            self.update(values)

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str) or key == "" or "." in key:
            raise KeyError(f"ParameterDict keys must be non-empty strings without '.': {key!r}")
        self._keys[key] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        if key not in self._keys:
            raise KeyError(key)
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._keys))

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def keys(self) -> list[str]:
        """The keys, in insertion order."""
        return list(self._keys)

    def values(self) -> list[Any]:
        """The values, in insertion order."""
        return [self[k] for k in self._keys]

    def items(self) -> list[tuple[str, Any]]:
        """(key, value) pairs, in insertion order."""
        return [(k, self[k]) for k in self._keys]

    def pop(self, key: str) -> Any:
        """Remove and return the value under ``key``."""
        value = self[key]
        del self[key]
        return value

    def update(self, values: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add (or replace) values from a mapping or from (key, value) pairs."""
        pairs = values.items() if isinstance(values, Mapping) else values
        for key, value in pairs:
            self[key] = value

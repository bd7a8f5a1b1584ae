"""Module and Parameter: PyTorch's container protocol on minigrad tensors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .._state import STATE
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that a Module registers as learnable (requires grad by default)."""

    def __init__(self, data: Any, requires_grad: bool = True, name: str | None = None,
                 dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, dtype=dtype, requires_grad=requires_grad, name=name)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


_UNSET = object()  # no attribute of that name yet


class Module:
    """Base class of layers: parameters, buffers and submodules registered on assignment.

    ``self.w = Parameter(...)`` registers a parameter, ``self.layer = Linear(...)`` a
    submodule, ``self.register_buffer("running_mean", tensor)`` a buffer (state that is
    saved but not learned). Calling the module runs ``forward`` and tags the nodes it
    creates with the module (the renderer draws them as a cluster).
    """

    training: bool
    # Bumped by every change of an attribute (setattr / delattr / train / eval to another
    # object): mg.jit's guards check it first and look at the attributes only when it
    # moved (docs/jit.md §1). Writing ``__dict__`` directly goes around it.
    _version: int = 0

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif name in self.__dict__.get("_buffer_names", ()):
            self._buffers[name] = value
        if self.__dict__.get(name, _UNSET) is not value:
            self._changed()
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        object.__delattr__(self, name)
        self._changed()

    def _changed(self) -> None:
        """Count an attribute change (``_version``)."""
        self.__dict__["_version"] = self._version + 1

    def register_buffer(self, name: str, value: Tensor | None) -> None:
        """Register ``value`` as a buffer: saved in ``state_dict``, not learned."""
        names = self.__dict__.setdefault("_buffer_names", set())
        names.add(name)
        self.__setattr__(name, value)
        self._buffers[name] = value

    # --------------------------------------------------------------------- traversal
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, submodule) for the direct submodules."""
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        """The direct submodules."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every module below it."""
        stack: list[tuple[str, Module]] = [(prefix, self)]
        seen: set[int] = set()
        while stack:
            name, module = stack.pop(0)
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            for child_name, child in module._modules.items():
                stack.append((f"{name}.{child_name}" if name else child_name, child))

    def modules(self) -> Iterator[Module]:
        """This module and every module below it."""
        for _, module in self.named_modules():
            yield module

    def _named_tensors(self, table: str) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        for prefix, module in self.named_modules():
            for name, value in getattr(module, table).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter, each once."""
        yield from self._named_tensors("_parameters")  # type: ignore[misc]

    def parameters(self) -> Iterator[Parameter]:
        """Every parameter, each once."""
        for _, parameter in self.named_parameters():
            yield parameter

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) for every buffer."""
        yield from self._named_tensors("_buffers")

    def buffers(self) -> Iterator[Tensor]:
        """Every buffer."""
        for _, buffer in self.named_buffers():
            yield buffer

    # ------------------------------------------------------------------------- modes
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and every submodule; returns self."""
        for module in self.modules():
            if module.training is not bool(mode):
                object.__setattr__(module, "training", bool(mode))
                module._changed()
        return self

    def eval(self) -> Module:
        """Set evaluation mode (BatchNorm uses running statistics); returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient."""
        for parameter in self.parameters():
            parameter.grad = None

    def to(self, dtype: Any) -> Module:
        """Convert every floating-point parameter and buffer to ``dtype``; returns self."""
        target = np.dtype(dtype)
        for tensor_ in [*self.parameters(), *self.buffers()]:
            if tensor_.dtype.kind == "f":
                tensor_.data = tensor_.data.astype(target)
                tensor_.grad = None
        return self

    def double(self) -> Module:
        """Convert floating-point parameters and buffers to float64."""
        return self.to(np.float64)

    def float(self) -> Module:
        """Convert floating-point parameters and buffers to float32."""
        return self.to(np.float32)

    # ------------------------------------------------------------------- state dicts
    def state_dict(self) -> dict[str, Tensor]:
        """Parameters and buffers by dotted name (detached, sharing values)."""
        state = {name: p.detach() for name, p in self.named_parameters()}
        state.update({name: b.detach() for name, b in self.named_buffers()})
        return state

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> None:
        """Copy values from ``state`` into this module's parameters and buffers.

        Missing or unexpected keys (with ``strict``) and shape mismatches are errors that
        name them; nothing is changed unless every entry fits.
        """
        own = dict(self.named_parameters())
        own.update(dict(self.named_buffers()))
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if strict and (missing or unexpected):
            raise KeyError(
                f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}"
            )
        updates = []
        for name, value in state.items():
            if name not in own:
                continue
            array = np.asarray(value.data if isinstance(value, Tensor) else value)
            if array.shape != own[name].shape:
                raise ValueError(
                    f"load_state_dict: {name} has shape {array.shape} in the state dict "
                    f"but {own[name].shape} in the module"
                )
            updates.append((own[name], array))
        for target, array in updates:
            target.assign_(array)

    # ----------------------------------------------------------------------- calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        STATE.module_stack.append(self)
        try:
            return self.forward(*args, **kwargs)
        finally:
            STATE.module_stack.pop()

    def extra_repr(self) -> str:
        """The arguments shown in ``repr`` (subclasses override)."""
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        if len(lines) == 1:
            return lines[0] + ")"
        return "\n".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied one after another; indexable and iterable."""

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for position, layer in enumerate(layers):
            setattr(self, str(position), layer)

    def forward(self, x: Any) -> Any:
        """Apply each layer in turn."""
        for layer in self._modules.values():
            x = layer(x)
        return x

    def __getitem__(self, position: int) -> Module:
        return list(self._modules.values())[position]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

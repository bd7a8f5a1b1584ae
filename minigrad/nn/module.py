"""Module and Parameter: PyTorch's container protocol on minigrad tensors."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .._state import STATE, clear_grad
from ..errors import ArgumentError, ArgumentTypeError, OutOfRangeError
from ..tensor import Tensor, read_values
from .hooks import IncompatibleKeys, RemovableHandle


class Parameter(Tensor):
    """A leaf tensor that a Module registers as learnable (requires grad by default)."""

    def __init__(self, data: Any, requires_grad: bool = True, name: str | None = None,
                 dtype: Any = None) -> None:
        if isinstance(data, Tensor):  # a copy of its values: mg.jit refuses it while tracing
            data = read_values(data)  # (the compiled code would keep the traced values)
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
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_forward_pre_hooks", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "_hook_ids", ())  # see hooks.RemovableHandle
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        target = (self._parameters if isinstance(value, Parameter)
                  else self._modules if isinstance(value, Module)
                  else self._buffers if name in self.__dict__.get("_buffer_names", ())
                  else None)
        for table in (self._parameters, self._buffers, self._modules):
            if table is not target:
                table.pop(name, None)
        if target is not None:  # a replaced entry keeps its place (``layers[0] = m``)
            target[name] = value
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

    def register_buffer(self, name: str, value: Tensor | None, persistent: bool = True) -> None:
        """Register ``value`` as a buffer: state that is not learned; saved in
        ``state_dict`` unless ``persistent=False``."""
        self._check_new_name(name, "buffer", allow={"_buffers"})
        if value is not None and not isinstance(value, Tensor):
            raise ArgumentTypeError(
                f"cannot assign '{type(value).__name__}' object to buffer '{name}' "
                "(a Tensor or None required)"
            )
        names = self.__dict__.setdefault("_buffer_names", set())
        names.add(name)
        self.__setattr__(name, value)
        self._buffers[name] = value
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a Parameter, or None for an absent one such as ``bias``)."""
        self._check_new_name(name, "parameter", allow={"_parameters"})
        if param is not None and not isinstance(param, Parameter):
            raise ArgumentTypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(a Parameter or None required)"
            )
        self.__setattr__(name, param)
        self._parameters[name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the submodule ``name`` (``self.<name> = module``)."""
        if module is not None and not isinstance(module, Module):
            raise ArgumentTypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_new_name(name, "module", allow={"_modules"})
        self.__setattr__(name, module)
        self._modules[name] = module

    register_module = add_module

    def _check_new_name(self, name: str, kind: str, allow: set[str]) -> None:
        """Refuse names PyTorch refuses: not a string, empty, dotted, or an attribute of
        another kind."""
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before registering a {kind}"
            )
        if not isinstance(name, str):
            raise ArgumentTypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain \".\", got {name!r}")
        tables = {"_parameters", "_buffers", "_modules"} - allow
        if hasattr(self, name) and not any(name in getattr(self, t) for t in allow | tables):
            raise KeyError(f"attribute '{name}' already exists")

    # --------------------------------------------------------------------- traversal
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, submodule) for the direct submodules, each once, in registration order."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct submodules."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every module below it.

        Depth first in registration order (each module before its children), like
        PyTorch; a module reached twice is given once unless ``remove_duplicate=False``.
        An explicit stack, not recursion.
        """
        seen: set[int] = set() if memo is None else memo
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            if remove_duplicate:
                seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every module below it (depth first)."""
        for _, module in self.named_modules():
            yield module

    def _named_tensors(self, table: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Any]]:
        """Each module's own ``table`` entries, module by module in ``named_modules``
        order; None entries skipped, each tensor once unless ``remove_duplicate=False``."""
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        seen: set[int] = set()
        for module_prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter, in PyTorch's order: modules depth
        first in registration order, each module's own parameters in registration order."""
        yield from self._named_tensors("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter, each once, in ``named_parameters`` order."""
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) for every buffer, in ``named_modules`` order."""
        yield from self._named_tensors("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path ``target`` ("" is self)."""
        module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(
                    f"{type(module).__name__} has no submodule '{part}' (path {target!r})"
                )
            module = child
        return module

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule, then on self (children first, as PyTorch does:
        a module met twice is visited twice); returns self. An explicit stack."""
        stack: list[tuple[Module, bool]] = [(self, False)]
        while stack:
            module, children_done = stack.pop()
            if children_done:
                fn(module)
                continue
            stack.append((module, True))
            stack.extend((child, False) for child in reversed(list(module.children())))
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Turn gradient tracking of every parameter on or off; returns self."""
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

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

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (``set_to_none=False``: set it to zeros)."""
        if not set_to_none:
            for parameter in self.parameters():
                if parameter.grad is not None:
                    parameter.grad = Tensor(np.zeros_like(parameter.grad.data))
            return
        for parameter in self.parameters():
            clear_grad(parameter)

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
    def _state_entries(self, prefix: str = "") -> list[tuple[str, Tensor]]:
        """(key, tensor) as PyTorch's ``state_dict`` lists them: each module's own
        parameters, then its own persistent buffers, then its children's entries, depth
        first. Not deduplicated (a shared layer is saved under each of its names)."""
        entries: list[tuple[str, Tensor]] = []
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            module_prefix, module = stack.pop()
            for name, value in module._parameters.items():
                if value is not None:
                    entries.append((module_prefix + name, value))
            for name, value in module._buffers.items():
                if value is not None and name not in module._non_persistent_buffers:
                    entries.append((module_prefix + name, value))
            stack.extend(reversed([(f"{module_prefix}{name}.", child)
                                   for name, child in module._modules.items()
                                   if child is not None]))
        return entries

    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Tensor]:
        """Parameters and persistent buffers by dotted name, in PyTorch's order (each
        module's parameters, its buffers, then its children); detached tensors sharing
        the values unless ``keep_vars``."""
        state = OrderedDict() if destination is None else destination
        for key, value in self._state_entries(prefix):
            state[key] = value if keep_vars else value.detach()
        return state

    def load_state_dict(self, state: dict[str, Any], strict: bool = True
                        ) -> IncompatibleKeys:
        """Copy values from ``state`` into this module's parameters and buffers.

        Missing or unexpected keys (with ``strict``) and shape mismatches are errors that
        name them; nothing is changed unless every entry fits. Returns the missing and
        unexpected keys (PyTorch's ``IncompatibleKeys``).
        """
        own = dict(self._state_entries())
        missing = [name for name in own if name not in state]
        unexpected = [name for name in state if name not in own]
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
                raise ArgumentError(
                    f"load_state_dict: {name} has shape {array.shape} in the state dict "
                    f"but {own[name].shape} in the module"
                )
            updates.append((own[name], array))
        for target, array in updates:
            target.assign_(array)
        return IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------------- calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        STATE.module_stack.append(self)
        try:
            for hook in list(self._forward_pre_hooks.values()):
                changed = hook(self, args)
                if changed is not None:
                    args = changed if isinstance(changed, tuple) else (changed,)
            out = self.forward(*args, **kwargs)
            for hook in list(self._forward_hooks.values()):
                changed = hook(self, args, out)
                if changed is not None:
                    out = changed
            return out
        finally:
            STATE.module_stack.pop()

    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False
                                  ) -> RemovableHandle:
        """Run ``hook(module, args)`` before each forward; a value it returns replaces the
        arguments (a tuple, or one value). ``handle.remove()`` takes it away."""
        return RemovableHandle(self, "_forward_pre_hooks", hook, prepend)

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False
                              ) -> RemovableHandle:
        """Run ``hook(module, args, output)`` after each forward; a value it returns
        replaces the output. ``handle.remove()`` takes it away."""
        return RemovableHandle(self, "_forward_hooks", hook, prepend)

    def extra_repr(self) -> str:
        """The arguments shown in ``repr`` (subclasses override)."""
        return ""

    def __repr__(self) -> str:
        """PyTorch's layout: ``Type(extra`` then each child as ``  (name): ...`` indented,
        then ``)``. Built line by line from an explicit stack (no recursion)."""
        lines: list[str] = []
        stack: list[tuple[str, Any, str]] = [("", self, "")]  # (indent, module or ")", label)
        while stack:
            indent, module, label = stack.pop()
            if isinstance(module, str):  # the closing line of a module with children
                lines.append(indent + ")")
                continue
            children = list(module._modules.items()) if isinstance(module, Module) else []
            own = type(module).__repr__ is Module.__repr__
            head = (f"{type(module).__name__}({module.extra_repr()}" if own and children
                    else f"{type(module).__name__}({module.extra_repr()})" if own
                    else repr(module))
            lines.append(indent + label + head.replace("\n", "\n" + indent + "  "))
            if own and children:
                stack.append((indent, ")", ""))
                stack.extend((indent + "  ", child, f"({name}): ")
                             for name, child in reversed(children))
        return "\n".join(lines)


class Sequential(Module):
    """Modules applied one after another; indexable and iterable. Built from modules
    (named "0", "1", ...) or from one dict of name -> module."""

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], dict):
            for name, layer in layers[0].items():
                self.add_module(name, layer)
            return
        for position, layer in enumerate(layers):
            self.add_module(str(position), layer)

    def forward(self, x: Any) -> Any:
        """Apply each layer in turn."""
        for layer in self._modules.values():
            x = layer(x)
        return x

    def __getitem__(self, position: int | slice) -> Any:
        layers = list(self._modules.items())
        if isinstance(position, slice):
            return Sequential(OrderedDict(layers[position]))
        if not -len(layers) <= position < len(layers):
            raise OutOfRangeError(f"index {position} is out of range for a Sequential of "
                                  f"length {len(layers)}")
        return layers[position][1]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

"""Forward hooks' handles and ``load_state_dict``'s result (PyTorch's names)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, NamedTuple

_next_id = itertools.count()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` found missing in, or unexpected from, the state dict."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class RemovableHandle:
    """A hook registered in one of a module's hook tables; ``remove()`` (or leaving a
    ``with`` block) takes it out.

    Every change also sets the module's ``_hook_ids`` (a tuple of numbers) through its
    ``__setattr__``, so the module's ``_version`` moves and mg.jit's guards, which
    compare a module's scalar attributes, see a hook added or removed after a trace.
    """

    def __init__(self, module: Any, table: str, hook: Callable[..., Any], prepend: bool
                 ) -> None:
        self.id = next(_next_id)
        self._module = module
        self._table = table
        hooks = getattr(module, table)
        entries = [(self.id, hook), *hooks.items()] if prepend else [*hooks.items(),
                                                                    (self.id, hook)]
        hooks.clear()
        hooks.update(entries)
        self._sync()

    def _sync(self) -> None:
        module = self._module
        ids = (*module._forward_pre_hooks, -1, *module._forward_hooks)
        module._hook_ids = ids

    def remove(self) -> None:
        """Take the hook out (again: nothing happens)."""
        getattr(self._module, self._table).pop(self.id, None)
        self._sync()

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

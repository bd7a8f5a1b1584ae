"""Numba JIT for minigrad graphs: trace -> lower -> fuse -> generate source -> cache.

``mg.jit(fn)`` traces ``fn`` on the first call per signature and compiles the whole
forward + backward + update graph into one Numba function. See docs/jit.md.

The package itself is callable (``mg.jit(fn)`` is ``mg.jit.jit(fn)``), so ``mg.jit`` works
whether Python resolved it to this package or to the function.
"""

import sys
import types
from typing import Any

from .api import JitFunction, jit
from .ir import NotCompilableError

__all__ = ["JitFunction", "NotCompilableError", "jit"]


class _CallableModule(types.ModuleType):
    def __call__(self, fn: Any = None, **options: Any) -> Any:
        return jit(fn, **options)


sys.modules[__name__].__class__ = _CallableModule

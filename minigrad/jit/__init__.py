"""Numba JIT for minigrad graphs: trace -> lower -> fuse -> generate source -> cache.

``mg.jit(fn)`` traces ``fn`` on the first call per signature and compiles the whole
forward + backward + update graph into one Numba function. See docs/jit.md.
"""

from .api import JitFunction, jit
from .ir import NotCompilableError

__all__ = ["JitFunction", "NotCompilableError", "jit"]

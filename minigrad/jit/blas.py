"""BLAS threads inside compiled kernels: one for small products, never oversubscribed.

Numba's ``np.dot`` calls scipy's OpenBLAS, which splits a product over its own threads from
about 2^18 multiply-adds. On a 2-core machine with other work running, a kernel whose
products are small then waits for a descheduled BLAS thread at every call: the
2-64-64-2 MLP step (four products of 128x64x64 and less) took 32 ms at the default
thread count against 0.14 ms at one thread (benchmarks/threads.py). A kernel whose largest
product has fewer than ``PARALLEL_MIN_MACS`` multiply-adds therefore runs with that BLAS
limited to one thread (set before the kernel, restored after it: two calls of about a
microsecond), its parallel loops on Numba's threads; a kernel with a larger product keeps
the library's own count (or ``MINIGRAD_NUM_THREADS`` when set) and runs its parallel loops
on one Numba thread (the two pools would oversubscribe the cores; ``prepare``). Numba's
prange loops otherwise follow ``NUMBA_NUM_THREADS``.

The libraries are found with threadpoolctl (every BLAS loaded except numpy's own, which
only eager mode uses); without threadpoolctl nothing is limited.
"""

from __future__ import annotations

import os
from typing import Any

import numba
import numpy as np

from .ir import Graph

PARALLEL_MIN_MACS = 1 << 22  # ~4M multiply-adds: a few milliseconds on one core
_found: list[Any] | None = None
_defaults: list[int] = []


def largest_product(graph: Graph) -> int:
    """Multiply-adds of the largest matmul in ``graph`` (0 without one)."""
    largest = 0
    for value in graph.values:
        if value.op == "matmul":
            inner = graph[value.inputs[0]].shape[-1] if graph[value.inputs[0]].shape else 1
            largest = max(largest, int(np.prod(value.shape, dtype=np.int64)) * inner)
    return largest


def wants_one_thread(graph: Graph) -> bool:
    """Whether the products of ``graph`` are all small (one BLAS thread is faster)."""
    return 0 < largest_product(graph) < PARALLEL_MIN_MACS


def _controllers() -> list[Any]:
    """The BLAS libraries compiled kernels call (found once), and their thread counts."""
    global _found
    if _found is None:
        _found = []
        try:
            import scipy.linalg.cython_blas  # noqa: F401  (what Numba's np.dot loads)
            import threadpoolctl
        except ImportError:
            return _found
        for lib in threadpoolctl.ThreadpoolController().lib_controllers:
            if lib.user_api == "blas" and "numpy.libs" not in lib.filepath:
                _found.append(lib)
                _defaults.append(_configured(lib.num_threads))
                lib.set_num_threads(_defaults[-1])
    return _found


def prepare(graph: Graph, parallel: bool) -> tuple[bool, bool]:
    """Find (once) the BLAS a kernel of ``graph`` calls; (whether BLAS runs on one thread,
    whether Numba's loops do). Numba's threads and BLAS's must not share the cores (the
    784-256-256-10 Adam step took 42 ms per call with both at 2 threads, 4.9 ms with
    Numba's at 1, 4.7 ms with BLAS's at 1), so one of them gets them: BLAS when the
    kernel has a product of at least ``PARALLEL_MIN_MACS`` (that step: 3.90 ms with
    Numba's loops on one thread and BLAS's two, 4.45 ms the other way round; a Hessian-
    vector product of a 32-1024-1024-1 MLP 27.1 vs 34.4 ms), Numba's loops otherwise."""
    largest = largest_product(graph)
    if not largest:
        return False, False
    _controllers()
    small = largest < PARALLEL_MIN_MACS
    return small, parallel and not small


def _configured(default: int) -> int:
    """MINIGRAD_NUM_THREADS when set (a positive integer), else the library's count."""
    text = os.environ.get("MINIGRAD_NUM_THREADS", "")
    return int(text) if text.isdigit() and int(text) > 0 else default


def numba_one_thread() -> int:
    """Numba's loops on one thread for this call (a kernel whose BLAS takes the cores);
    returns the count to give back to ``numba_restore``."""
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    return previous


def numba_restore(previous: int) -> None:
    numba.set_num_threads(previous)


def one_thread() -> None:
    """Limit the kernels' BLAS to one thread (before a kernel with small products)."""
    for lib in _found or ():
        lib.set_num_threads(1)


def restore() -> None:
    """Give the kernels' BLAS its configured thread count back (after such a kernel)."""
    for lib, count in zip(_found or (), _defaults, strict=True):
        lib.set_num_threads(count)


"""BLAS threads inside compiled kernels: one for small products, never oversubscribed.

Numba's ``np.dot`` calls scipy's OpenBLAS, which splits a product over its own threads from
about 2^18 multiply-adds. On a 2-core machine with other work running, a kernel whose
products are small then waits for a descheduled BLAS thread at every call: the
2-64-64-2 MLP step (four products of 128x64x64 and less) took 32 ms at the default
thread count against 0.14 ms at one thread (benchmarks/threads.py). A kernel whose largest
product has fewer than ``PARALLEL_MIN_MACS`` multiply-adds, or that has parallel loops of
its own (Numba's threads and BLAS's would oversubscribe the cores), therefore runs with that
BLAS limited to one thread (set before the kernel, restored after it: two calls of about a
microsecond); larger products in kernels without parallel loops keep the library's own
count, or ``MINIGRAD_NUM_THREADS`` when set (Numba's prange loops follow
``NUMBA_NUM_THREADS``).

The libraries are found with threadpoolctl (every BLAS loaded except numpy's own, which
only eager mode uses); without threadpoolctl nothing is limited.
"""

from __future__ import annotations

import os
from typing import Any

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


def prepare(graph: Graph, parallel: bool) -> bool:
    """Find (once) the BLAS a kernel of ``graph`` calls; whether it runs on one thread:
    small products, or any product in a kernel with parallel loops (Numba's threads and
    BLAS's would share the cores: the 784-256-256-10 Adam step took 42 ms per call with
    both at 2 threads, 4.9 ms with Numba's at 1, 4.7 ms with BLAS's at 1)."""
    largest = largest_product(graph)
    if not largest:
        return False
    _controllers()
    return parallel or largest < PARALLEL_MIN_MACS


def _configured(default: int) -> int:
    """MINIGRAD_NUM_THREADS when set (a positive integer), else the library's count."""
    text = os.environ.get("MINIGRAD_NUM_THREADS", "")
    return int(text) if text.isdigit() and int(text) > 0 else default


def one_thread() -> None:
    """Limit the kernels' BLAS to one thread (before a kernel with small products)."""
    for lib in _found or ():
        lib.set_num_threads(1)


def restore() -> None:
    """Give the kernels' BLAS its configured thread count back (after such a kernel)."""
    for lib, count in zip(_found or (), _defaults, strict=True):
        lib.set_num_threads(count)


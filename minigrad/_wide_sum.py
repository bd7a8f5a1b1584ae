"""Float64 sums of large float32 (float16) arrays over their leading axes, compiled.

numpy's ``np.add.reduce(x, axis=0, dtype=np.float64)`` casts through small buffers: at
1024x1024 float32 it takes 0.24 ms against 0.06 ms for a float32 sum. The eager
reductions accumulate low-precision floats in float64 (accurate at a large offset), so the
composed BatchNorm's six reductions over the batch axis cost ~1 ms there. This kernel does
the same float64 accumulation in 0.04 ms: rows are converted and added four at a time
(pairwise) into one float64 accumulator row. ``ops.wide_sum`` calls it for float32 arrays
of at least ``ops.WIDE_SUM_MIN_ELEMENTS`` elements only, so small eager work never imports
Numba; compiled once and cached on disk (``cache=True``).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=False)
def sum_rows(x: np.ndarray) -> np.ndarray:
    """sum(x[i, :] for i) in float64 for a C-contiguous 2-D array (four rows per sweep)."""
    rows, cols = x.shape
    total = np.zeros(cols)
    i = 0
    while i + 4 <= rows:
        for j in range(cols):
            total[j] += ((np.float64(x[i, j]) + np.float64(x[i + 1, j]))
                         + (np.float64(x[i + 2, j]) + np.float64(x[i + 3, j])))
        i += 4
    for k in range(i, rows):
        for j in range(cols):
            total[j] += np.float64(x[k, j])
    return total

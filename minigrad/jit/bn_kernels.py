"""Hand-written Numba kernels for the fused BatchNorm rows on row-major (N, C) arrays.

The JIT lowers ``normalize``, ``batch_norm`` and ``batch_norm_dx`` of a 2-D input to calls
of these functions (inputs with more axes keep the generic lowering). Per channel c, over
the N rows, with s = 1 / sqrt(var + eps):

    stats      one read of x: per-column shifted sums, shift k = x[0, c], d = x - k,
               S1 = sum(d), S2 = sum(d*d) (float64);  mean = k + S1/N,
               var = S2/N - (S1/N)^2  (stable at a large offset: d is small)
    apply      out = (x - mean) * (w s) + b                       (normalize: w = 1, b = 0)
    grad sums  one read of g and x: sum(g), sum(g * xhat) = s * sum(g * (x - mean))
    dx         dx = w s (g - mean(g) - xhat mean(g xhat))
                  = A g + B (x - mean) + C0,  A = w s, B = -w s^2 sum(g xhat)/N,
                                              C0 = -w s sum(g)/N

Sums accumulate in float64 in per-column accumulator rows, so the inner loop runs along a
contiguous row. The drivers ``stats``, ``apply``, ... split arrays of at least
``PARALLEL_MIN_ELEMENTS`` into T row blocks run by ``prange``, each with a private
accumulator row, combined after the loop; the generated code calls the ``*_serial``
twins (no prange: much cheaper to compile) for smaller arrays. ``fastmath`` is off;
float32 and float64.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange
from numba.np.ufunc.parallel import _launch_threads

# A generated kernel links these prange drivers into its own cached machine code; loaded from
# the disk cache in a fresh process, that code needs the threading layer's symbols
# (``allocate_sched``...) which Numba only provides once its threads are launched.
_launch_threads()

PARALLEL_MIN_ELEMENTS = 1 << 16
# Only explicit prange loops run in parallel (as in the generated kernels).
_PARALLEL = {"prange": True, "comprehension": False, "reduction": False, "setitem": False,
             "numpy": False, "stencil": False, "fusion": False, "inplace_binop": False}
_SERIAL = {"cache": True, "fastmath": False, "error_model": "numpy", "nogil": True}
# The helpers and row bodies below are inlined into each driver at the Numba-IR level
# (inline="always"): a dozen separately compiled functions cost ~0.2 s of compile time each.
_DRIVER = dict(_SERIAL, parallel=_PARALLEL)


# ----------------------------------------------------------------- row-block bodies
@numba.njit(inline="always", **_SERIAL)
def _moments_rows(x, r0, r1, shift, acc):
    """acc[0, c] += sum(x[i, c] - shift[c]), acc[1, c] += sum((x[i, c] - shift[c])^2).

    Four rows per sweep of the accumulator row (a quarter of its loads and stores)."""
    channels = x.shape[1]
    s1 = np.zeros(channels)
    s2 = np.zeros(channels)
    i = r0
    while i + 4 <= r1:
        for c in range(channels):
            d0 = np.float64(x[i, c]) - shift[c]
            d1 = np.float64(x[i + 1, c]) - shift[c]
            d2 = np.float64(x[i + 2, c]) - shift[c]
            d3 = np.float64(x[i + 3, c]) - shift[c]
            s1[c] += (d0 + d1) + (d2 + d3)
            s2[c] += (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3)
        i += 4
    for j in range(i, r1):
        for c in range(channels):
            d = np.float64(x[j, c]) - shift[c]
            s1[c] += d
            s2[c] += d * d
    for c in range(channels):  # explicit loops: array expressions cost compile time
        acc[0, c] += s1[c]
        acc[1, c] += s2[c]


@numba.njit(inline="always", **_SERIAL)
def _apply_rows(x, mean, scale, shift, out, r0, r1):
    """out[i, c] = (x[i, c] - mean[c]) * scale[c] + shift[c]."""
    channels = x.shape[1]
    for i in range(r0, r1):
        for c in range(channels):
            out[i, c] = (x[i, c] - mean[c]) * scale[c] + shift[c]


@numba.njit(inline="always", **_SERIAL)
def _grad_sums_rows(g, x, mean, r0, r1, acc):
    """acc[0, c] += sum(g), acc[1, c] += sum(g * (x - mean)) over rows r0..r1 (four rows
    per sweep of the accumulator row)."""
    channels = x.shape[1]
    sg = np.zeros(channels)
    sgd = np.zeros(channels)
    i = r0
    while i + 4 <= r1:
        for c in range(channels):
            g0 = np.float64(g[i, c])
            g1 = np.float64(g[i + 1, c])
            g2 = np.float64(g[i + 2, c])
            g3 = np.float64(g[i + 3, c])
            sg[c] += (g0 + g1) + (g2 + g3)
            sgd[c] += ((g0 * np.float64(x[i, c] - mean[c])
                        + g1 * np.float64(x[i + 1, c] - mean[c]))
                       + (g2 * np.float64(x[i + 2, c] - mean[c])
                          + g3 * np.float64(x[i + 3, c] - mean[c])))
        i += 4
    for j in range(i, r1):
        for c in range(channels):
            gj = np.float64(g[j, c])
            sg[c] += gj
            sgd[c] += gj * np.float64(x[j, c] - mean[c])
    for c in range(channels):  # explicit loops: array expressions cost compile time
        acc[0, c] += sg[c]
        acc[1, c] += sgd[c]


@numba.njit(inline="always", **_SERIAL)
def _apply_sums_rows(x, mean, scale, shift, g, out, r0, r1, acc):
    """_apply_rows and _grad_sums_rows in one sweep over x (and g)."""
    channels = x.shape[1]
    sg = np.zeros(channels)
    sgd = np.zeros(channels)
    i = r0
    while i + 2 <= r1:
        for c in range(channels):
            d0 = x[i, c] - mean[c]
            d1 = x[i + 1, c] - mean[c]
            out[i, c] = d0 * scale[c] + shift[c]
            out[i + 1, c] = d1 * scale[c] + shift[c]
            g0 = np.float64(g[i, c])
            g1 = np.float64(g[i + 1, c])
            sg[c] += g0 + g1
            sgd[c] += g0 * np.float64(d0) + g1 * np.float64(d1)
        i += 2
    for j in range(i, r1):
        for c in range(channels):
            d = x[j, c] - mean[c]
            out[j, c] = d * scale[c] + shift[c]
            gj = np.float64(g[j, c])
            sg[c] += gj
            sgd[c] += gj * np.float64(d)
    for c in range(channels):  # explicit loops: array expressions cost compile time
        acc[0, c] += sg[c]
        acc[1, c] += sgd[c]


@numba.njit(inline="always", **_SERIAL)
def _dx_rows(g, x, mean, a, b, c0, out, r0, r1):
    """out[i, c] = a[c] g[i, c] + b[c] (x[i, c] - mean[c]) + c0[c]."""
    channels = x.shape[1]
    for i in range(r0, r1):
        for c in range(channels):
            out[i, c] = a[c] * g[i, c] + b[c] * (x[i, c] - mean[c]) + c0[c]


@numba.njit(inline="always", **_SERIAL)
def _row(st, k):
    """A copy of row k of a (rows, C) array (a plain loop: cheaper to compile than .copy())."""
    out = np.empty(st.shape[1], st.dtype)
    for c in range(st.shape[1]):
        out[c] = st[k, c]
    return out


@numba.njit(inline="always", **_SERIAL)
def _blocks(x, threads):
    """How many row blocks: ``threads`` for large arrays, else 1 (serial)."""
    if threads > 1 and x.size >= PARALLEL_MIN_ELEMENTS and x.shape[0] >= threads:
        return threads
    return 1


# ------------------------------------------------------------- per-channel helpers
@numba.njit(inline="always", **_SERIAL)
def _shift(x):
    """The first row in float64 (the shift of the one-pass sums)."""
    shift = np.zeros(x.shape[1])
    if x.shape[0] > 0:
        for c in range(x.shape[1]):
            shift[c] = x[0, c]
    return shift


@numba.njit(inline="always", **_SERIAL)
def _finish_stats(acc, shift, n, eps, x):
    """(3, C) in x's dtype from the private rows: mean = k + S1/N, s, var = S2/N - (S1/N)^2."""
    channels = shift.shape[0]
    out = np.empty((3, channels), x.dtype)
    for c in range(channels):
        s1 = 0.0
        s2 = 0.0
        for t in range(acc.shape[0]):
            s1 += acc[t, 0, c]
            s2 += acc[t, 1, c]
        m = s1 / n
        var = max(s2 / n - m * m, 0.0)
        out[0, c] = shift[c] + m
        out[1, c] = 1.0 / np.sqrt(var + eps)
        out[2, c] = var
    return out


@numba.njit(inline="always", **_SERIAL)
def _affine(st, w, b, x):
    """(mean, w s, b) per channel in x's dtype: out = (x - mean) * (w s) + b."""
    channels = x.shape[1]
    scale = np.empty(channels, x.dtype)
    shift = np.empty(channels, x.dtype)
    for c in range(channels):
        scale[c] = w[c] * st[1, c]
        shift[c] = b[c]
    return _row(st, 0), scale, shift


@numba.njit(inline="always", **_SERIAL)
def _combine_sums(acc, st):
    """The private rows added up: (sum(g), s * sum(g * (x - mean))) per channel."""
    channels = acc.shape[2]
    out = np.zeros((2, channels))
    for t in range(acc.shape[0]):
        for c in range(channels):
            out[0, c] += acc[t, 0, c]
            out[1, c] += acc[t, 1, c]
    for c in range(channels):
        out[1, c] *= np.float64(st[1, c])
    return out


@numba.njit(inline="always", **_SERIAL)
def _dx_coefficients(st, sums, w, n, x):
    """A = w s, B = -w s^2 sum(g xhat)/N, C0 = -w s sum(g)/N per channel, x's dtype."""
    channels = x.shape[1]
    a = np.empty(channels, x.dtype)
    b = np.empty(channels, x.dtype)
    c0 = np.empty(channels, x.dtype)
    for c in range(channels):
        ws = np.float64(w[c]) * np.float64(st[1, c])
        a[c] = ws
        b[c] = -ws * np.float64(st[1, c]) * sums[1, c] / n
        c0[c] = -ws * sums[0, c] / n
    return a, b, c0


# ---------------------------------------------------------------- serial drivers
# The generated code calls these for arrays below PARALLEL_MIN_ELEMENTS: no prange, so they
# compile in a fraction of the parallel drivers' time. ``threads`` is ignored.
@numba.njit(**_SERIAL)
def stats_serial(x: np.ndarray, eps: float, threads: int) -> np.ndarray:
    """(3, C) array in x's dtype: rows mean, s = 1/sqrt(var + eps), var (biased)."""
    shift = _shift(x)
    acc = np.zeros((1, 2, x.shape[1]))
    _moments_rows(x, 0, x.shape[0], shift, acc[0])
    return _finish_stats(acc, shift, x.shape[0], eps, x)


@numba.njit(**_SERIAL)
def apply_serial(x: np.ndarray, st: np.ndarray, w: np.ndarray, b: np.ndarray,
                 out: np.ndarray, threads: int) -> np.ndarray:
    """out = (x - mean) * (w s) + b, written into ``out`` (returned)."""
    mean, scale, shift = _affine(st, w, b, x)
    _apply_rows(x, mean, scale, shift, out, 0, x.shape[0])
    return out


@numba.njit(**_SERIAL)
def normalize_serial(x: np.ndarray, st: np.ndarray, out: np.ndarray,
                     threads: int) -> np.ndarray:
    """out = xhat = (x - mean) * s."""
    _apply_rows(x, _row(st, 0), _row(st, 1), np.zeros(x.shape[1], x.dtype), out, 0,
                x.shape[0])
    return out


@numba.njit(**_SERIAL)
def grad_sums_serial(g: np.ndarray, x: np.ndarray, st: np.ndarray,
                     threads: int) -> np.ndarray:
    """(2, C) float64: rows sum(g) and sum(g * xhat), per channel."""
    acc = np.zeros((1, 2, x.shape[1]))
    _grad_sums_rows(g, x, _row(st, 0), 0, x.shape[0], acc[0])
    return _combine_sums(acc, st)


@numba.njit(**_SERIAL)
def apply_grad_sums_serial(x: np.ndarray, st: np.ndarray, w: np.ndarray, b: np.ndarray,
                           g: np.ndarray, out: np.ndarray, threads: int) -> np.ndarray:
    """``apply`` into ``out`` and ``grad_sums`` (returned) in one pass over x."""
    mean, scale, shift = _affine(st, w, b, x)
    acc = np.zeros((1, 2, x.shape[1]))
    _apply_sums_rows(x, mean, scale, shift, g, out, 0, x.shape[0], acc[0])
    return _combine_sums(acc, st)


@numba.njit(**_SERIAL)
def dx_serial(g: np.ndarray, x: np.ndarray, st: np.ndarray, sums: np.ndarray, w: np.ndarray,
              out: np.ndarray, threads: int) -> np.ndarray:
    """dx = w s (g - sum(g)/N - xhat sum(g xhat)/N), written into ``out`` (returned)."""
    a, b, c0 = _dx_coefficients(st, sums, w, x.shape[0], x)
    _dx_rows(g, x, _row(st, 0), a, b, c0, out, 0, x.shape[0])
    return out


# -------------------------------------------------------------- parallel drivers
# T row blocks under prange, each with private accumulator rows (one block, i.e. serial,
# when the array is small or T == 1).
@numba.njit(**_DRIVER)
def stats(x: np.ndarray, eps: float, threads: int) -> np.ndarray:
    """As ``stats_serial``, in row blocks."""
    n = x.shape[0]
    shift = _shift(x)
    blocks = _blocks(x, threads)
    acc = np.zeros((blocks, 2, x.shape[1]))
    for t in prange(blocks):
        _moments_rows(x, t * n // blocks, (t + 1) * n // blocks, shift, acc[t])
    return _finish_stats(acc, shift, n, eps, x)


@numba.njit(**_DRIVER)
def apply(x: np.ndarray, st: np.ndarray, w: np.ndarray, b: np.ndarray, out: np.ndarray,
          threads: int) -> np.ndarray:
    """As ``apply_serial``, in row blocks."""
    n = x.shape[0]
    mean, scale, shift = _affine(st, w, b, x)
    blocks = _blocks(x, threads)
    for t in prange(blocks):
        _apply_rows(x, mean, scale, shift, out, t * n // blocks, (t + 1) * n // blocks)
    return out


@numba.njit(**_DRIVER)
def normalize(x: np.ndarray, st: np.ndarray, out: np.ndarray, threads: int) -> np.ndarray:
    """As ``normalize_serial``, in row blocks."""
    n = x.shape[0]
    mean, scale = _row(st, 0), _row(st, 1)
    shift = np.zeros(x.shape[1], x.dtype)
    blocks = _blocks(x, threads)
    for t in prange(blocks):
        _apply_rows(x, mean, scale, shift, out, t * n // blocks, (t + 1) * n // blocks)
    return out


@numba.njit(**_DRIVER)
def grad_sums(g: np.ndarray, x: np.ndarray, st: np.ndarray, threads: int) -> np.ndarray:
    """As ``grad_sums_serial``, in row blocks with private accumulator rows."""
    n = x.shape[0]
    mean = _row(st, 0)
    blocks = _blocks(x, threads)
    acc = np.zeros((blocks, 2, x.shape[1]))
    for t in prange(blocks):
        _grad_sums_rows(g, x, mean, t * n // blocks, (t + 1) * n // blocks, acc[t])
    return _combine_sums(acc, st)


@numba.njit(**_DRIVER)
def apply_grad_sums(x: np.ndarray, st: np.ndarray, w: np.ndarray, b: np.ndarray,
                    g: np.ndarray, out: np.ndarray, threads: int) -> np.ndarray:
    """``apply`` into ``out`` and ``grad_sums`` (returned) in one pass: x is read once for
    both when the upstream gradient g is known before the forward output is written."""
    n = x.shape[0]
    mean, scale, shift = _affine(st, w, b, x)
    blocks = _blocks(x, threads)
    acc = np.zeros((blocks, 2, x.shape[1]))
    for t in prange(blocks):
        _apply_sums_rows(x, mean, scale, shift, g, out, t * n // blocks,
                         (t + 1) * n // blocks, acc[t])
    return _combine_sums(acc, st)


@numba.njit(**_DRIVER)
def dx(g: np.ndarray, x: np.ndarray, st: np.ndarray, sums: np.ndarray, w: np.ndarray,
       out: np.ndarray, threads: int) -> np.ndarray:
    """As ``dx_serial``, in row blocks."""
    n = x.shape[0]
    a, b, c0 = _dx_coefficients(st, sums, w, n, x)
    mean = _row(st, 0)
    blocks = _blocks(x, threads)
    for t in prange(blocks):
        _dx_rows(g, x, mean, a, b, c0, out, t * n // blocks, (t + 1) * n // blocks)
    return out

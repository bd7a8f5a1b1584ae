"""The Numba bodies of the fused BatchNorm kernels, run by ``bn_kernels.py``'s drivers.

A *row body* computes one pass over rows r0..r1 of a row-major (N, C) array, adding
float64 per-column sums into accumulator rows (the formulas are in ``bn_kernels``):

    _moments_rows       S1 = sum(x - k), S2 = sum((x - k)^2), shift k = x[0, c]
    _apply_rows         out = (x - mean) * scale + shift (coefficient rows)
    _grad_sums_rows     sum(g), sum(g * (x - mean))
    _dx_rows            dx = A ((g + C0) + B (x - mean))
    _moments_grad_rows  the moments plus G = sum(g) and GD = sum(g (x - k)), one sweep
    _apply_dx_rows      out and dx, one sweep

The *per-channel helpers* turn the sums into the statistics (mean, s = 1 / sqrt(var +
eps), var) and into the coefficient rows the apply and dx bodies read. The helpers are
``inline="always"``; the bodies are compiled once per dtype. ``fastmath`` is off. Private
to ``bn_kernels``, which imports them.
"""

from __future__ import annotations

import numba
import numpy as np

# No C-callable (cfunc) wrapper: nothing calls these through one.
SERIAL = {"cache": True, "fastmath": False, "error_model": "numpy", "nogil": True,
          "no_cfunc_wrapper": True}
INLINE = dict(SERIAL, inline="always")

# ----------------------------------------------------------------- row-block bodies
# Each is compiled once per dtype for the serial twins and the drivers (and once more inside
# its block's cfunc when a process first runs that pass threaded). Jitted code passes r0 as
# ``np.intp(0)``, not a literal 0: a literal argument would compile a second copy of the
# body specialised on it. ``acc`` is the block's own (2 or 4, C) float64 accumulator rows,
# zeroed by the driver: the sums go straight into them.
@numba.njit(**SERIAL)
def _moments_rows(x, r0, r1, shift, acc):
    """acc[0, c] += sum(x[i, c] - shift[c]), acc[1, c] += sum((x[i, c] - shift[c])^2).

    Four rows per sweep of the accumulator row (a quarter of its loads and stores)."""
    channels = x.shape[1]
    s1, s2 = acc[0], acc[1]
    i = r0
    while i + 4 <= r1:
        for c in range(channels):
            k = shift[c]  # one load per column: less code to lower
            d0 = np.float64(x[i, c]) - k
            d1 = np.float64(x[i + 1, c]) - k
            d2 = np.float64(x[i + 2, c]) - k
            d3 = np.float64(x[i + 3, c]) - k
            s1[c] += (d0 + d1) + (d2 + d3)
            s2[c] += (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3)
        i += 4
    for j in range(i, r1):
        for c in range(channels):
            d = np.float64(x[j, c]) - shift[c]
            s1[c] += d
            s2[c] += d * d


@numba.njit(**SERIAL)
def _apply_rows(x, coef, out, r0, r1):
    """out[i, c] = (x[i, c] - mean[c]) * scale[c] + shift[c]; coef rows mean, scale, shift."""
    channels = x.shape[1]
    mean, scale, shift = coef[0], coef[1], coef[2]
    for i in range(r0, r1):
        for c in range(channels):
            out[i, c] = (x[i, c] - mean[c]) * scale[c] + shift[c]


@numba.njit(**SERIAL)
def _grad_sums_rows(g, x, coef, r0, r1, acc):
    """acc[0, c] += sum(g), acc[1, c] += sum(g * (x - mean)) over rows r0..r1, mean = coef[0]
    (four rows per sweep of the accumulator row)."""
    channels = x.shape[1]
    mean = coef[0]
    sg, sgd = acc[0], acc[1]
    i = r0
    while i + 4 <= r1:
        for c in range(channels):
            g0 = np.float64(g[i, c])
            g1 = np.float64(g[i + 1, c])
            g2 = np.float64(g[i + 2, c])
            g3 = np.float64(g[i + 3, c])
            m = mean[c]
            sg[c] += (g0 + g1) + (g2 + g3)
            sgd[c] += ((g0 * np.float64(x[i, c] - m) + g1 * np.float64(x[i + 1, c] - m))
                       + (g2 * np.float64(x[i + 2, c] - m) + g3 * np.float64(x[i + 3, c] - m)))
        i += 4
    for j in range(i, r1):
        for c in range(channels):
            gj = np.float64(g[j, c])
            sg[c] += gj
            sgd[c] += gj * np.float64(x[j, c] - mean[c])


@numba.njit(**SERIAL)
def _dx_rows(g, x, coef, out, r0, r1):
    """out[i, c] = a[c] ((g[i, c] + c0[c]) + b[c] (x[i, c] - mean[c])); coef rows mean, a,
    b, c0."""
    channels = x.shape[1]
    mean, a, b, c0 = coef[0], coef[1], coef[2], coef[3]
    for i in range(r0, r1):
        for c in range(channels):
            out[i, c] = a[c] * ((g[i, c] + c0[c]) + b[c] * (x[i, c] - mean[c]))


@numba.njit(**SERIAL)
def _moments_grad_rows(x, g, r0, r1, shift, acc):
    """_moments_rows into acc[0:2] and, in the same sweep, acc[2, c] += sum(g),
    acc[3, c] += sum(g * (x - shift)) (four rows per sweep of the accumulator row)."""
    channels = x.shape[1]
    s1, s2, sg, sgd = acc[0], acc[1], acc[2], acc[3]
    i = r0
    while i + 4 <= r1:
        for c in range(channels):
            k = shift[c]
            d0 = np.float64(x[i, c]) - k
            d1 = np.float64(x[i + 1, c]) - k
            d2 = np.float64(x[i + 2, c]) - k
            d3 = np.float64(x[i + 3, c]) - k
            g0 = np.float64(g[i, c])
            g1 = np.float64(g[i + 1, c])
            g2 = np.float64(g[i + 2, c])
            g3 = np.float64(g[i + 3, c])
            s1[c] += (d0 + d1) + (d2 + d3)
            s2[c] += (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3)
            sg[c] += (g0 + g1) + (g2 + g3)
            sgd[c] += (g0 * d0 + g1 * d1) + (g2 * d2 + g3 * d3)
        i += 4
    for j in range(i, r1):
        for c in range(channels):
            d = np.float64(x[j, c]) - shift[c]
            gj = np.float64(g[j, c])
            s1[c] += d
            s2[c] += d * d
            sg[c] += gj
            sgd[c] += gj * d


@numba.njit(**SERIAL)
def _apply_dx_rows(x, g, coef, out, dx, r0, r1):
    """out = (x - mean) * scale + shift and dx = a ((g + c0) + b (x - mean)) in one sweep;
    coef rows mean, scale, shift, a, b, c0."""
    channels = x.shape[1]
    mean, scale, shift, a, b, c0 = coef[0], coef[1], coef[2], coef[3], coef[4], coef[5]
    for i in range(r0, r1):
        for c in range(channels):
            d = x[i, c] - mean[c]
            out[i, c] = d * scale[c] + shift[c]
            dx[i, c] = a[c] * ((g[i, c] + c0[c]) + b[c] * d)


# ------------------------------------------------------------- per-channel helpers
@numba.njit(**INLINE)
def _shift(x):
    """The first row in float64 (the shift of the one-pass sums)."""
    shift = np.empty(x.shape[1])
    for c in range(x.shape[1]):
        shift[c] = x[0, c] if x.shape[0] > 0 else 0.0
    return shift


@numba.njit(**INLINE)
def _finish_stats(acc, shift, n, eps, out):
    """``out`` (3, C) from the private rows: mean = k + S1/N, s, var = S2/N - (S1/N)^2."""
    channels = shift.shape[0]
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


@numba.njit(**INLINE)
def _coefficients(rows, x):
    """An empty (rows, C) array in x's dtype for per-channel coefficient rows."""
    return np.empty((rows, x.shape[1]), x.dtype)


@numba.njit(**INLINE)
def _affine(st, w, b, x):
    """Rows mean, w s, b in x's dtype: out = (x - mean) * (w s) + b."""
    coef = _coefficients(3, x)
    for c in range(x.shape[1]):
        coef[0, c] = st[0, c]
        coef[1, c] = w[c] * st[1, c]
        coef[2, c] = b[c]
    return coef


@numba.njit(**INLINE)
def _normalizer(st, x):
    """Rows mean, s, 0 in x's dtype: xhat = (x - mean) * s + 0 (``_affine`` with w = 1,
    b = 0)."""
    return _affine(st, np.ones(x.shape[1], x.dtype), np.zeros(x.shape[1], x.dtype), x)


@numba.njit(**INLINE)
def _means(st, x):
    """Row mean in x's dtype."""
    coef = _coefficients(1, x)
    for c in range(x.shape[1]):
        coef[0, c] = st[0, c]
    return coef


@numba.njit(**INLINE)
def _combine_sums(acc, st):
    """The private rows added up: (sum(g), s * sum(g * (x - mean))) per channel, float64."""
    channels = acc.shape[2]
    out = np.empty((1, 2, channels))[0]  # (2, C); a 3-tuple shape reuses acc's compiled code
    for c in range(channels):
        sg = 0.0
        sgd = 0.0
        for t in range(acc.shape[0]):
            sg += acc[t, 0, c]
            sgd += acc[t, 1, c]
        out[0, c] = sg
        out[1, c] = sgd * np.float64(st[1, c])
    return out


@numba.njit(**INLINE)
def _finish_grad_sums(acc, st, n):
    """(sum(g), s * sum(g * (x - mean))) per channel, float64, from the shifted sums of
    ``_moments_grad_rows``: sum(g (x - mean)) = sum(g d) - (S1/N) sum(g), d = x - k."""
    channels = acc.shape[2]
    out = np.empty((1, 2, channels))[0]  # (2, C) as in _combine_sums
    for c in range(channels):
        s1 = 0.0
        sg = 0.0
        sgd = 0.0
        for t in range(acc.shape[0]):
            s1 += acc[t, 0, c]
            sg += acc[t, 2, c]
            sgd += acc[t, 3, c]
        out[0, c] = sg
        out[1, c] = (sgd - s1 / n * sg) * np.float64(st[1, c])
    return out


@numba.njit(**INLINE)
def _apply_dx_coefficients(st, w, b, sums, wd, n, x):
    """Rows mean, w s, b (the forward apply) and A, B, C0 of dx with the weight ``wd``."""
    affine, dx = _affine(st, w, b, x), _dx_coefficients(st, sums, wd, n, x)
    coef = _coefficients(6, x)
    for c in range(x.shape[1]):  # element loops: a slice assignment would compile Numba's
        for r in range(3):  # shape-mismatch error message (1.8 s of a cold compile)
            coef[r, c] = affine[r, c]
            coef[3 + r, c] = dx[1 + r, c]
    return coef


@numba.njit(**INLINE)
def _dx_coefficients(st, sums, w, n, x):
    """Rows mean, A = w s, B = -s sum(g xhat)/N, C0 = -sum(g)/N in x's dtype."""
    coef = _coefficients(4, x)
    for c in range(x.shape[1]):
        coef[0, c] = st[0, c]
        coef[1, c] = np.float64(w[c]) * np.float64(st[1, c])
        coef[2, c] = -np.float64(st[1, c]) * sums[1, c] / n
        coef[3, c] = -sums[0, c] / n
    return coef

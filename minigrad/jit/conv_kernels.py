"""Hand-written Numba kernels for the convolution rows and the max-pool index row.

The JIT keeps ``conv2d``, ``conv2d_input_grad``, ``conv2d_weight_grad`` and
``max_pool2d_index`` as calls (lower.py, emit_calls.py); the generated code allocates the
result and calls these functions, which write it. With s the stride, d the dilation,
(pt, pl) the top and left padding, G groups of Cg input and Og output channels:

    columns       cols[(c, a, b), (n, i, j)] = x[n, c0 + c, s i + d a - pt, s j + d b - pl]
                  (0 where that lies in the padding): one group's windows, as a matrix
    conv2d        out[n, o, i, j] = (W_k @ cols)[o, (n, i, j)],  W_k = w[group k] as (Og, Cg kh kw)
    weight_grad   dw[group k] = G_k @ cols^T,   G_k[o, (n, i, j)] = g[n, k Og + o, i, j]
    input_grad    dx = the columns of W_k^T @ G_k added back to where they were read
    max index     per window, PyTorch's CPU rule: start at the first element inside the
                  input, move to each later one that is greater or NaN

The products are ``np.dot`` (BLAS) in the result's dtype, as eager's ``tensordot`` is; the
columns of one group are built once per call. Serial: the toy sizes these serve are small
and the machine's cores are shared.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _columns(x, c0, cg, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, cols):
    """cols[(c, a, b), (n, i, j)] = x[n, c0 + c, ...] of that window element, 0 in padding."""
    n_batch, _, height, width = x.shape
    for c in range(cg):
        for a in range(kh):
            for b in range(kw):
                r = (c * kh + a) * kw + b
                for n in range(n_batch):
                    for i in range(oh):
                        h = i * sh + a * dh - pt
                        base = (n * oh + i) * ow
                        for j in range(ow):
                            col = j * sw + b * dw - pl
                            if 0 <= h < height and 0 <= col < width:
                                cols[r, base + j] = x[n, c0 + c, h, col]
                            else:
                                cols[r, base + j] = 0
    return cols


@numba.njit(cache=True, nogil=True)
def _group_rows(g, o0, og, rows):
    """rows[o, (n, i, j)] = g[n, o0 + o, i, j]."""
    n_batch, _, oh, ow = g.shape
    for o in range(og):
        for n in range(n_batch):
            for i in range(oh):
                for j in range(ow):
                    rows[o, (n * oh + i) * ow + j] = g[n, o0 + o, i, j]
    return rows


@numba.njit(cache=True, nogil=True)
def _weight_matrix(w, o0, og, out_dtype_like):
    """w[o0:o0 + og] as a contiguous (og, Cg kh kw) matrix in the result's dtype."""
    cg, kh, kw = w.shape[1], w.shape[2], w.shape[3]
    matrix = np.empty((og, cg * kh * kw), out_dtype_like.dtype)
    for o in range(og):
        for c in range(cg):
            for a in range(kh):
                for b in range(kw):
                    matrix[o, (c * kh + a) * kw + b] = w[o0 + o, c, a, b]
    return matrix


@numba.njit(cache=True, nogil=True)
def conv2d(x, w, out, sh, sw, pt, pl, dh, dw, groups):
    """out = conv2d(x, w) (out is allocated by the caller, float32 or float64)."""
    n_batch = x.shape[0]
    n_out, cg, kh, kw = w.shape
    oh, ow = out.shape[2], out.shape[3]
    og = n_out // groups
    cols = np.empty((cg * kh * kw, n_batch * oh * ow), out.dtype)
    for k in range(groups):
        _columns(x, k * cg, cg, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, cols)
        product = np.dot(_weight_matrix(w, k * og, og, out), cols)
        for o in range(og):
            for n in range(n_batch):
                for i in range(oh):
                    for j in range(ow):
                        out[n, k * og + o, i, j] = product[o, (n * oh + i) * ow + j]
    return out


@numba.njit(cache=True, nogil=True)
def conv2d_weight_grad(x, g, out, sh, sw, pt, pl, dh, dw, groups):
    """out (O, C/groups, kh, kw) = the correlation of x's windows with g."""
    n_batch = x.shape[0]
    n_out, cg, kh, kw = out.shape
    oh, ow = g.shape[2], g.shape[3]
    og = n_out // groups
    cols = np.empty((cg * kh * kw, n_batch * oh * ow), out.dtype)
    rows = np.empty((og, n_batch * oh * ow), out.dtype)
    for k in range(groups):
        _columns(x, k * cg, cg, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, cols)
        _group_rows(g, k * og, og, rows)
        product = np.dot(rows, cols.T)
        for o in range(og):
            for c in range(cg):
                for a in range(kh):
                    for b in range(kw):
                        out[k * og + o, c, a, b] = product[o, (c * kh + a) * kw + b]
    return out


@numba.njit(cache=True, nogil=True)
def conv2d_input_grad(g, w, out, sh, sw, pt, pl, dh, dw, groups):
    """out (N, C, H, W) = the transposed convolution of g with w."""
    n_batch, _, height, width = out.shape
    n_out, cg, kh, kw = w.shape
    oh, ow = g.shape[2], g.shape[3]
    og = n_out // groups
    out[:] = 0
    rows = np.empty((og, n_batch * oh * ow), out.dtype)
    for k in range(groups):
        _group_rows(g, k * og, og, rows)
        matrix = np.ascontiguousarray(_weight_matrix(w, k * og, og, out).T)
        cols = np.dot(matrix, rows)  # (Cg kh kw, N oh ow)
        for c in range(cg):
            for a in range(kh):
                for b in range(kw):
                    r = (c * kh + a) * kw + b
                    for n in range(n_batch):
                        for i in range(oh):
                            h = i * sh + a * dh - pt
                            if h < 0 or h >= height:
                                continue
                            base = (n * oh + i) * ow
                            for j in range(ow):
                                col = j * sw + b * dw - pl
                                if 0 <= col < width:
                                    out[n, k * cg + c, h, col] += cols[r, base + j]
    return out


@numba.njit(cache=True, nogil=True)
def max_pool2d_index(x, out, kh, kw, sh, sw, pt, pl, dh, dw):
    """out[n, c, i, j] = h * W + w of the window's maximum (PyTorch's rule, see above)."""
    n_batch, channels, height, width = x.shape
    oh, ow = out.shape[2], out.shape[3]
    for n in range(n_batch):
        for c in range(channels):
            for i in range(oh):
                for j in range(ow):
                    best = x[n, c, 0, 0]
                    where = -1
                    for a in range(kh):
                        h = i * sh + a * dh - pt
                        if h < 0 or h >= height:
                            continue
                        for b in range(kw):
                            col = j * sw + b * dw - pl
                            if col < 0 or col >= width:
                                continue
                            value = x[n, c, h, col]
                            if where < 0 or value > best or np.isnan(value):
                                best = value
                                where = h * width + col
                    out[n, c, i, j] = where
    return out

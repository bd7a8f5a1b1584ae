"""Hand-written Numba kernels for the convolution rows and the max-pool index row.

The JIT keeps ``conv2d``, ``conv2d_input_grad``, ``conv2d_weight_grad`` and
``max_pool2d_index`` as calls (lower.py, emit_calls.py); the generated code allocates the
result and calls these functions, which write it. Padding is never materialised: a window
element outside the input is skipped (a zero for the convolutions). With s the stride,
d the dilation, (pt, pl) the top and left padding and g(o) the group of output channel o:

    conv2d        out[n,o,i,j] = sum_{c,a,b} x[n, g(o) Cg + c, s i + d a - pt, ...] w[o,c,a,b]
    input_grad    dx[n, g(o) Cg + c, s i + d a - pt, ...] += g[n,o,i,j] w[o,c,a,b]
    weight_grad   dw[o,c,a,b] = sum_{n,i,j} g[n,o,i,j] x[n, g(o) Cg + c, s i + d a - pt, ...]
    max index     per window, PyTorch's CPU rule: start at the first element inside the
                  input, move to each later one that is greater or NaN

Sums accumulate in float64 and are written in the result's dtype (eager's float32
tensordot accumulates in float32: the two agree to float32 rounding). Serial loops: the
toy sizes these serve are small, and the machine's cores are shared.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def conv2d(x, w, out, sh, sw, pt, pl, dh, dw, groups):
    """out = conv2d(x, w) (out is allocated by the caller, any float dtype)."""
    n_batch, _, height, width = x.shape
    n_out, cg, kh, kw = w.shape
    oh, ow = out.shape[2], out.shape[3]
    og = n_out // groups
    for n in range(n_batch):
        for o in range(n_out):
            c0 = (o // og) * cg
            for i in range(oh):
                for j in range(ow):
                    acc = 0.0
                    for c in range(cg):
                        for a in range(kh):
                            h = i * sh + a * dh - pt
                            if h < 0 or h >= height:
                                continue
                            for b in range(kw):
                                col = j * sw + b * dw - pl
                                if col < 0 or col >= width:
                                    continue
                                acc += np.float64(x[n, c0 + c, h, col]) * w[o, c, a, b]
                    out[n, o, i, j] = acc
    return out


@numba.njit(cache=True, nogil=True)
def conv2d_input_grad(g, w, out, sh, sw, pt, pl, dh, dw, groups):
    """out (N, C, H, W) = the transposed convolution of g with w."""
    n_batch, _, height, width = out.shape
    n_out, cg, kh, kw = w.shape
    oh, ow = g.shape[2], g.shape[3]
    og = n_out // groups
    acc = np.zeros(out.shape, np.float64)
    for n in range(n_batch):
        for o in range(n_out):
            c0 = (o // og) * cg
            for i in range(oh):
                for j in range(ow):
                    gv = np.float64(g[n, o, i, j])
                    for c in range(cg):
                        for a in range(kh):
                            h = i * sh + a * dh - pt
                            if h < 0 or h >= height:
                                continue
                            for b in range(kw):
                                col = j * sw + b * dw - pl
                                if col < 0 or col >= width:
                                    continue
                                acc[n, c0 + c, h, col] += gv * w[o, c, a, b]
    for n in range(n_batch):
        for c in range(out.shape[1]):
            for h in range(height):
                for col in range(width):
                    out[n, c, h, col] = acc[n, c, h, col]
    return out


@numba.njit(cache=True, nogil=True)
def conv2d_weight_grad(x, g, out, sh, sw, pt, pl, dh, dw, groups):
    """out (O, C/groups, kh, kw) = the correlation of x's windows with g."""
    n_batch, _, height, width = x.shape
    n_out, cg, kh, kw = out.shape
    oh, ow = g.shape[2], g.shape[3]
    og = n_out // groups
    for o in range(n_out):
        c0 = (o // og) * cg
        for c in range(cg):
            for a in range(kh):
                for b in range(kw):
                    acc = 0.0
                    for n in range(n_batch):
                        for i in range(oh):
                            h = i * sh + a * dh - pt
                            if h < 0 or h >= height:
                                continue
                            for j in range(ow):
                                col = j * sw + b * dw - pl
                                if col < 0 or col >= width:
                                    continue
                                acc += np.float64(g[n, o, i, j]) * x[n, c0 + c, h, col]
                    out[o, c, a, b] = acc
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
                    best = -np.inf
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

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
                  = A ((g + C0) + B (x - mean)),  A = w s, B = -s sum(g xhat)/N,
                                                  C0 = -sum(g)/N
               (w s multiplies the whole bracket, summed in eager's order: an
               infinite w or s gives eager's infinities and NaNs, not inf - inf)

When the upstream gradient g is a kernel argument (known before the forward output is
written), forward and backward take two passes: ``stats_grad_sums`` adds G = sum(g) and
GD = sum(g d) to the statistics sweep (sum(g (x - mean)) = GD - (S1/N) G), and ``apply_dx``
writes out and dx in one sweep.

Sums accumulate in float64 in per-column accumulator rows, so the inner loop runs along a
contiguous row. Each pass is one *row body* (``bn_rows.py``: ``_moments_rows``, ...) over
rows r0..r1, compiled once per dtype as its own function. The drivers (``stats``, ``apply``,
...) compute the per-channel coefficients, run the body and combine the accumulator rows;
the generated code calls their ``*_serial`` twins for small arrays (always one block). For
an array of at least ``THREAD_MIN_ELEMENTS`` elements and T > 1 threads, a driver cuts the
rows into T blocks, each with private accumulator rows, and runs them through one
``numba.objmode`` hop to Python, where one ``prange`` launcher (``_launch``) calls the
pass's row body, compiled as a C callback (``cfunc``), once per block.

Why the hop and the callback: Numba compiles a parfor into four libraries (the loop body,
two gufunc wrappers, the function) and every library re-optimises and re-generates the
machine code of everything it links, so a row body inside a prange is compiled five times
over (drivers with prange inside took 8.3 s of a cold compile of fused BatchNorm forward +
backward at 1024x1024), and a launcher per pass linking its row body still ~0.5 s each.
Behind the hop nothing threaded is part of the generated kernel; the launcher receives the
row body as a function pointer, so it links nothing and is compiled once per set of
argument types (~0.35 s cold, plus ~0.1 s per pass for the callbacks), the first time a
process runs a large pass with T > 1 (or loaded from Numba's cache), never with one thread.
That compile runs in a background thread: until it is done the driver runs the same
blocks itself, one after the other (bitwise the same sums), so no call waits for it.
The drivers are ``inline="always"``: they become part of the generated kernel rather than
one more library linking (and recompiling) the bodies. ``fastmath`` is off; float32 and
float64.
"""

from __future__ import annotations

import threading
from typing import Any

import numba
import numpy as np
from numba import prange

from .bn_rows import (  # the row bodies and per-channel helpers
    INLINE,
    SERIAL,
    _affine,
    _apply_dx_coefficients,
    _apply_dx_rows,
    _apply_rows,
    _coefficients,
    _combine_sums,
    _dx_coefficients,
    _dx_rows,
    _finish_grad_sums,
    _finish_stats,
    _grad_sums_rows,
    _means,
    _moments_grad_rows,
    _moments_rows,
    _normalizer,
    _shift,
)

# Below this many elements one thread runs the whole pass (the hop to the launcher costs
# ~12 us per pass).
THREAD_MIN_ELEMENTS = 1 << 18
# Only the explicit prange loop runs in parallel.
_PRANGE = {"prange": True, "comprehension": False, "reduction": False, "setitem": False,
           "numpy": False, "stencil": False, "fusion": False, "inplace_binop": False}
_LAUNCHER = dict(SERIAL, parallel=_PRANGE)
_CFUNC = {"cache": True, "fastmath": False, "error_model": "numpy", "nopython": True}
# What one row block computes: the ``kind`` argument of ``_in_threads``.
STATS, APPLY, GRAD_SUMS, DX, STATS_SUMS, APPLY_DX = range(6)


# ------------------------------------------------------------------ row blocks in threads
# Block t is rows t N / T .. (t + 1) N / T, into acc[t]. One ``prange`` launcher runs the
# blocks of every pass, calling the pass's row body through a function pointer (a cfunc of
# one of these wrappers); see the module docstring for why.
def _block_moments(x, g, coef, shift, out, out2, acc, t, r0, r1):
    _moments_rows(x, r0, r1, shift, acc[t])


def _block_apply(x, g, coef, shift, out, out2, acc, t, r0, r1):
    _apply_rows(x, coef, out, r0, r1)


def _block_grad_sums(x, g, coef, shift, out, out2, acc, t, r0, r1):
    _grad_sums_rows(g, x, coef, r0, r1, acc[t])


def _block_dx(x, g, coef, shift, out, out2, acc, t, r0, r1):
    _dx_rows(g, x, coef, out, r0, r1)


def _block_moments_grad(x, g, coef, shift, out, out2, acc, t, r0, r1):
    _moments_grad_rows(x, g, r0, r1, shift, acc[t])


def _block_apply_dx(x, g, coef, shift, out, out2, acc, t, r0, r1):
    _apply_dx_rows(x, g, coef, out, out2, r0, r1)


# By pass (index = kind): each runs rows r0..r1 of block t (accumulator rows acc[t]).
_BLOCK_BODIES = (_block_moments, _block_apply, _block_grad_sums, _block_dx, _block_moments_grad,
                 _block_apply_dx)
# (pass, array kinds) -> the pass's body as a cfunc, once it and the launcher for its
# argument types are compiled; the passes being compiled in the background meanwhile.
_ready: dict[tuple, Any] = {}
_compiling: dict[tuple, threading.Thread] = {}
_failed: dict[tuple, Exception] = {}
# Compile a new launcher in a background thread (until it is ready the drivers run the same
# blocks one after the other, in the compiled kernel) rather than while the caller waits.
# Tests switch it off, or wait with finish_background_compiles().
COMPILE_IN_BACKGROUND = True


def _array_kinds(kind: int, arrays: tuple[np.ndarray, ...]) -> tuple:
    """What numba.typeof distinguishes among these arrays (10x faster than typeof)."""
    return (kind, *((a.dtype.char, a.ndim, a.flags.c_contiguous, a.flags.writeable)
                    for a in arrays))


def _compile_pass(key: tuple, kind: int, types: tuple) -> None:
    """The body of pass ``kind`` as a cfunc for these argument types, and the launcher for
    it (compiled, or loaded from Numba's cache); then the pass is ready. A failure is kept
    for the next call to raise."""
    intp = numba.types.intp
    try:
        body = numba.cfunc(numba.types.void(*types, intp, intp, intp),
                           **_CFUNC)(_BLOCK_BODIES[kind])
        _launch.compile((numba.typeof(body), *types))
    except Exception as error:  # raised in the caller's thread by _run_blocks
        _failed[key] = error
        return
    _ready[key] = body


def _raise_if_failed(key: tuple) -> None:
    if key in _failed:
        raise RuntimeError(f"minigrad: the threaded BatchNorm pass {key[0]} did not compile: "
                           f"{_failed[key]}") from _failed[key]


def finish_background_compiles() -> None:
    """Wait until every launcher being compiled in the background is ready."""
    for thread in list(_compiling.values()):
        thread.join()


@numba.njit(**INLINE)
def _block_rows(x, t, blocks):
    """Rows t N / T .. (t + 1) N / T of block t."""
    n = x.shape[0]
    return t * n // blocks, (t + 1) * n // blocks


@numba.njit(**_LAUNCHER)
def _launch(body, x, g, coef, shift, out, out2, acc):
    """body(..., t, first row, end row) for the acc.shape[0] blocks t, in parallel."""
    blocks = acc.shape[0]
    for block in prange(blocks):
        t = np.intp(block)  # prange's index is unsigned; the cfunc takes intp
        r0, r1 = _block_rows(x, t, blocks)  # the drivers' own partition: the same sums
        body(x, g, coef, shift, out, out2, acc, t, r0, r1)


def _run_blocks(kind: int, x: np.ndarray, g: np.ndarray, coef: np.ndarray,
                shift: np.ndarray, out: np.ndarray, out2: np.ndarray, acc: np.ndarray) -> bool:
    """The pass ``kind`` in acc.shape[0] parallel row blocks (placeholders for what it does
    not use), once its launcher is ready: True. False while the launcher compiles in the
    background: the caller runs the same blocks itself, one after the other."""
    arrays = (x, g, coef, shift, out, out2, acc)
    key = _array_kinds(kind, arrays)
    body = _ready.get(key)
    if body is None:
        _raise_if_failed(key)
        types = tuple(map(numba.typeof, arrays))
        if COMPILE_IN_BACKGROUND:
            if key not in _compiling:
                _compiling[key] = threading.Thread(
                    target=_compile_pass, args=(key, kind, types), name="minigrad-bn-launcher",
                    daemon=True)
                _compiling[key].start()
            return False
        _compile_pass(key, kind, types)
        _raise_if_failed(key)
        body = _ready[key]
    _launch(body, *arrays)
    return True


# Called from jitted code only; without nogil (objmode takes the GIL anyway, and nogil with
# objmode draws a NumbaWarning).
@numba.njit(cache=True, error_model="numpy", no_cfunc_wrapper=True, no_cpython_wrapper=True)
def _in_threads(kind, x, g, coef, shift, out, out2, acc):
    """``_run_blocks`` from jitted code (whether it ran the blocks); ``kind`` is a run-time
    value, so one compile serves every pass of a dtype."""
    with numba.objmode(ran="boolean"):
        ran = _run_blocks(kind, x, g, coef, shift, out, out2, acc)
    return ran


@numba.njit(**INLINE)
def _blocks(x, threads):
    """How many row blocks: ``threads`` for large arrays, else 1."""
    if threads > 1 and x.size >= THREAD_MIN_ELEMENTS and x.shape[0] >= threads:
        return threads
    return 1


# ---------------------------------------------------------------- serial drivers
# The generated code calls these for small arrays: one block, no thread pool. ``threads`` is
# ignored.
@numba.njit(**INLINE)
def stats_serial(x: np.ndarray, eps: float, threads: int) -> np.ndarray:
    """(3, C) array in x's dtype: rows mean, s = 1/sqrt(var + eps), var (biased)."""
    shift = _shift(x)
    acc = np.zeros((1, 2, x.shape[1]))
    _moments_rows(x, np.intp(0), x.shape[0], shift, acc[0])
    return _finish_stats(acc, shift, x.shape[0], eps, _coefficients(3, x))


@numba.njit(**INLINE)
def apply_serial(x: np.ndarray, st: np.ndarray, w: np.ndarray, b: np.ndarray,
                 out: np.ndarray, threads: int) -> np.ndarray:
    """out = (x - mean) * (w s) + b, written into ``out`` (returned)."""
    _apply_rows(x, _affine(st, w, b, x), out, np.intp(0), x.shape[0])
    return out


@numba.njit(**INLINE)
def normalize_serial(x: np.ndarray, st: np.ndarray, out: np.ndarray,
                     threads: int) -> np.ndarray:
    """out = xhat = (x - mean) * s."""
    _apply_rows(x, _normalizer(st, x), out, np.intp(0), x.shape[0])
    return out


@numba.njit(**INLINE)
def grad_sums_serial(g: np.ndarray, x: np.ndarray, st: np.ndarray,
                     threads: int) -> np.ndarray:
    """(2, C) float64: rows sum(g) and sum(g * xhat), per channel."""
    acc = np.zeros((1, 2, x.shape[1]))
    _grad_sums_rows(g, x, _means(st, x), np.intp(0), x.shape[0], acc[0])
    return _combine_sums(acc, st)


@numba.njit(**INLINE)
def dx_serial(g: np.ndarray, x: np.ndarray, st: np.ndarray, sums: np.ndarray, w: np.ndarray,
              out: np.ndarray, threads: int) -> np.ndarray:
    """dx = w s (g - sum(g)/N - xhat sum(g xhat)/N), written into ``out`` (returned)."""
    coef = _dx_coefficients(st, sums, w, x.shape[0], x)
    _dx_rows(g, x, coef, out, np.intp(0), x.shape[0])
    return out


# -------------------------------------------------------------- threaded drivers
# As the serial twins, in T row blocks when the array is large (each block with private
# accumulator rows): in parallel through the launcher, or here one after the other while
# the launcher compiles; else in one block here.
@numba.njit(**INLINE)
def stats(x: np.ndarray, eps: float, threads: int) -> np.ndarray:
    """As ``stats_serial``, in row blocks."""
    shift = _shift(x)
    blocks = _blocks(x, threads)
    acc = np.zeros((blocks, 2, x.shape[1]))
    if blocks == 1 or not _in_threads(np.intp(STATS), x, x, _coefficients(0, x), shift, x, x,
                                      acc):
        for t in range(blocks):
            r0, r1 = _block_rows(x, t, blocks)
            _moments_rows(x, r0, r1, shift, acc[t])
    return _finish_stats(acc, shift, x.shape[0], eps, _coefficients(3, x))


@numba.njit(**INLINE)
def apply(x: np.ndarray, st: np.ndarray, w: np.ndarray, b: np.ndarray, out: np.ndarray,
          threads: int) -> np.ndarray:
    """As ``apply_serial``, in row blocks."""
    return _apply_pass(x, _affine(st, w, b, x), out, threads)


@numba.njit(**INLINE)
def normalize(x: np.ndarray, st: np.ndarray, out: np.ndarray, threads: int) -> np.ndarray:
    """As ``normalize_serial``, in row blocks."""
    return _apply_pass(x, _normalizer(st, x), out, threads)


@numba.njit(**INLINE)
def _apply_pass(x: np.ndarray, coef: np.ndarray, out: np.ndarray, threads: int) -> np.ndarray:
    """out = (x - mean) * scale + shift (coef rows mean, scale, shift), in row blocks:
    ``apply`` and ``normalize`` differ only in their coefficients."""
    blocks = _blocks(x, threads)
    if blocks == 1 or not _in_threads(np.intp(APPLY), x, x, coef, np.empty(0), out, out,
                                      np.zeros((blocks, 2, 0))):
        for t in range(blocks):
            r0, r1 = _block_rows(x, t, blocks)
            _apply_rows(x, coef, out, r0, r1)
    return out


@numba.njit(**INLINE)
def grad_sums(g: np.ndarray, x: np.ndarray, st: np.ndarray, threads: int) -> np.ndarray:
    """As ``grad_sums_serial``, in row blocks with private accumulator rows."""
    coef = _means(st, x)
    blocks = _blocks(x, threads)
    acc = np.zeros((blocks, 2, x.shape[1]))
    if blocks == 1 or not _in_threads(np.intp(GRAD_SUMS), x, g, coef, np.empty(0), x, x, acc):
        for t in range(blocks):
            r0, r1 = _block_rows(x, t, blocks)
            _grad_sums_rows(g, x, coef, r0, r1, acc[t])
    return _combine_sums(acc, st)


@numba.njit(**INLINE)
def dx(g: np.ndarray, x: np.ndarray, st: np.ndarray, sums: np.ndarray, w: np.ndarray,
       out: np.ndarray, threads: int) -> np.ndarray:
    """As ``dx_serial``, in row blocks."""
    coef = _dx_coefficients(st, sums, w, x.shape[0], x)
    blocks = _blocks(x, threads)
    if blocks == 1 or not _in_threads(np.intp(DX), x, g, coef, np.empty(0), out, out,
                                      np.zeros((blocks, 2, 0))):
        for t in range(blocks):
            r0, r1 = _block_rows(x, t, blocks)
            _dx_rows(g, x, coef, out, r0, r1)
    return out


# ------------------------------------------------- forward and backward in two passes
# When g is known before the forward output is written (a kernel argument), the gradient
# sums join the statistics pass and dx the apply pass: two reads of x and g in all.
@numba.njit(**INLINE)
def stats_grad_sums_serial(x: np.ndarray, g: np.ndarray, eps: float, st: np.ndarray,
                           threads: int) -> np.ndarray:
    """``stats`` into ``st`` and ``grad_sums`` (returned) from one read of x and g."""
    shift = _shift(x)
    acc = np.zeros((1, 4, x.shape[1]))
    _moments_grad_rows(x, g, np.intp(0), x.shape[0], shift, acc[0])
    _finish_stats(acc, shift, x.shape[0], eps, st)
    return _finish_grad_sums(acc, st, x.shape[0])


@numba.njit(**INLINE)
def stats_grad_sums(x: np.ndarray, g: np.ndarray, eps: float, st: np.ndarray,
                    threads: int) -> np.ndarray:
    """As ``stats_grad_sums_serial``, in row blocks with private accumulator rows."""
    shift = _shift(x)
    blocks = _blocks(x, threads)
    acc = np.zeros((blocks, 4, x.shape[1]))
    if blocks == 1 or not _in_threads(np.intp(STATS_SUMS), x, g, _coefficients(0, x), shift,
                                      x, x, acc):
        for t in range(blocks):
            r0, r1 = _block_rows(x, t, blocks)
            _moments_grad_rows(x, g, r0, r1, shift, acc[t])
    _finish_stats(acc, shift, x.shape[0], eps, st)
    return _finish_grad_sums(acc, st, x.shape[0])


@numba.njit(**INLINE)
def apply_dx_serial(x: np.ndarray, st: np.ndarray, w: np.ndarray, b: np.ndarray,
                    g: np.ndarray, sums: np.ndarray, wd: np.ndarray, out: np.ndarray,
                    dx: np.ndarray, threads: int) -> np.ndarray:
    """``apply`` into ``out`` and ``dx`` (weight ``wd``) into ``dx`` (returned), one pass."""
    coef = _apply_dx_coefficients(st, w, b, sums, wd, x.shape[0], x)
    _apply_dx_rows(x, g, coef, out, dx, np.intp(0), x.shape[0])
    return dx


@numba.njit(**INLINE)
def apply_dx(x: np.ndarray, st: np.ndarray, w: np.ndarray, b: np.ndarray, g: np.ndarray,
             sums: np.ndarray, wd: np.ndarray, out: np.ndarray, dx: np.ndarray,
             threads: int) -> np.ndarray:
    """As ``apply_dx_serial``, in row blocks."""
    coef = _apply_dx_coefficients(st, w, b, sums, wd, x.shape[0], x)
    blocks = _blocks(x, threads)
    if blocks == 1 or not _in_threads(np.intp(APPLY_DX), x, g, coef, np.empty(0), out, dx,
                                      np.zeros((blocks, 2, 0))):
        for t in range(blocks):
            r0, r1 = _block_rows(x, t, blocks)
            _apply_dx_rows(x, g, coef, out, dx, r0, r1)
    return dx

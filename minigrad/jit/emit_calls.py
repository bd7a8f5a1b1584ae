"""Emission of the kernel's *calls* (see plan.py): reshape and transpose views or copies,
matmul (BLAS ``np.dot``; batched operands; small batched products as loops), gather,
scatter_add, scatter_max, indexing, the hand-written BatchNorm kernels of ``bn_kernels`` and the
convolution and max-pool index kernels of ``conv_kernels``.

``CallEmitter`` is a mixin of the code generator (codegen._Generator): it uses its
``graph``, ``plan``, ``src``, ``parallel``, ``constants``, ``buffers``, ``emitted`` and
``uses_bn_kernels``, ``bounds_checked``.
"""

from __future__ import annotations

import numpy as np

from . import linalg_calls
from .ir import NotCompilableError, Value
from .plan import LINALG_CALL_OPS, PARALLEL_MIN_ELEMENTS, SMALL_MATMUL_DIM, ishape
from .scalars import broadcast_index, np_dtype

# Results this large are written into arrays the caller lends (reused across calls when
# nobody holds the previous result): fresh large allocations page-fault on every call.
BUFFER_MIN_ELEMENTS = 1 << 16


class CallEmitter:
    """The ``_call_<op>`` emitters of the code generator."""

    def emit_call(self, value: Value) -> None:
        """A non-fusible step: reshape, transpose, matmul, gather, scatter, indexing."""
        if value.vid not in self.emitted:
            if value.op in LINALG_CALL_OPS:
                self._call_linalg(value)
                return
            getattr(self, f"_call_{value.op}")(value)

    def _call_linalg(self, value: Value) -> None:
        """A linalg row: ``v = linalg_calls.run1(spec, np.empty(...), x)`` (run2 for
        solve), the row's numpy forward called back through objmode (eager's values and
        errors exactly; see linalg_calls)."""
        if any(self.graph[i].dtype not in (np.float32, np.float64) for i in value.inputs):
            raise NotCompilableError(f"mg.jit compiles {value.op} of float32/float64 only")
        self.uses_linalg = True
        spec = linalg_calls.spec_of(value.op, value.attrs)
        inputs = ", ".join(f"v{i}" for i in value.inputs)
        self.src.add(f"v{value.vid} = linalg_calls.run{len(value.inputs)}({spec!r}, "
                     f"np.empty({ishape(value)}, {np_dtype(value.dtype)}), {inputs})")

    def _call_reshape(self, value: Value) -> None:
        self.src.add(f"v{value.vid} = v{value.inputs[0]}.reshape({ishape(value)})")

    def _call_transpose(self, value: Value) -> None:
        if value.vid in self.plan.views:
            if len(value.shape) == 2:
                self.src.add(f"v{value.vid} = v{value.inputs[0]}.T")
            return  # more axes: the batched matmuls reading it read its input swapped
        product = self.plan.transposed_products.get(value.vid)
        if product is not None:  # (A @ B)^T = B^T @ A^T: no copy of the product
            a, b = self.graph[product].inputs
            self._matmul(value, self.graph[b], self.graph[a], ".T")
            return
        perm = value.attrs["perm"]
        shape = ishape(value)
        source_index = [""] * len(perm)
        for k, axis in enumerate(perm):
            source_index[axis] = f"i{k}"
        self._copy_loop(value, shape, f"v{value.inputs[0]}[{', '.join(source_index)}]")

    def _copy_loop(self, value: Value, shape: tuple[int, ...], expr: str) -> None:
        src = self.src
        src.add(f"v{value.vid} = np.empty({shape}, {np_dtype(value.dtype)})")
        depth = src.depth
        for k, n in enumerate(shape):
            src.add(f"for i{k} in range({n}):")
            src.depth += 1
        src.add(f"v{value.vid}[{', '.join(f'i{k}' for k in range(len(shape)))}] = {expr}")
        src.depth = depth

    def _call_matmul(self, value: Value) -> None:
        if value.vid in self.plan.transposed_products.values():
            return  # computed transposed by its only reader
        self._matmul(value, *(self.graph[i] for i in value.inputs))

    def _matmul(self, value: Value, a: Value, b: Value, suffix: str = "") -> None:
        """``v = np.dot(a, b)`` (BLAS), with ``suffix`` (".T") applied to both operands;
        operands with batch axes go to ``_batched_matmul``."""
        if value.dtype.kind != "f":
            raise NotCompilableError(
                f"mg.jit compiles matmul of float operands only, got {a.shape} {a.dtype} @ "
                f"{b.shape} {b.dtype} (result {value.dtype}); integer matmul runs eagerly only"
            )
        if len(a.shape) > 2 or len(b.shape) > 2:
            self._batched_matmul(value, a, b)
            return
        inner = a.shape[0] if suffix else a.shape[-1]
        if inner == 0 or value.size == 0:  # an empty sum: zeros, as numpy gives
            self.src.add(f"v{value.vid} = np.zeros({ishape(value)}, {np_dtype(value.dtype)})")
            return
        left, right = (f"v{v.vid}{suffix}" if v.dtype == value.dtype else
                       f"v{v.vid}{suffix}.astype({np_dtype(value.dtype)})" for v in (a, b))
        if len(a.shape) == 1 and len(b.shape) == 1:
            self.src.add(f"v{value.vid} = np.empty(1, {np_dtype(value.dtype)})")
            self.src.add(f"v{value.vid}[0] = np.dot({left}, {right})")
        else:
            self.src.add(f"v{value.vid} = np.dot({left}, {right})")

    def _batched_matmul(self, value: Value, a: Value, b: Value) -> None:
        """C[..., m, n] = sum_k A[..., m, k] * B[..., k, n] over numpy's broadcast batch axes
        (a 1-D operand has no m or n axis, as in np.matmul): a loop nest over the batch
        axes around ``np.dot`` of the 2-D slices into C's slice (BLAS), or, when
        K <= SMALL_MATMUL_DIM, the K products of each element summed in order. A B without
        batch axes makes one ``np.dot`` of A seen as (batch * M, K)."""
        src, vid, inner = self.src, value.vid, a.shape[-1]
        empty = inner == 0 or value.size == 0
        src.add(f"v{vid} = np.{'zeros' if empty else 'empty'}({ishape(value)}, "
                f"{np_dtype(value.dtype)})")
        if empty:
            return
        (a, a_swapped), (b, b_swapped) = (self._batched_operand(v) for v in (a, b))
        left, right = (self._in_dtype(v, value.dtype) for v in (a, b))
        if inner > SMALL_MATMUL_DIM and len(b.shape) <= 2 and not a_swapped:
            # B has no batch axes: (batch * M, K) @ B in one call (A is C-contiguous)
            out = "-1, " + str(b.shape[-1]) if len(b.shape) == 2 else "-1"
            src.add(f"np.dot({left}.reshape((-1, {inner})), {right}, v{vid}.reshape(({out})))")
            return
        batch = value.shape[:len(value.shape) - (len(a.shape) > 1) - (len(b.shape) > 1)]
        depth = src.depth
        for axis, n in enumerate(batch):
            src.add(f"for i{axis} in range({n}):")
            src.depth += 1
        at = [f"i{axis}" for axis in range(len(batch))]
        ia, ib = (_batch_index(v.shape, batch) for v in (a, b))
        if inner <= SMALL_MATMUL_DIM:
            self._small_batched_product(value, (left, ia, a_swapped, a.shape),
                                        (right, ib, b_swapped, b.shape), at)
        else:
            a_part, b_part = (f"{name}[{index}]{'.T' if swapped else ''}" if index else name
                              for name, index, swapped in ((left, ia, a_swapped),
                                                           (right, ib, b_swapped)))
            src.add(f"np.dot({a_part}, {b_part}, v{vid}[{', '.join(at)}])")
        src.depth = depth

    def _batched_operand(self, operand: Value) -> tuple[Value, bool]:
        """(the array a batched matmul reads, whether its last two axes are swapped): the
        input of a transpose view of more than two axes, else the operand itself."""
        if operand.vid in self.plan.views and len(operand.shape) > 2:
            return self.graph[operand.inputs[0]], True
        return operand, False

    def _in_dtype(self, operand: Value, dtype: np.dtype) -> str:
        """The name of ``operand`` converted to ``dtype`` (once, before the loops)."""
        if operand.dtype == dtype:
            return f"v{operand.vid}"
        self.src.add(f"x{operand.vid} = v{operand.vid}.astype({np_dtype(dtype)})")
        return f"x{operand.vid}"

    def _small_batched_product(self, value: Value, a: tuple[str, str, bool, tuple],
                               b: tuple[str, str, bool, tuple], at: list[str]) -> None:
        """Inside the batch loops: loops over m and n (when the operands have them) and
        C[..., m, n] = A[..., m, 0] * B[..., 0, n] + ... (K terms, in order). Each operand
        is (name, batch index, last two axes swapped?, shape of the array read)."""
        (a_name, ia, a_swapped, a_shape), (b_name, ib, b_swapped, b_shape) = a, b
        rows, cols = len(a_shape) > 1, len(b_shape) > 1
        m, n = f"i{len(at)}", f"i{len(at) + 1}"
        if rows:
            self.src.add(f"for {m} in range({a_shape[-1 if a_swapped else -2]}):")
            self.src.depth += 1
        if cols:
            self.src.add(f"for {n} in range({b_shape[-2 if b_swapped else -1]}):")
            self.src.depth += 1
        terms = []
        for k in range(a_shape[-2] if a_swapped else a_shape[-1]):  # K
            a_axes = (str(k), m) if a_swapped else (m if rows else "", str(k))
            b_axes = (n, str(k)) if b_swapped else (str(k), n if cols else "")
            a_at = ", ".join(p for p in (ia, *a_axes) if p)
            b_at = ", ".join(p for p in (ib, *b_axes) if p)
            terms.append(f"{a_name}[{a_at}] * {b_name}[{b_at}]")
        out = ", ".join([*at, *([m] if rows else []), *([n] if cols else [])])
        self.src.add(f"v{value.vid}[{out}] = {' + '.join(terms)}")

    def _index_loops(self, shape: tuple, idx: Value, extent: int) -> str:
        """Open a loop nest over ``shape`` and read the index ``j`` (negatives wrapped by
        ``extent``); returns the full index ``i0, i1, ...``."""
        for k, n in enumerate(shape):
            self.src.add(f"for i{k} in range({n}):")
            self.src.depth += 1
        full = ", ".join(f"i{k}" for k in range(len(shape)))
        self.src.add(f"j = v{idx.vid}[{full}]")
        self.src.add(f"if j < 0: j += {extent}")
        return full

    def _bounds_check(self, idx: Value, axis: int, extent: int, op: str) -> None:
        """Raise eager's error when an index is outside [-extent, extent): one min and
        one max per call (the error path alone looks further). gather raises and words it as
        ops._gather_forward does (OutOfRangeError); scatter_add as numpy's ``np.add.at``
        (eager's forward, an IndexError), naming the first index out of bounds in C order.
        An index array is checked once per extent (a gather and its gradient's scatter_add
        share one check: calls are emitted in straight-line order at the kernel's top
        level)."""
        if (idx.vid, axis, extent) in self.bounds_checked:  # an earlier call checked it
            return
        self.bounds_checked.add((idx.vid, axis, extent))
        src, name = self.src, f"v{idx.vid}"
        src.add(f"if {name}.size > 0 and ({name}.min() < {-extent} or {name}.max() >= {extent}):")
        if op == "gather":
            src.add(f"    bad = {name}.max() if {name}.max() >= {extent} else {name}.min()")
            src.add("    raise value_checks.OutOfRangeError('gather: index ' + "
                    f"value_checks.int_text(bad) + ' is out of range for axis {axis} of size "
                    f"{extent}')")
            return
        src.add(f"    for bad in {name}.flat:")
        src.add(f"        if bad < {-extent} or bad >= {extent}:")
        src.add("            raise IndexError('index ' + value_checks.int_text(bad) + ' is out "
                f"of bounds for axis {axis} with size {extent}')")

    def _call_gather(self, value: Value) -> None:
        x, idx = (self.graph[i] for i in value.inputs)
        axis, shape = value.attrs["axis"], ishape(value)
        src = self.src
        self._bounds_check(idx, axis, x.shape[axis], value.attrs.get("bounds_as", "gather"))
        src.add(f"v{value.vid} = np.empty({shape}, {np_dtype(value.dtype)})")
        depth = src.depth
        full = self._index_loops(shape, idx, x.shape[axis])
        index = [("j" if k == axis else ("0" if x.shape[k] == 1 else f"i{k}"))
                 for k in range(len(shape))]
        src.add(f"v{value.vid}[{full}] = v{x.vid}[{', '.join(index)}]")
        src.depth = depth

    def _call_scatter_add(self, value: Value) -> None:
        g, idx = (self.graph[i] for i in value.inputs)
        axis, shape = value.attrs["axis"], ishape(idx)
        src = self.src
        self._bounds_check(idx, axis, value.shape[axis],
                           value.attrs.get("bounds_as", "scatter_add"))
        src.add(f"v{value.vid} = np.zeros({ishape(value)}, {np_dtype(value.dtype)})")
        depth = src.depth
        self._index_loops(shape, idx, value.shape[axis])
        index = ", ".join("j" if k == axis else f"i{k}" for k in range(len(shape)))
        src.add(f"v{value.vid}[{index}] += v{g.vid}[{broadcast_index(ishape(g), shape)}]")
        src.depth = depth

    def _call_scatter_max(self, value: Value) -> None:
        """A copy of base with each src value reduced in at its index by max (min); a NaN
        already there stays, a NaN arriving wins (numpy's np.maximum.at, eager's forward)."""
        base, idx, values = (self.graph[i] for i in value.inputs)
        axis, shape = value.attrs["axis"], ishape(idx)
        src = self.src
        self._bounds_check(idx, axis, value.shape[axis], "scatter_max")
        src.add(f"v{value.vid} = v{base.vid}.copy()")
        depth = src.depth
        full = self._index_loops(shape, idx, value.shape[axis])
        index = ", ".join("j" if k == axis else f"i{k}" for k in range(len(shape)))
        beats = ">" if value.attrs["largest"] else "<"
        src.add(f"new = v{values.vid}[{full}]")
        src.add(f"if new {beats} v{value.vid}[{index}] or new != new:")
        src.add(f"    v{value.vid}[{index}] = new")
        src.depth = depth

    # ------------------------------------------------ hand-written BatchNorm kernels
    def _bn_call(self, value: Value, call: str, writes: bool) -> None:
        """``v = bn_kernels.<call>(<inputs>[, out], T)``; ``out`` is a lent buffer for a large
        result, else a fresh array."""
        self.uses_bn_kernels = True
        args = [f"v{i}" for i in value.inputs]
        if value.op == "bn_stats":
            args.append(repr(float(value.attrs["eps"])))
        if writes:
            args.append(self._bn_out(value))
        self.src.add(f"v{value.vid} = bn_kernels.{self._bn_name(value, call)}"
                     f"({', '.join(args)}, T)")

    def _bn_name(self, value: Value, call: str) -> str:
        """The parallel driver for large arrays, else its ``_serial`` twin (no prange)."""
        size = max(self.graph[i].size for i in value.inputs)
        return call if self.parallel and size >= PARALLEL_MIN_ELEMENTS else f"{call}_serial"

    def _bn_out(self, value: Value) -> str:
        """The array a kernel writes ``value`` into: a lent buffer for a large result."""
        if value.vid in self.graph.roots and value.size >= BUFFER_MIN_ELEMENTS:
            self.buffers.append(value.vid)
            return f"o{value.vid}"
        return f"np.empty({ishape(value)}, {np_dtype(value.dtype)})"

    def _call_bn_stats(self, value: Value) -> None:
        """The statistics; with the ``bn_grad_sums`` of the same x when its g is a kernel
        argument (known now): one pass over x and g for both."""
        sums = self._known_g_sums(value.inputs[0], value.vid)
        if sums is None:
            self._bn_call(value, "stats", writes=False)
            return
        self.uses_bn_kernels = True
        x, g = value.inputs[0], sums.inputs[0]
        self.src.add(f"v{value.vid} = np.empty({ishape(value)}, {np_dtype(value.dtype)})")
        name = self._bn_name(value, "stats_grad_sums")
        self.src.add(f"v{sums.vid} = bn_kernels.{name}(v{x}, v{g}, "
                     f"{float(value.attrs['eps'])!r}, v{value.vid}, T)")
        self.emitted.add(sums.vid)

    def _known_g_sums(self, x: int, stats: int) -> Value | None:
        """The ``bn_grad_sums`` of x and ``stats`` whose g is a kernel argument, if any."""
        return next((v for v in self.graph.values if v.op == "bn_grad_sums"
                     and v.inputs[1:] == (x, stats) and self.graph[v.inputs[0]].op == "input"),
                    None)

    def _call_bn_apply(self, value: Value) -> None:
        """The forward apply; with the ``bn_dx`` of the same x when the statistics pass took
        its gradient sums and its weight is a kernel argument: one pass writing out and dx."""
        x, stats = value.inputs[:2]
        sums = self._known_g_sums(x, stats)
        dx = None if sums is None else next(
            (v for v in self.graph.values if v.op == "bn_dx"
             and v.inputs[:4] == (sums.inputs[0], x, stats, sums.vid)
             and self.graph[v.inputs[4]].op == "input"), None)
        if dx is None:
            self._bn_call(value, "apply", writes=True)
            return
        self.uses_bn_kernels = True
        self.src.add(f"v{value.vid} = {self._bn_out(value)}")
        args = ", ".join(f"v{i}" for i in (*value.inputs, sums.inputs[0], sums.vid,
                                            dx.inputs[4], value.vid))
        name = self._bn_name(value, "apply_dx")
        self.src.add(f"v{dx.vid} = bn_kernels.{name}({args}, {self._bn_out(dx)}, T)")
        self.emitted.add(dx.vid)

    def _call_bn_normalize(self, value: Value) -> None:
        self._bn_call(value, "normalize", writes=True)

    def _call_bn_grad_sums(self, value: Value) -> None:
        self._bn_call(value, "grad_sums", writes=False)

    def _call_bn_dx(self, value: Value) -> None:
        self._bn_call(value, "dx", writes=True)

    def _call_bn_row(self, value: Value) -> None:
        """One per-channel row of a kernel result, scaled, cast and shaped."""
        row = f"v{value.inputs[0]}[{value.attrs['row']}]"
        scale = value.attrs["scale"]
        if scale != 1.0:
            row = f"({row} * {scale!r})"
        self.src.add(f"v{value.vid} = {row}.astype({np_dtype(value.dtype)})"
                     f".reshape({ishape(value)})")

    def _call_count_nonfinite(self, value: Value) -> None:
        """How many elements of the inputs are ±inf or NaN (x - x != 0), after every
        loop computing them: a loop of its own (an integer count over stored values), so
        the loops it reads from keep no reduction that would stop their vectorisation.
        The result is a Python integer, not an array (the only such kernel result)."""
        src = self.src
        src.add(f"v{value.vid} = 0")  # a plain integer result: no array to box
        for vid in value.inputs:
            src.add(f"for x in v{vid}.ravel():")
            src.add(f"    v{value.vid} += (x - x) != 0.0")

    # -------------------------------------------- hand-written convolution kernels
    def _conv_call(self, value: Value, geometry: list[int]) -> None:
        """``v = conv_kernels.<op>(<inputs>, np.empty(shape, dtype), <geometry ints>)``."""
        if any(self.graph[i].dtype.kind != "f" for i in value.inputs[:2]) and (
                value.op != "max_pool2d_index"):
            raise NotCompilableError(f"mg.jit compiles {value.op} of float operands only")
        self.uses_conv_kernels = True
        args = [f"v{i}" for i in value.inputs]
        args.append(f"np.empty({ishape(value)}, {np_dtype(value.dtype)})")
        args += [str(int(k)) for k in geometry]
        self.src.add(f"v{value.vid} = conv_kernels.{value.op}({', '.join(args)})")

    def _conv_geometry(self, value: Value) -> list[int]:
        attrs = value.attrs
        (pt, _), (pl, _) = attrs["padding"]
        return [*attrs["stride"], pt, pl, *attrs["dilation"], attrs["groups"]]

    def _call_conv2d(self, value: Value) -> None:
        self._conv_call(value, self._conv_geometry(value))

    def _call_conv2d_input_grad(self, value: Value) -> None:
        self._conv_call(value, self._conv_geometry(value))

    def _call_conv2d_weight_grad(self, value: Value) -> None:
        self._conv_call(value, self._conv_geometry(value))

    def _call_max_pool2d_index(self, value: Value) -> None:
        attrs = value.attrs
        (pt, _), (pl, _) = attrs["padding"]
        self._conv_call(value, [*attrs["kernel"], *attrs["stride"], pt, pl, *attrs["dilation"]])

    def _flat_map(self, shape: tuple[int, ...], key: tuple) -> str:
        size = int(np.prod(shape, dtype=np.int64))
        flat = np.arange(size, dtype=np.int64).reshape(shape)[key]
        self.constants.append(np.ascontiguousarray(flat.reshape(-1)))
        return f"c{len(self.constants) - 1}"

    def _call_index(self, value: Value) -> None:
        x = self.graph[value.inputs[0]]
        flat = self._flat_map(x.shape, value.attrs["key"])
        src, vid = self.src, value.vid
        src.add(f"f{vid} = np.empty({flat}.shape[0], {np_dtype(value.dtype)})")
        src.add(f"r{vid} = v{x.vid}.reshape(-1)")
        src.add(f"for k in range({flat}.shape[0]):")
        src.add(f"    f{vid}[k] = r{vid}[{flat}[k]]")
        src.add(f"v{vid} = f{vid}.reshape({ishape(value)})")

    def _call_index_add(self, value: Value) -> None:
        g = self.graph[value.inputs[0]]
        flat = self._flat_map(value.shape, value.attrs["key"])
        src, vid = self.src, value.vid
        size = int(np.prod(ishape(value)))
        src.add(f"f{vid} = np.zeros({size}, {np_dtype(value.dtype)})")
        src.add(f"r{vid} = v{g.vid}.reshape(-1)")
        src.add(f"for k in range({flat}.shape[0]):")
        src.add(f"    f{vid}[{flat}[k]] += r{vid}[k]")
        src.add(f"v{vid} = f{vid}.reshape({ishape(value)})")


    # ------------------------------------------------------------- scans and sorts
    def _scan_views(self, value: Value) -> tuple[str, str, int]:
        """(input, output) as 3-D arrays (outer, n, inner) around the value's axis, and n."""
        x = self.graph[value.inputs[0]]
        axis, shape = value.attrs["axis"], ishape(x)
        n = shape[axis]
        outer, inner = int(np.prod(shape[:axis])), int(np.prod(shape[axis + 1:]))
        vid = value.vid
        self.src.add(f"v{vid} = np.empty({ishape(value)}, {np_dtype(value.dtype)})")
        self.src.add(f"x{vid} = np.ascontiguousarray(v{x.vid}).reshape(({outer}, {n}, {inner}))")
        self.src.add(f"o{vid} = v{vid}.reshape(({outer}, {n}, {inner}))")
        return f"x{vid}", f"o{vid}", n

    def _call_cumsum(self, value: Value) -> None:
        """out[a, k, c] = sum_{j <= k} x[a, j, c] (j >= k reversed), accumulated in float64
        (int64 for integers) as eager's np.cumsum(dtype=float64)."""
        x, out, n = self._scan_views(value)
        src = self.src
        zero = "0" if value.dtype.kind in "iub" else "0.0"
        steps = f"range({n} - 1, -1, -1)" if value.attrs["reverse"] else f"range({n})"
        src.add(f"for a in range({x}.shape[0]):")
        src.add(f"    for c in range({x}.shape[2]):")
        src.add(f"        total = {zero}")
        src.add(f"        for k in {steps}:")
        src.add(f"            total += {x}[a, k, c]")
        src.add(f"            {out}[a, k, c] = total")


    def _call_argsort(self, value: Value) -> None:
        """Each (outer, inner) column sorted by Numba's stable np.argsort (mergesort, NaN
        last); descending: the column read backwards, its order reversed, as eager."""
        x, out, n = self._scan_views(value)
        src = self.src
        src.add(f"for a in range({x}.shape[0]):")
        src.add(f"    for c in range({x}.shape[2]):")
        if value.attrs["descending"]:
            src.add(f"        order = np.argsort({x}[a, ::-1, c].copy(), kind='mergesort')")
            src.add(f"        for k in range({n}):")
            src.add(f"            {out}[a, k, c] = {n} - 1 - order[{n} - 1 - k]")
        else:
            src.add(f"        order = np.argsort({x}[a, :, c].copy(), kind='mergesort')")
            src.add(f"        for k in range({n}):")
            src.add(f"            {out}[a, k, c] = order[k]")


def _batch_index(shape: tuple[int, ...], batch: tuple[int, ...]) -> str:
    """The index of a matmul operand's batch axes (all but its last two; none for 1-D or
    2-D operands) inside the loops over the result's ``batch`` axes (broadcasting)."""
    return broadcast_index(shape[:-2], batch) if len(shape) > 2 else ""


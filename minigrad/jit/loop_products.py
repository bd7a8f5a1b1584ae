"""The small matmuls a fused loop computes itself (plan.MatmulLoop), as source: inner
products of K <= 8 terms read in place, and batch products accumulated over the rows of
the big operand. ``ProductEmitter`` is a part of codegen's ``_Generator`` (it uses its
``graph``, ``plan``, ``src``, ``tag`` and ``copied``)."""

from __future__ import annotations

from typing import Any

from .ir import Graph, Value
from .plan import Plan, Step
from .scalars import np_dtype


class ProductEmitter:
    """The loop-matmul emitters of the code generator."""

    graph: Graph
    plan: Plan
    src: Any
    tag: str
    copied: set[int]

    def _inner_product(self, value: Value) -> str:
        """C[i0, i1] = A[i0, 0] * B[0, i1] + A[i0, 1] * B[1, i1] + ... (K terms, in order),
        reading A through its transpose views and B as a (K, N) C-contiguous array."""
        loop = self.plan.matmul_loops[value.vid]
        b = f"w{loop.b_base}" if loop.b_swapped else f"v{loop.b_base}"
        terms = []
        for k in range(self.graph[value.inputs[0]].shape[1]):
            a = f"v{loop.a_base}[{k}, i0]" if loop.a_swapped else f"v{loop.a_base}[i0, {k}]"
            terms.append(f"{a} * {b}[{k}, i1]")
        if not terms:  # K = 0: an empty sum, zeros as in numpy
            return f"{np_dtype(value.dtype)}(0)"
        return "(" + " + ".join(terms) + ")"

    def _copy_swapped_operands(self, step: Step) -> None:
        """``w<id> = (K, N) contiguous copy`` of each B an inner-product matmul of the step
        reads transposed (K <= 8, so small), once per kernel: read along the inner loop at
        a stride the compiler does not know, B would not vectorise."""
        for vid in step.items:
            for inner in (vid, *self.plan.inlined.get(vid, [])):
                loop = self.plan.matmul_loops.get(inner)
                if loop is None or not loop.b_swapped or loop.b_base in self.copied:
                    continue
                self.copied.add(loop.b_base)
                self.src.add(f"w{loop.b_base} = np.ascontiguousarray(v{loop.b_base}.T)")

    def _batch_products(self, step: Step, names: dict) -> None:
        """X[k, m] * B[k, n] for each batch matmul of the step (see MatmulLoop) and each of
        the small operand's S columns, at the element (i0, i1) of the big operand (K, P)
        just computed; named in ``names`` under (matmul id, column)."""
        for vid in step.items:
            loop = self.plan.matmul_loops.get(vid)
            if loop is None or loop.kind != "batch":
                continue
            for s in range(self.graph[loop.small].shape[1]):
                names[(vid, s)] = f"p{vid}_{s}{self.tag}"
                self.src.add(f"{names[(vid, s)]} = v{loop.small}[i0, {s}] * {names[loop.big]}")

    def _accumulate_batches(self, step: Step, copies: list[dict]) -> None:
        """C[m, n] += the products of each copy of the body (one per unrolled row), added
        pairwise first: acc[s, i1], contiguous in i1."""
        for vid in step.items:
            loop = self.plan.matmul_loops.get(vid)
            if loop is None or loop.kind != "batch":
                continue
            size = self.graph[loop.big].shape[1]
            for s in range(self.graph[loop.small].shape[1]):
                terms = [names[(vid, s)] for names in copies]
                self.src.add(f"acc{vid}[{s * size} + i1] += {pairwise(terms)}")

    def _finish_batches(self, batches: list[Value]) -> None:
        """C from the float64 accumulators acc[s, p]: C = acc when the big operand is B,
        C = acc^T when it is X."""
        for value in batches:
            vid, (m, n) = value.vid, value.shape
            if self.plan.matmul_loops[vid].big_is_b:
                self.src.add(f"v{vid} = acc{vid}.astype({np_dtype(value.dtype)})"
                             f".reshape({value.shape})")
                continue
            self.src.add(f"v{vid} = np.empty({value.shape}, {np_dtype(value.dtype)})")
            if n == 0:
                continue
            self.src.add(f"for j in range({m}):")
            for s in range(n):
                self.src.add(f"    v{vid}[j, {s}] = acc{vid}[{s * m} + j]")


def pairwise(terms: list[str]) -> str:
    """``(t0 + t1) + (t2 + t3)``: terms added pairwise (one term stays as it is)."""
    while len(terms) > 1:
        terms = [f"({terms[k]} + {terms[k + 1]})" if k + 1 < len(terms) else terms[k]
                 for k in range(0, len(terms), 2)]
    return terms[0]

"""The op-table sample calls; they live in ``minigrad.testing.op_samples`` so the
differential fuzzer can import them too (a new op row is then fuzzed automatically)."""

from minigrad.testing.op_samples import NON_DIFFERENTIABLE, SAMPLES, Sample

__all__ = ["NON_DIFFERENTIABLE", "SAMPLES", "Sample"]

"""Test support that ships with minigrad: the op-table sample calls (``op_samples``) and
the differential fuzzer (``fuzz``: random programs, eager vs ``mg.jit`` vs PyTorch;
``shrink``: minimal reproducers). Imported only on demand, never by ``import minigrad``."""

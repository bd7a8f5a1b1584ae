"""mg.jit on arrays with a zero-length axis: the loops over such an axis never run.

Before the fix a size-0 axis was treated like a size-1 one (``i0 = 0``), so the generated
code wrote past the end of an empty result: silent memory corruption, or an IndexError
with Numba's bounds checking. The cases run in a child process with
``NUMBA_BOUNDSCHECK=1`` (so an out-of-bounds access fails loudly) and a fresh cache, and
compare with eager (numpy) results.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

_CHILD = textwrap.dedent("""
    import numpy as np, minigrad as mg
    from minigrad.jit import jit
    CASES = {
        "elementwise": lambda x: x * 2.0 + 1.0,
        "sum over axis 0": lambda x: x.sum(0),
        "sum over the last axis": lambda x: x.sum(-1),
        "sum of all": lambda x: x.sum(),
        "gradient": lambda x: mg.grad((x * x).sum(), [x])[0],
    }
    for shape in [(0, 3), (0,), (2, 0), (3, 0, 2), (16, 0), (0, 16)]:
        for name, fn in CASES.items():
            compiled = jit(fn)
            x = mg.tensor(np.ones(shape), requires_grad=True)
            compiled(x)
            got, want = compiled(x), fn(x)
            assert compiled.trace_count == 1, (shape, name)
            assert got.shape == want.shape == np.asarray(want.data).shape, (shape, name)
            assert np.array_equal(got.data, want.data), (shape, name, got.data, want.data)
    print("ok")
""")


def test_zero_length_axes_compile_and_stay_in_bounds(tmp_path) -> None:
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "MINIGRAD_CACHE_DIR": str(tmp_path / "mg"),
           "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    done = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]

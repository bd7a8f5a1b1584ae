"""Fixtures shared by several test files."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest

# mg.jit compiles before its first call returns, so every test sees compiled code from the
# second call on (tests of the background compile ask for it: mg.jit(fn, background=True));
# subprocesses the tests start inherit it.
os.environ.setdefault("MINIGRAD_JIT_BACKGROUND", "0")
# Kernels keep their thread count whatever the machine's load (the test workers load each
# other): the multi-threaded paths stay tested; tests/test_jit_load.py tests the switch.
os.environ.setdefault("MINIGRAD_ADAPT_THREADS", "0")


@pytest.fixture(scope="module")
def one_blas_thread() -> Iterator[None]:
    """Tiny matrices: BLAS threads only contend with each other on a shared 2-core box."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(params=["committed", "live"])
def ref(request: pytest.FixtureRequest) -> dict[str, np.ndarray]:
    """PyTorch's values for the nn and optim tests (tests/reference/gen_nn_optim.py): from
    the committed .npz, or computed now with torch."""
    from tests.reference import gen_nn_optim as gen

    if request.param == "live":
        pytest.importorskip("torch")
        return gen.compute()
    return gen.committed()

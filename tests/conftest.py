"""Fixtures shared by several test files."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


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

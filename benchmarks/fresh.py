"""Fresh child processes for the benchmarks that time a cold start (issue 17).

A child is ``python -m benchmarks.<module> --child ...``; it prints one JSON line (its
figures) last on stdout. ``spawn`` runs it with a time limit: a child that runs out of time
is killed and gives ``{"timeout": True, "limit_s": ...}``, a child that fails gives
``{"error": <its last stderr line>}``; neither stops the benchmark. ``cache_env`` points
``MINIGRAD_CACHE_DIR`` and ``NUMBA_CACHE_DIR`` into one folder (empty for a cold run).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import env

LIMIT_S = 600.0
THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                    "MKL_NUM_THREADS", "MINIGRAD_NUM_THREADS")


def cache_env(folder: Path) -> dict[str, str]:
    """The variables that put minigrad's and Numba's disk caches in ``folder``."""
    return {"MINIGRAD_CACHE_DIR": str(folder / "minigrad"),
            "NUMBA_CACHE_DIR": str(folder / "numba")}


def thread_env(count: int | None) -> dict[str, str | None]:
    """Every thread variable set to ``count``, or removed (None: each library's default)."""
    return {name: (None if count is None else str(count)) for name in THREAD_VARIABLES}


def spawn(module: str, args: Sequence[str], extra_env: dict[str, str | None] | None = None,
          limit_s: float = LIMIT_S) -> dict[str, Any]:
    """Run ``benchmarks.<module> --child *args`` in a new interpreter; its JSON line plus
    ``process_s`` (wall time of the whole process), or a timeout / error record."""
    child_env = dict(os.environ)
    for name, value in (extra_env or {}).items():
        if value is None:
            child_env.pop(name, None)
        else:
            child_env[name] = value
    child_env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(env.ROOT), os.environ.get("PYTHONPATH")]))
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", f"benchmarks.{module}", "--child", *args],
                             cwd=env.ROOT, env=child_env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = child.communicate(timeout=limit_s)
    except subprocess.TimeoutExpired:
        return {"timeout": True, "limit_s": limit_s, "process_s": time.perf_counter() - start}
    finally:  # the child's own processes (threads.py's busy loops) go with it
        _kill_group(child)
    wall = time.perf_counter() - start
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if child.returncode != 0 or not lines:
        last = (stderr.strip().splitlines() or [f"exit status {child.returncode}"])[-1]
        return {"error": last[:200], "process_s": wall}
    return {**json.loads(lines[-1]), "process_s": wall}


def _kill_group(child: subprocess.Popen) -> None:
    """Kill the child's process group (its session: started with start_new_session)."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.communicate()


def seconds(result: dict[str, Any] | None, key: str, digits: int = 2) -> str:
    """A result's ``key`` in seconds for a table: '> 600 s' after a timeout, 'error'."""
    if result is None:
        return "n/a"
    if result.get("timeout"):
        return f"> {result['limit_s']:.0f} s"
    if "error" in result:
        return "error"
    value = result.get(key)
    return "n/a" if value is None else f"{value:.{digits}f}"


def errors(results: Sequence[tuple[str, dict[str, Any] | None]]) -> list[str]:
    """One line per failed child, for under a table."""
    return [f"  {name}: {result['error']}" for name, result in results
            if result is not None and "error" in result]


def median_of(results: Sequence[dict[str, Any]], keys: Sequence[str]) -> dict[str, Any]:
    """The last good result (one holding ``keys[0]``) with each of ``keys`` replaced by its
    median over the good results and ``runs`` their count; the last result if none is."""
    good = [r for r in results if keys[0] in r]
    if not good:
        return dict(results[-1])
    merged = dict(good[-1], runs=len(good))
    for key in keys:
        if all(key in r for r in good):  # (a key only some libraries report)
            merged[key] = statistics.median(r[key] for r in good)
    return merged

"""The machine and library header, the peers (PyTorch, JAX) and one thread count for all.

Peers are imported lazily by ``load_torch`` / ``load_jax``; a peer that cannot be imported
gives ``None`` and the benchmark prints a "not installed" row for it. ``threads()`` is
Numba's thread count; PyTorch is set to the same, and JAX (XLA's CPU client) is asked for
the same through ``XLA_FLAGS`` before it is first imported.
"""

from __future__ import annotations

import datetime
import importlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent


def threads() -> int:
    """The thread count every library runs with (Numba's)."""
    import numba

    return int(numba.get_num_threads())


def load_torch() -> Any:
    """torch with ``set_num_threads(threads())``, or None when it cannot be imported."""
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        return None
    if torch.get_num_threads() != threads():
        torch.set_num_threads(threads())
    return torch


def load_jax() -> Any:
    """jax on the CPU with float64 enabled (float32 inputs stay float32), or None."""
    if "jax" not in sys.modules:
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        flags = os.environ.get("XLA_FLAGS", "")
        if "intra_op_parallelism_threads" not in flags:
            os.environ["XLA_FLAGS"] = (
                f"{flags} --xla_cpu_multi_thread_eigen=true "
                f"intra_op_parallelism_threads={threads()}"
            ).strip()
    try:
        jax = importlib.import_module("jax")
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax


def _cpu_model() -> str:
    """Model name, family/model numbers and L2/L3 sizes (a VM may hide the full name)."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or platform.machine()
    caches = []
    for index in (2, 3):
        path = Path(f"/sys/devices/system/cpu/cpu0/cache/index{index}/size")
        if path.exists():
            caches.append(f"L{index} {path.read_text().strip()}")
    extra = ", ".join([f"family {fields.get('cpu family', '?')} model {fields.get('model', '?')}",
                       *caches, *(["AVX-512"] if "avx512f" in fields.get("flags", "") else [])])
    return f"{fields.get('model name', platform.machine())} ({extra})"


def _version(module: str) -> str:
    try:
        return str(importlib.import_module(module).__version__)
    except ImportError:
        return "not installed"
    except AttributeError:
        return "?"


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def machine_info(peers: bool = True) -> dict[str, Any]:
    """CPU, thread counts, library versions, BLAS environment, load, time."""
    import minigrad

    torch = load_torch() if peers else None
    jax = load_jax() if peers else None
    info: dict[str, Any] = {
        "time_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "threads_numba": threads(),
        "threads_torch": torch.get_num_threads() if torch else None,
        "jax_devices": [str(d) for d in jax.devices()] if jax else None,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "numba": _version("numba"),
        "torch": _version("torch") if peers else "not loaded",
        "jax": _version("jax") if peers else "not loaded",
        "jaxlib": _version("jaxlib") if peers else "not loaded",
        "minigrad": f"{minigrad.__version__} (git {_git_commit()})",
        "mg.jit": "yes" if callable(getattr(minigrad, "jit", None)) else "not available yet",
        "blas_env": {k: v for k, v in os.environ.items()
                     if k.startswith(("OPENBLAS_", "OMP_", "MKL_", "NUMBA_NUM", "GOMP_"))},
        "load_average": list(os.getloadavg()),
    }
    return info


def format_header(title: str, info: dict[str, Any]) -> str:
    """The header printed above each table."""
    blas = ", ".join(f"{k}={v}" for k, v in info["blas_env"].items()) or "none set"
    load = ", ".join(f"{v:.2f}" for v in info["load_average"])
    return "\n".join([
        f"== {title} ==",
        f"{info['time_utc']} UTC | CPU: {info['cpu']} | cores: {info['cpu_count']} | "
        f"threads: numba {info['threads_numba']}, torch {info['threads_torch']}, "
        f"jax {info['jax_devices']}",
        f"python {info['python']}, numpy {info['numpy']}, numba {info['numba']}, "
        f"torch {info['torch']}, jax {info['jax']} (jaxlib {info['jaxlib']}), "
        f"minigrad {info['minigrad']}, mg.jit: {info['mg.jit']}",
        f"BLAS/threads env: {blas} | load average at start: {load}",
    ])


def write_json(name: str, payload: dict[str, Any], out_dir: Path = RESULTS) -> Path:
    """Write ``payload`` to ``out_dir/<name>.json`` and return the path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def to_numpy(value: Any) -> Any:
    """numpy array of a torch tensor, JAX array, minigrad Tensor or array."""
    import numpy as np

    from minigrad import Tensor

    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def side_by_side_rows(makers: Iterable[tuple[str, Callable[[], Any]]],
                      settings: dict[str, Any], order: Iterable[str],
                      first_label: str) -> list[Any]:
    """Each maker's timing row, timed side by side, in ``order``. A maker returns a step
    (called once first, compiling under jit; its value goes in the row as ``first_label``)
    or a finished Row (e.g. "not installed"); a maker or step that raises gives an error
    row."""
    from minigrad.timing import Row, time_side_by_side

    steps: dict[str, Callable[[], Any]] = {}
    rows: list[Row] = []
    first: dict[str, float] = {}
    for name, make in makers:
        try:
            made = make()
            if isinstance(made, Row):
                rows.append(made)
                continue
            first[name] = float(to_numpy(made()))  # call 1 (compiles under jit)
            steps[name] = made
        except Exception as error:  # reported in the row
            rows.append(Row(name, "error", f"{type(error).__name__}: {error}"[:200]))
    for name, timing in time_side_by_side(steps, **settings).items():
        if isinstance(timing, Exception):
            rows.append(Row(name, "error", f"{type(timing).__name__}: {timing}"[:200]))
        else:
            rows.append(Row(name, timing=timing, extra={first_label: first[name]}))
    by_name = {row.name: row for row in rows}
    return [by_name[name] for name in order if name in by_name]

"""The on-disk cache of generated modules.

Numba's ``cache=True`` only works for functions defined in a real file (not ``exec``'d
code), so every generated module is written to ``<cache dir>/mg_<key>.py`` and imported from
there; Numba then keeps the compiled machine code in ``__pycache__`` beside it, and a new
process with the same graph loads it instead of compiling.

The key hashes the generated source (which spells out the graph: ops, shapes, dtypes and
baked constants) with the numba, numpy, minigrad and Python versions and hashes of the
kernel files (``KERNEL_FILES``: functions the generated code may call and compile into
itself). Writes go to a
temporary file renamed into place, so processes compiling the same graph at once are safe;
an existing file is never rewritten (its timestamp is part of Numba's own cache check) unless
it differs from the source, i.e. is damaged: then it and the machine code cached beside it are
replaced. Damaged machine code (Numba's index or data files) is purged and compiled anew.

An unusable cache directory (not writable, a file in its place, ...) is not an error: a
``RuntimeWarning`` names the directory and ``MINIGRAD_CACHE_DIR`` once per directory, and
the module is compiled in memory (``cache=False``, nothing written; each process compiles
again).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from types import ModuleType

import numba
import numpy as np

CODEGEN_VERSION = "2"  # 2: fused BatchNorm rows call bn_kernels
_modules: dict[str, ModuleType] = {}
_lock = threading.Lock()
_warned_dirs: set[str] = set()


def cache_dir() -> Path:
    """``$MINIGRAD_CACHE_DIR``, else ``$XDG_CACHE_HOME/minigrad/jit`` (``~/.cache`` default)."""
    configured = os.environ.get("MINIGRAD_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "minigrad" / "jit"


def module_path(key: str) -> Path:
    """Where the generated module of ``cache_key`` ``key`` lives in the cache directory."""
    return cache_dir() / f"mg_{key}.py"


def cache_key(source: str) -> str:
    """A hash of the source and every version the compiled code depends on."""
    from .. import __version__

    parts = [source, numba.__version__, np.__version__, __version__, CODEGEN_VERSION,
             sys.version, *[_kernel_file_hash(name) for name in KERNEL_FILES]]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


# Files of Numba functions the generated modules call: each call compiles the callee's code
# into the module's own cached machine code, which Numba does not re-check when that file
# changes, so their hashes are part of the key.
KERNEL_FILES = ("bn_kernels.py", "bn_rows.py", "conv_kernels.py")


@functools.lru_cache(maxsize=len(KERNEL_FILES))
def _kernel_file_hash(name: str) -> str:
    """A hash of the kernel file ``name`` (beside this one)."""
    path = Path(__file__).with_name(name)
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` unless it exists, via a temporary file and a rename."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp_", suffix=".py")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        if not path.exists():
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def purge_compiled(path: Path) -> None:
    """Delete the machine code and bytecode cached beside the generated module ``path``."""
    for stale in (path.parent / "__pycache__").glob(f"{path.stem}.*"):
        stale.unlink(missing_ok=True)


def ensure_source(path: Path, source: str) -> None:
    """Write ``source`` to ``path``; a file there that differs (truncated, damaged) is
    replaced, with the compiled code cached beside it."""
    write_atomic(path, source)
    try:
        intact = path.read_text() == source
    except (OSError, UnicodeDecodeError):
        intact = False
    if not intact:
        purge_compiled(path)
        path.unlink(missing_ok=True)
        write_atomic(path, source)


def load_module(source: str, fresh: bool = False) -> tuple[ModuleType, Path]:
    """The imported generated module for ``source`` (written to the cache dir if new).

    ``fresh`` imports it anew, e.g. after ``purge_compiled`` removed damaged machine code.
    When the cache directory cannot be used, the module is built in memory instead.
    """
    key = cache_key(source)
    with _lock:
        module = _modules.get(key)
        path = module_path(key)
        if module is not None and not fresh:
            return module, path
        try:
            ensure_source(path, source)
        except OSError as error:
            module = _in_memory(key, source, path, error)
        else:
            module = import_file(key, path)
        _modules[key] = module
        return module, path


def import_file(key: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"minigrad_jit_{key}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"mg.jit: cannot import the generated module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # Numba's cache re-imports it by name
    spec.loader.exec_module(module)
    return module


def _in_memory(key: str, source: str, path: Path, error: OSError) -> ModuleType:
    """The module built from ``source`` without a file (Numba's disk cache off), after a
    warning naming the unusable directory (once per directory)."""
    folder = str(path.parent)
    if folder not in _warned_dirs:
        _warned_dirs.add(folder)
        warnings.warn(
            f"mg.jit: the cache directory {folder!r} cannot be used ({type(error).__name__}: "
            f"{error}); compiling in memory without a disk cache (every process compiles "
            "again). Set MINIGRAD_CACHE_DIR to a writable directory to cache compiled code.",
            RuntimeWarning, stacklevel=4)
    module = ModuleType(f"minigrad_jit_{key}")
    code = compile(source.replace("cache=True", "cache=False"), f"<mg.jit {path.name}>", "exec")
    exec(code, module.__dict__)  # generated by codegen: generated names only
    return module

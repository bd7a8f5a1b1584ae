"""Background compiles in a child process.

Numba compiles in Python and holds the GIL most of the time, so a compile on a thread of
the calling process halves the speed of the eager calls that run meanwhile (a cold
``minigrad train --jit`` took twice as long as eager training). ``compile_in_child``
instead writes the generated module to the disk cache and has a child process (this file,
``python -m minigrad.jit.worker``, at a lower priority) compile the kernel for the
signature; the calling thread only waits on the child, without the GIL. Numba's cache then
holds the machine code, and the parent loads it (``entry.compile_kernel``, about a second).

When the child cannot do it (no usable cache directory, the child fails or is killed),
``compile_in_child`` returns False and the caller compiles in its own process as before, so
errors reach the user the same way. Children still running when the parent exits are
terminated (a compile left behind would load the machine after the program ended).
"""

from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import minigrad

from . import cache

_children: set[subprocess.Popen] = set()
_children_lock = threading.Lock()
NICENESS = 5  # the child yields the cores to the parent's eager calls


def compile_in_child(source: str, signature: Any) -> bool:
    """Compile ``source``'s kernel for ``signature`` into Numba's disk cache in a child
    process; True when it did (load it from the cache next), False otherwise."""
    path = cache.module_path(cache.cache_key(source))
    try:
        cache.ensure_source(path, source)
        payload = pickle.dumps((str(path), signature))
    except (OSError, pickle.PicklingError):
        return False
    package_root = str(Path(minigrad.__file__).resolve().parent.parent)
    env = {**os.environ, "MINIGRAD_QUIET": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [package_root,
                                                       os.environ.get("PYTHONPATH")]))}
    try:
        child = subprocess.Popen([sys.executable, "-m", "minigrad.jit.worker"],
                                 stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, env=env)
    except OSError:
        return False
    with _children_lock:
        _children.add(child)
    try:
        child.communicate(payload)  # waits without the GIL
    finally:
        with _children_lock:
            _children.discard(child)
    return child.returncode == 0


@atexit.register
def _stop_children() -> None:
    with _children_lock:
        running = list(_children)
    for child in running:
        child.terminate()


def main() -> int:
    """The child: import the generated module at the path read from stdin and compile its
    kernel for the signature (Numba writes the machine code beside it)."""
    path, signature = pickle.loads(sys.stdin.buffer.read())
    try:
        os.nice(NICENESS)
    except OSError:
        pass
    key = Path(path).stem.removeprefix("mg_")
    module = cache.import_file(key, Path(path))
    module.kernel.compile(signature)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

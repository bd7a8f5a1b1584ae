"""One line on stderr for a compile that takes over a second (``MINIGRAD_QUIET=1``: none).

Numba compiles silently; a user whose first call takes ten seconds should see why. A timer
thread waits ``SLOW_SECONDS``; if the compile is still running it prints what is compiling,
then (on a terminal) refreshes the elapsed time in place, and the compile's end prints how
long it took.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator

SLOW_SECONDS = 1.0
REFRESH_SECONDS = 1.0


@contextlib.contextmanager
def announce_slow(what: str) -> Iterator[None]:
    """Run the body; if it lasts over SLOW_SECONDS, say so on stderr (see the module)."""
    if os.environ.get("MINIGRAD_QUIET"):
        yield
        return
    done = threading.Event()
    start = time.perf_counter()
    spoke = threading.Event()

    def watch() -> None:
        if done.wait(SLOW_SECONDS):
            return
        spoke.set()
        live = sys.stderr.isatty()
        _say(f"mg.jit: compiling {what} ...", end="" if live else "\n")
        while live and not done.wait(REFRESH_SECONDS):
            _say(f"\rmg.jit: compiling {what} ... {time.perf_counter() - start:.0f} s",
                 end="")

    watcher = threading.Thread(target=watch, name="mg.jit progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        if spoke.is_set():
            prefix = "\r" if sys.stderr.isatty() else ""
            _say(f"{prefix}mg.jit: compiled {what} in {time.perf_counter() - start:.1f} s")


def _say(text: str, end: str = "\n") -> None:
    print(text, end=end, file=sys.stderr, flush=True)

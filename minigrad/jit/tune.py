"""Thread settings chosen by measurement: each compiled kernel times its calls under each
setting it may use and keeps the fastest, looking again now and then.

Which setting is fastest depends on the machine, not only on the kernel: on session 12's
Intel machine the 784-256-256-10 Adam step took 4.04 ms with BLAS on both cores and 3.66 ms
on one thread (benchmarks/threads.py), where on session 11's AMD machine two BLAS threads
won. A rule fixed in advance (``blas.prepare``) is right on one machine and wrong on the
other, so a kernel with a choice measures: its first calls run each setting in turn, one
untimed call (the threads of a pool the other settings put to sleep wake up) then
``SAMPLES`` timed ones, and it keeps the setting with the lowest median; every ``RECHECK``
calls it compares them again the same way. (Alternating the settings call by call, the
MNIST step's setting with BLAS on two threads timed 5.97 ms; by itself it took 4.04 ms in
session 12's table.) Calls made on one thread because other processes keep the cores busy
(load.py) are not timed here. ``MINIGRAD_ADAPT_THREADS=0`` turns both off.

Settings: ``WIDE`` is the rule's choice (blas.prepare: BLAS on the cores for a
large product, else Numba's loops), ``ONE`` puts everything on one thread, ``LOOPS`` gives
the cores to Numba's loops with BLAS on one thread. Only a kernel whose rule gave BLAS the
cores chooses (``modes_for``); the others keep the rule (and load.py's switch). The
results do not depend on the setting beyond float rounding of sums split over threads (a
thread count is an argument of the kernel, as before).
"""

from __future__ import annotations

import os
import statistics
from collections import deque

import numba

from . import blas, load

WIDE, ONE, LOOPS = 0, 1, 2
SAMPLES = 7  # timed calls per setting in each comparison
RECHECK = 1000  # calls between comparisons


class ThreadTuner:
    """Picks the setting of each call of one kernel and records how long it took."""

    __slots__ = ("best", "calls", "modes", "queue", "times")

    def __init__(self, modes: tuple[int, ...]) -> None:
        self.modes = modes
        self.times: dict[int, deque[float]] = {m: deque(maxlen=SAMPLES) for m in modes}
        self.best = modes[0]
        self.calls = 0
        self.queue: list[tuple[int, bool]] = []  # (setting, timed) of the calls to come
        if len(modes) > 1:
            self._compare()

    def _compare(self) -> None:
        """Start a comparison: each setting in turn for one untimed call (its threads wake
        up: a pool put to sleep by the other settings is slow on its first call back) and
        ``SAMPLES`` timed ones, the setting in use last (no switch after the comparison)."""
        order = sorted(self.modes, key=lambda m: m == self.best)
        for mode in order:
            self.times[mode].clear()
        self.queue = [(m, k > 0) for m in order for k in range(SAMPLES + 1)]

    def pick(self) -> int:
        """The setting of this call."""
        return self.queue[0][0] if self.queue else self.best

    def record(self, mode: int, seconds: float) -> None:
        """A call in ``mode`` took ``seconds``: keep it; end a comparison once every
        setting has its samples; start one every ``RECHECK`` calls."""
        self.calls += 1
        if self.queue and self.queue[0][0] == mode:
            _, timed = self.queue.pop(0)
            if timed:
                self.times[mode].append(seconds)
            if not self.queue:
                self.best = min(self.modes, key=self._median)
        elif not self.queue:
            self.times[mode].append(seconds)
            if self.calls % RECHECK == 0 and len(self.modes) > 1:
                self._compare()

    def _median(self, mode: int) -> float:
        times = self.times[mode]
        return statistics.median(times) if times else float("inf")

    def summary(self) -> dict[str, object]:
        """The setting in use and the median seconds of each (for ``fn.stats()``)."""
        names = {WIDE: "default", ONE: "one thread", LOOPS: "loops on the cores"}
        return {"in use": names[self.best],
                "median s": {names[m]: self._median(m) for m in self.modes}}


def modes_for(numba_one_thread: bool, parallel: bool) -> tuple[int, ...]:
    """The settings a kernel may run in: a choice only for a kernel with a product large
    enough that the rule gives BLAS the cores (where the best setting differs between
    machines); ``(WIDE,)`` otherwise, or with ``MINIGRAD_ADAPT_THREADS=0`` (the rule alone)."""
    if os.environ.get("MINIGRAD_ADAPT_THREADS", "1") == "0":
        return (WIDE,)
    if numba_one_thread:  # a large product: BLAS on the cores by rule
        return (WIDE, ONE, LOOPS) if parallel else (WIDE, ONE)
    # Numba's loops alone on the cores: on an idle machine two threads over at least
    # PARALLEL_MIN_ELEMENTS beat one (load.py handles a busy one), and timing the choice
    # only risks keeping one thread after a noisy comparison
    return (WIDE,)


class CallThreads:
    """The thread setting of each call of one kernel: under load (load.py) one thread,
    untimed; else the tuner's pick, timed. ``begin()`` sets the threads and returns a
    token whose first item is the kernel's thread-count argument; ``end(token, seconds)``
    restores them and records the time (None: the call raised)."""

    __slots__ = ("adapt", "one_blas", "one_numba", "parallel", "tuner")

    def __init__(self, one_blas_thread: bool, numba_one_thread: bool, parallel: bool,
                 adapt: bool) -> None:
        """``adapt``: the kernel has threads of its own to adapt (parallel loops or BLAS
        products); otherwise every call runs as the rule says, untimed."""
        modes = modes_for(numba_one_thread, parallel) if adapt else (WIDE,)
        self.tuner = ThreadTuner(modes)
        self.one_blas, self.one_numba, self.parallel = one_blas_thread, numba_one_thread, parallel
        self.adapt = adapt

    def begin(self) -> tuple[int, int, bool, int, bool]:
        """Set this call's threads (Numba's and the kernels' BLAS, each only if the kernel
        uses it: a switch costs ~1-2 µs); (the count to pass to the kernel, the setting,
        whether under load, Numba's count to restore or 0, whether BLAS was limited)."""
        busy = self.adapt and load.others_busy()
        mode = ONE if busy else self.tuner.pick()
        if mode == WIDE:
            one_blas, one_numba = self.one_blas, self.one_numba
        elif mode == ONE:  # BLAS if the kernel has products, Numba if it has parallel loops
            one_blas, one_numba = self.one_blas or self.one_numba, self.parallel
        else:
            one_blas, one_numba = True, False
        if one_blas:
            blas.one_thread()
        previous = blas.numba_one_thread() if one_numba else 0
        threads = 1 if one_numba or not self.parallel else numba.get_num_threads()
        return threads, mode, busy, previous, one_blas

    def end(self, token: tuple[int, int, bool, int, bool], seconds: float | None) -> None:
        """Give the threads back and record the call's time."""
        _, mode, busy, previous, one_blas = token
        if previous:
            blas.numba_restore(previous)
        if one_blas:
            blas.restore()
        if seconds is not None and not busy and len(self.tuner.modes) > 1:
            self.tuner.record(mode, seconds)

"""Threads under load: compiled kernels drop to one thread while other processes keep the
cores busy.

A kernel with parallel loops (or a large BLAS product) splits its work over all cores and
then waits for the slowest part. When other processes occupy the cores, one of its threads
is descheduled at every call and the whole call waits for it: on this 2-core machine the
784-256-256-10 Adam step took 5.0 ms at one thread and 102 ms at the default two while two
other processes ran (benchmarks/threads.py). So before a call, ``others_busy()`` looks at
how busy the machine was over the last quarter second *apart from this process* (its own
threads, spinning or not, do not count): the machine's busy time from ``/proc/stat`` minus
this process's CPU time from ``/proc/self/stat``. When that exceeds ``BUSY_CORES`` the call
runs on one thread (Numba's and BLAS's), else on the configured count. The sample is taken
at most every ``INTERVAL`` seconds (two small file reads); between samples the last answer
is reused, so a call costs one clock read. Without ``/proc`` (not Linux), or with
``MINIGRAD_ADAPT_THREADS=0``, nothing changes. The switch itself is tune.CallThreads (which
also picks the thread setting of an idle machine by timing the calls).
"""

from __future__ import annotations

import os
import threading
import time

INTERVAL = 0.25  # seconds between samples of the machine's load
BUSY_CORES = 0.5  # cores busy with other processes from which kernels use one thread
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_lock = threading.Lock()
_last: dict[str, float] = {"at": float("-inf"), "busy": 0.0, "machine": -1.0, "own": -1.0}


def _ticks() -> tuple[float, float] | None:
    """(CPU ticks every core spent busy, ticks this process spent) since boot, or None."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()[1:]
        with open("/proc/self/stat") as own:
            after_name = own.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    machine = user + nice + system + irq + softirq + steal
    return float(machine), float(int(after_name[11]) + int(after_name[12]))  # utime, stime


def busy_elsewhere(now: float | None = None) -> float:
    """Cores kept busy by other processes over the last sample interval (0.0 when unknown)."""
    now = time.monotonic() if now is None else now
    if now - _last["at"] < INTERVAL:
        return _last["busy"]
    with _lock:
        if now - _last["at"] < INTERVAL:
            return _last["busy"]
        ticks = _ticks()
        if ticks is None:
            _last.update(at=float("inf"), busy=0.0)  # never look again
            return 0.0
        machine, own = ticks
        if _last["machine"] >= 0:  # the average since the previous sample
            others = (machine - _last["machine"]) - (own - _last["own"])
            _last["busy"] = max(others, 0.0) / (_TICKS * (now - _last["at"]))
        else:
            _last["busy"] = 0.0  # the first sample: nothing to compare with, assume idle
        _last.update(at=now, machine=machine, own=own)
        return _last["busy"]


def others_busy() -> bool:
    """Whether kernels should run on one thread now (see the module docstring)."""
    if os.environ.get("MINIGRAD_ADAPT_THREADS", "1") == "0":
        return False
    return busy_elsewhere() >= BUSY_CORES

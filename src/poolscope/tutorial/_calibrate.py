"""One CPU calibration for every workload: how many steps of a task run in a second here.

CPU tasks are a fixed amount of *work* sized to take about so many seconds on one idle
thread (under the GIL, four of them on four threads then take about four times as long:
the point they demonstrate). Every workload module sizes its tasks with
:func:`steps_per_second`.

    >>> def count(n):
    ...     return sum(range(n))
    >>> steps_per_second(count, least=0.005) > 1000
    True
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["steps_per_second"]


def steps_per_second(task: Callable[[int], Any], *, runs: int = 3, least: float = 0.02,
                     clock: Callable[[], float] = time.perf_counter) -> float:
    """How many steps ``task(n)`` does per second of ``clock``, here and now.

    ``task(1)`` is called once untimed (a first call may import or build what the task
    needs). Then ``n`` doubles from 1 until one run takes at least ``least`` seconds,
    long enough to time well on a coarse clock; that run and ``runs - 1`` more of the
    same ``n`` are timed, and the fastest counts. On a busy machine a run can be
    interrupted, which would make the rate too low and every task sized with it too
    short; the fastest run is the closest to the real speed. ``clock``:
    ``time.perf_counter`` (wall time) or ``time.thread_time`` (this thread's CPU time,
    which another program's load does not inflate).
    """
    task(1)
    n, took = 1, 0.0
    while n < 1 << 40:
        start = clock()
        task(n)
        took = clock() - start
        if took >= least:
            break
        n *= 2
    for _ in range(runs - 1):
        start = clock()
        task(n)
        took = min(took, clock() - start)
    return n / max(took, 1e-9)

"""Demo workloads: tasks that wait (like I/O), tasks that compute, tasks that fail.

    >>> sleep_task(0.01)
    0.01
    >>> trace = run_demo(workers=2, tasks=4, duration=0.01, method="map")
    >>> [t.outcome for t in trace.tasks]
    ['finished', 'finished', 'finished', 'finished']
"""

from __future__ import annotations

import time
from functools import lru_cache
from multiprocessing.pool import ThreadPool
from typing import TYPE_CHECKING, Literal

from .._options import choice
from ._calibrate import steps_per_second

if TYPE_CHECKING:
    from ..trace import Trace

METHODS = ("map", "map_async", "imap", "imap_unordered", "apply", "apply_async",
           "starmap", "starmap_async")
Method = Literal["map", "map_async", "imap", "imap_unordered", "apply", "apply_async",
                 "starmap", "starmap_async"]


def sleep_task(duration: float) -> float:
    """Wait ``duration`` seconds without using the CPU (a stand-in for I/O); the GIL is
    released while sleeping, so threads overlap."""
    time.sleep(duration)
    return duration


@lru_cache(maxsize=1)
def _loops_per_second() -> float:
    """How fast this interpreter runs ``_spin`` (see :func:`._calibrate.steps_per_second`).

    Calibrated once per process, on one thread (before any pool competes for the GIL);
    the playground's CPU tasks use the same figure.
    """
    return steps_per_second(_spin)


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def cpu_task(duration: float) -> int:
    """Pure-Python arithmetic that takes about ``duration`` seconds on one idle thread.

    A fixed amount of *work*, not a time limit: under the GIL, four of these on four
    threads take about four times as long, which is the point they demonstrate.
    """
    return _spin(int(_loops_per_second() * duration))


def failing_task(item: int, duration: float = 0.1, bad: tuple[int, ...] = (3,)) -> int:
    """Sleep ``duration``, then raise ``ValueError`` for the items in ``bad``.

    >>> failing_task(3, 0)
    Traceback (most recent call last):
    ValueError: item 3 is bad
    """
    time.sleep(duration)
    if item in bad:
        raise ValueError(f"item {item} is bad")
    return item


def run_demo(workers: int = 4, tasks: int = 12, duration: float = 0.2,
             method: Method = "map", chunksize: int | None = None,
             work: Literal["sleep", "cpu"] = "sleep") -> Trace:
    """Record ``tasks`` tasks of ``duration`` seconds run through ``method`` on a
    ``ThreadPool(workers)``; the pool is closed and joined, so every task runs."""
    from ..recording import record

    choice("method", method, METHODS)
    choice("work", work, ("sleep", "cpu"))
    if chunksize is not None and method in ("apply", "apply_async"):
        raise ValueError(f"chunksize cannot be used with {method} (one task per call)")
    fn = sleep_task if work == "sleep" else cpu_task
    if work == "cpu":
        _loops_per_second()  # calibrate before recording
    items = [duration] * tasks
    with record() as trace:
        with ThreadPool(workers) as pool:
            _submit(pool, fn, items, method, chunksize)
            pool.close()
            pool.join()
    return trace


def _submit(pool: ThreadPool, fn, items: list[float], method: str,
            chunksize: int | None) -> None:
    if method == "apply":  # one call at a time: it blocks until the task is done
        for x in items:
            pool.apply(fn, (x,))
    elif method == "apply_async":
        for result in [pool.apply_async(fn, (x,)) for x in items]:
            result.get()
    elif method in ("imap", "imap_unordered"):
        list(getattr(pool, method)(fn, items, chunksize or 1))
    else:
        args = [(x,) for x in items] if method.startswith("starmap") else items
        call = getattr(pool, method)
        result = call(fn, args, chunksize)
        if method.endswith("_async"):
            result.get()

"""What notebook 13 (big inputs and results) runs: a memory meter, the tasks of its
process pool, and the workload its feeder exercise is judged on.

- :func:`peak_memory`: the peak of Python's allocations inside a ``with`` block
  (``tracemalloc``), above what was allocated when the block began;
- :func:`crawl` and :func:`parse`: a task that fails two calls deep, importable so a
  spawned worker process can run it (a process pool sends a task by module and name);
- :class:`CountedInput` and :class:`Workload`: an input that counts how far ahead of the
  results taken it is pulled, and a task that notes the threads it ran in.

    >>> with peak_memory() as memory:
    ...     page = bytes(1_000_000)
    ...     del page
    >>> 1_000_000 <= memory.peak < 1_100_000
    True
    >>> items = CountedInput(range(3))
    >>> first = next(items); items.took()
    >>> second = next(items)
    >>> items.pulled, items.taken, items.ahead
    (2, 1, [1, 1])
"""

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["CountedInput", "Peak", "Workload", "crawl", "parse", "peak_memory"]


class Peak:
    """What :func:`peak_memory` measured: ``peak``, in bytes (0 until the block ends)."""

    def __init__(self) -> None:
        self.peak = 0

    def __repr__(self) -> str:
        return f"<Peak: {self.peak / 1e6:.1f} MB>"


@contextmanager
def peak_memory() -> Iterator[Peak]:
    """Measure the most memory Python code allocated at once inside the block.

    ``tracemalloc`` sees every allocation of every thread of the process (the pool's
    workers too), but not memory a C library takes without telling Python. The peak is
    counted from what was allocated when the block began, so what the notebook held
    before does not count. If tracing is already on (``python -X tracemalloc``), it is
    left on.

        >>> with peak_memory() as memory:
        ...     pages = [bytes(500_000) for _ in range(4)]
        >>> memory.peak >= 2_000_000
        True
    """
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    tracemalloc.reset_peak()  # 3.9+: forget the peaks of earlier blocks
    start = tracemalloc.get_traced_memory()[0]
    measured = Peak()
    try:
        yield measured
    finally:
        measured.peak = max(0, tracemalloc.get_traced_memory()[1] - start)
        if not already:
            tracemalloc.stop()


# -- a task that fails two calls deep (for a process pool's traceback) ------------------

def parse(page: int) -> str:
    """Parse a page: every page here fails.

        >>> parse(3)
        Traceback (most recent call last):
        ValueError: page 3 is not HTML
    """
    raise ValueError(f"page {page} is not HTML")


def crawl(page: int) -> str:
    """Fetch and parse ``page``: the task, one frame above :func:`parse`."""
    return parse(page)


# -- the workload exercise 13.1 is judged on -----------------------------------------------

class CountedInput:
    """An iterator over ``items`` that counts how far ahead of the results it is pulled.

    The consumer calls :meth:`took` each time it takes a result; at each item pulled,
    ``ahead`` notes how many pulled items had no result taken yet (this one included).
    Reads and writes of ints are atomic under the GIL, and the consumer is the only
    writer of ``taken``, so the counts are exact whichever thread pulls.
    """

    def __init__(self, items: Iterable[Any]):
        self._items = iter(items)
        self.pulled = 0
        self.taken = 0
        self.ahead: list[int] = []
        self.first_result_after: int | None = None  # items pulled when the first was taken

    def __iter__(self) -> CountedInput:
        return self

    def __next__(self) -> Any:
        item = next(self._items)  # StopIteration ends the input (nothing counted)
        self.pulled += 1
        self.ahead.append(self.pulled - self.taken)
        return item

    def took(self) -> None:
        """The consumer took one more result."""
        if self.taken == 0:
            self.first_result_after = self.pulled
        self.taken += 1


class Workload:
    """A task for a feeder: ``x -> x * 10``, waiting like I/O (item 0 is slow, so results
    in completion order differ from input order); it notes the threads it ran in."""

    SLOW, FAST = 0.2, 0.01

    def __init__(self) -> None:
        self.threads: set[int] = set()
        self._lock = threading.Lock()  # several workers add at once

    def __call__(self, x: Any) -> Any:
        with self._lock:
            self.threads.add(threading.get_ident())
        time.sleep(self.SLOW if x == 0 else self.FAST)
        return x * 10

    def __repr__(self) -> str:
        return "<task: x -> x * 10>"

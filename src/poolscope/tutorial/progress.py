"""The search of ``12-Progress-and-Stopping.ipynb``: pages read line by line.

A page is downloaded (0.1 s), then read one line at a time (0.2 s a line); the word
``needle`` is on line 0 of page 3. A task that looks at a stop flag before each step
therefore looks at it on odd tenths of a second while it reads its first page, and on
even tenths on the next: when one task sets the flag, every other running task is
halfway through a line, so the timeline of the search is the same on every run.

    >>> LINES[3], NEEDLE, WORD
    (2, (3, 0), 'needle')
    >>> with reads_counted(seconds=0) as reads:
    ...     download(3)
    ...     text = read_line(3, 0)
    >>> text, reads.downloads, reads.lines
    ('a needle in the hay', 1, 1)

:func:`reads_counted` is for the exercise's check: it counts what *one thread* read
(other threads are not counted), can speed the reading up, and can act while a line is
being read (``on_read``), which is how the check asks a task to stop halfway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# Lines per page. Pages 1 and 2 are long, so they are still being read when page 3
# (started at 0.3 s, after page 0) finds the word at 0.6 s.
LINES = {0: 1, 1: 4, 2: 4, 3: 2, 4: 1, 5: 1}
PAGES = list(LINES)
NEEDLE = (3, 0)  # (page, line) of the word
WORD = "needle"
DOWNLOAD_SECONDS = 0.1
LINE_SECONDS = 0.2


@dataclass
class Reads:
    """What one thread did inside :func:`reads_counted`."""

    downloads: int = 0
    lines: int = 0


_here = threading.local()  # the current thread's Reads, speed and on_read, if counted


def download(page: int) -> None:
    """Download ``page``: 0.1 s of waiting, like a network call.

    >>> download(0) is None
    True
    """
    _check_page(page)
    counted = getattr(_here, "reads", None)
    if counted is not None:
        counted.downloads += 1
    time.sleep(_seconds(DOWNLOAD_SECONDS))


def read_line(page: int, n: int) -> str:
    """Read line ``n`` of ``page`` (0.2 s) and return its text.

    >>> read_line(2, 0)[:8]
    'hay, hay'
    """
    _check_page(page)
    if not isinstance(n, int) or not 0 <= n < LINES[page]:
        raise ValueError(f"page {page} has lines 0 to {LINES[page] - 1}; got {n!r}")
    counted = getattr(_here, "reads", None)
    if counted is not None:
        counted.lines += 1
        hook = getattr(_here, "on_read", None)
        if hook is not None:
            hook(counted)  # while the line is being read (a check sets a flag here)
    time.sleep(_seconds(LINE_SECONDS))
    return "a needle in the hay" if (page, n) == NEEDLE else "hay, hay and more hay"


@contextmanager
def reads_counted(seconds: float | None = None,
                  on_read: Callable[[Reads], object] | None = None) -> Iterator[Reads]:
    """Count the downloads and lines the *current thread* reads inside the block.

    ``seconds`` replaces the time of every step (0 for a quick test); ``on_read(reads)``
    is called at the start of each line, with the counts so far.

        >>> with reads_counted(seconds=0, on_read=lambda r: print("line", r.lines)) as r:
        ...     _ = read_line(1, 0), read_line(1, 1)
        line 1
        line 2
    """
    saved = (getattr(_here, "reads", None), getattr(_here, "seconds", None),
             getattr(_here, "on_read", None))
    reads = Reads()
    _here.reads, _here.seconds, _here.on_read = reads, seconds, on_read
    try:
        yield reads
    finally:
        _here.reads, _here.seconds, _here.on_read = saved


def _seconds(default: float) -> float:
    override = getattr(_here, "seconds", None)
    return default if override is None else override


def _check_page(page: object) -> None:
    if isinstance(page, bool) or not isinstance(page, int) or page not in LINES:
        raise ValueError(f"no page {page!r}: the pages are {PAGES}")

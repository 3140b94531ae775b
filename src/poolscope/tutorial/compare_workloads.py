"""Tasks for notebooks 14 and 15, importable so that a process pool can run them too.

A process ``Pool`` sends each task to another process by *name* (pickle stores
``module.function``), so a worker started with the ``spawn`` start method must be able
to import the function. Functions defined in a notebook live in the kernel's
``__main__``, which a spawned worker does not have: the task fails in the worker and the
pool waits for a result that never comes. These live in a module instead.

    >>> marks = crunch(10_000)
    >>> len(marks) == 10_000 // MARK_EVERY + 1 and marks == sorted(marks)
    True
    >>> computing_at_once([marks, crunch(10_000)])   # one after the other
    1
    >>> square(7)
    49
    >>> seen = []
    >>> remember(seen, "a"), remember(seen, "b"), seen
    (1, 2, ['a', 'b'])
    >>> fetch(("a.html", 0.01)), state()
    ('a.html', 'as imported')
    >>> set_state("verbose"); state()
    'verbose'
    >>> set_state("as imported")
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..summary import most_at_once
from ._calibrate import steps_per_second

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["MARK_EVERY", "PAGES", "STATE", "computing_at_once", "crunch", "fetch", "loops_for",
           "remember", "set_state", "side_by_side", "square", "state"]

# Steps of crunch() between two time marks: well under a millisecond of work, so a
# stretch without a pause is short, while a thread that waited for the GIL (another
# thread keeps it for 5 ms, sys.getswitchinterval()) makes one stretch far longer.
MARK_EVERY = 2_000
# A stretch counts as computing when it took at most this many times the task's
# median stretch: pauses (waiting for the GIL, the OS running something else) are
# longer, by milliseconds.
_PAUSE_FACTOR = 3.0


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0; got {value!r}")
    return value


def crunch(n: int) -> list[float]:
    """Run ``n`` steps of pure-Python arithmetic, noting the time every ``MARK_EVERY`` steps.

    Returns the marks (``time.monotonic()`` seconds, one clock for every process of the
    machine): the first when it starts, the last when it ends. A fixed amount of
    *work* (``n`` is chosen by the caller, so every pool gets the same work), and a
    record of when the work really went on: see :func:`computing_at_once`.

    >>> len(crunch(0)), len(crunch(MARK_EVERY + 1))
    (1, 3)
    """
    _whole(n, "n")
    clock = time.monotonic
    marks = [clock()]
    done = 0
    while done < n:
        step = min(MARK_EVERY, n - done)
        total = 0
        for i in range(step):
            total += i * i
        done += step
        marks.append(clock())
    return marks


def computing_at_once(results: Iterable[list[float]]) -> int:
    """The most tasks that were computing at the same moment, from their ``crunch`` marks.

    A stretch between two marks counts as computing when it took at most three times
    the task's median stretch. Under the GIL only one thread runs Python code at a
    time, so the stretches of two threads' tasks never overlap: the answer is 1 however
    many threads ran. Worker processes each have their own interpreter: two of them
    computing at once on two cores give 2.

    >>> computing_at_once([[0.0, 1.0, 2.0], [1.5, 2.5, 3.5]])   # overlap in 1.5 - 2.0
    2
    >>> computing_at_once([[0.0, 1.0, 9.0, 10.0], [1.0, 2.0, 3.0]])  # 1.0 - 9.0 is a pause
    1
    """
    computing: list[tuple[float, float]] = []
    for k, marks in enumerate(results):
        if not isinstance(marks, (list, tuple)) or not all(
                isinstance(m, (int, float)) and not isinstance(m, bool) for m in marks):
            raise ValueError(f"task {k}: expected the list of time marks crunch() returns, "
                             f"got {type(marks).__name__}")
        stretches = [(a, b) for a, b in zip(marks, marks[1:]) if b > a]
        if not stretches:
            continue
        lengths = sorted(b - a for a, b in stretches)
        limit = _PAUSE_FACTOR * lengths[len(lengths) // 2]
        for a, b in stretches:
            if b - a <= limit:
                computing.append((a, b))
    return most_at_once(computing)


@lru_cache(maxsize=1)
def _steps_per_cpu_second() -> float:
    # CPU time, not wall time: a busy machine does not make the calibration smaller.
    # At least 50 ms of it, as thread_time() ticks coarsely on some systems (Windows).
    return steps_per_second(crunch, least=0.05, clock=time.thread_time)


def loops_for(seconds: float) -> int:
    """How many ``crunch`` steps take about ``seconds`` of CPU time here (calibrated once).

    >>> loops_for(0.1) > 1000
    True
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
        raise ValueError(f"seconds must be a positive number; got {seconds!r}")
    return int(_steps_per_cpu_second() * seconds)


def square(x: Any) -> Any:
    """``x * x``: what a notebook might write as ``lambda x: x * x``, but importable."""
    return x * x


def remember(seen: list, item: Any) -> int:
    """Append ``item`` to ``seen`` and return its new length.

    In a thread pool ``seen`` is the caller's own list; in a process pool the task gets a
    pickled *copy*, and the caller's list never changes.
    """
    if not isinstance(seen, list):
        raise TypeError(f"seen must be a list; got {type(seen).__name__}")
    seen.append(item)
    return len(seen)


# Exercise 14.1's pages, as (name, seconds to download), in the order they are submitted.
# They finish in another order (b, c, a), which is neither this one nor the alphabetical
# one, so only a program that collects results as they finish gets it. The durations
# lie 0.2 s apart and the shortest takes 0.2 s: a busy machine delays a thread by far
# less, so it does not change which page finishes first.
PAGES: list[tuple[str, float]] = [("c.html", 0.4), ("a.html", 0.6), ("b.html", 0.2)]


def fetch(page: tuple[str, float]) -> str:
    """Wait as long as ``page``, a ``(name, seconds)`` pair, takes to download, and return
    its name: a task whose result tells which task it was, and not how long it took.

    >>> fetch(("index.html", 0))
    'index.html'
    """
    if (not isinstance(page, (tuple, list)) or len(page) != 2 or not isinstance(page[0], str)
            or isinstance(page[1], bool) or not isinstance(page[1], (int, float))
            or not page[1] >= 0):
        raise ValueError(f"page must be a (name, seconds) pair such as ('a.html', 0.6); "
                         f"got {page!r}")
    time.sleep(page[1])
    return page[0]


# A module-level setting that a caller may change at run time. A worker process made by
# *fork* is a copy of the caller, change included; one made by *spawn* or *forkserver*
# imports this module afresh and sees the value below.
STATE = "as imported"


def state(_: Any = None) -> str:
    """This module's ``STATE`` as the process that runs it sees it."""
    return STATE


def set_state(*value: Any) -> None:
    """Set this module's ``STATE`` in the process that runs it: a process pool's
    ``initializer`` (``initializer=set_state, initargs=("verbose",)``), run once in each
    worker process as it starts.

    It takes any number of arguments and never raises, because an initializer that
    raises kills its worker, the pool starts another that fails the same way, and
    ``map`` waits forever. A call with other than one argument (``initargs="verbose"``
    passes seven letters) leaves a note in ``STATE`` instead, which the tasks then read.

    >>> set_state("v", "e"); state()
    "set_state() got 2 arguments: initargs must be a tuple of one value, like ('verbose',)"
    >>> set_state("as imported")
    """
    global STATE
    if len(value) == 1:
        STATE = value[0]
    else:
        STATE = (f"set_state() got {len(value)} arguments: initargs must be a tuple of one "
                 "value, like ('verbose',)")


def side_by_side(traces: dict[str, Any], axes: Any = None) -> list[Axes]:
    """Each trace's timeline in a panel of its own, all on one time scale, each from its
    first task (so a process pool's start-up, before its first task, is left out).

    ``traces`` maps a panel's title to a trace; ``axes``, one Axes per trace, defaults to
    a new row of panels. Returns the Axes. matplotlib is imported only when called.

        side_by_side({"ThreadPool": t1, "Pool (spawn)": t2})
        plt.show()   # (nbval runs cells without history, so a ";" would not hide the list)
    """
    if not traces or not all(getattr(t, "tasks", None) for t in traces.values()):
        raise ValueError("traces must map each panel's title to a trace with tasks")
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, len(traces), figsize=(5 * len(traces), 2.6),
                               layout="constrained", squeeze=False)
        axes = axes[0]
    axes = list(axes)
    if len(axes) != len(traces):
        raise ValueError(f"{len(traces)} traces need {len(traces)} axes, not {len(axes)}")
    firsts = [min(t.submitted for t in trace.tasks) for trace in traces.values()]
    longest = max(max((t.finished or t.submitted) for t in trace.tasks) - first
                  for trace, first in zip(traces.values(), firsts))
    for ax, (name, trace), first in zip(axes, traces.items(), firsts):
        trace.plot(ax=ax, legend=False)
        start, end = first - 0.02, first + longest + 0.05
        ax.set_xlim(start, end)
        ax.set_title(name)
        for mark in ax.texts:  # labels of marks left of the panel (the pool's creation)
            mark.set_visible(start <= mark.get_position()[0] <= end)
    return axes

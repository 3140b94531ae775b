"""Helpers that several notebooks' checks share: reading answers and recorded traces.

Each raises :class:`NotYet` (with a hint for the learner) when an answer is not of the
kind the check can use, and returns it in a handier form otherwise.

    >>> from poolscope.trace import FINISHED, Task, Trace
    >>> spans = [(0.0, 0.2), (0.0, 0.1), (0.1, 0.2)]
    >>> trace = Trace.from_records([Task(0, "map", 0, i, f"w{i}", i, 0.0, a, b, FINISHED)
    ...                             for i, (a, b) in enumerate(spans)])
    >>> most_at_once(recorded_tasks(trace, "my_trace"))
    2
    >>> recorded_tasks(42, "my_trace")
    Traceback (most recent call last):
    ...
    poolscope.tutorial.checks._feedback.NotYet: my_trace should be the trace your answer cell recorded
    >>> as_list((1, 2), "items", "[1, 2]"), reordered([2, 1], [1, 2]), whole(3.0, "n", "7")
    ([1, 2], True, 3)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..._log import CALLS
from ...summary import most_at_once as sweep
from ...trace import Event, Trace, TraceData
from ._feedback import NotYet, shown

RUN_FIRST = "run the answer cell first: its first line, %%timeline --out {name}, records it"


def number(value: Any, name: str, example: str) -> float:
    """``value`` as a float, or :class:`NotYet` saying what kind of answer is wanted."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise NotYet(f"{name} should be a number, like {example}; got {shown(value)}",
                     show=False)
    try:
        got = float(value)
    except OverflowError:  # an int beyond a float's range
        raise NotYet(f"{name} = {shown(value)} is far out of range; it should be a number "
                     f"like {example}", show=False) from None
    if not math.isfinite(got):
        raise NotYet(f"{name} should be a number, like {example}; got {shown(value)}",
                     show=False)
    return got


def whole(value: Any, name: str, example: str) -> int:
    """``value`` as an int (3.0 is fine, 3.5 is not), or :class:`NotYet`."""
    got = number(value, name, example)
    if got != int(got):
        raise NotYet(f"{name} should be a whole number, like {example}; got {shown(value)}",
                     show=False)
    return int(got)


def as_list(value: Any, name: str, example: str) -> list:
    """``value`` (a list or tuple) as a list, or :class:`NotYet` asking for a list."""
    if not isinstance(value, (list, tuple)):
        raise NotYet(f"{name} should be a list", expected=example, got=value,
                     hint=f"write a list, like {example}")
    return list(value)


def reordered(got: list, expected: list) -> bool:
    """True when ``got`` holds the same items as ``expected`` in another order."""
    try:
        return got != expected and sorted(got) == sorted(expected)
    except TypeError:  # items that do not compare (None, strings and numbers)
        return False


def trace_data(trace: Any) -> TraceData:
    """The records of an answer cell's trace (``%%timeline --out NAME``), or :class:`NotYet`."""
    if not isinstance(trace, Trace):
        raise NotYet(f"the check needs the trace of your answer cell; got {shown(trace)}",
                     hint="keep the first line of the answer cell (%%timeline --out ...) "
                          "as it is, and run that cell before this one", show=False)
    return trace.data()


def recorded_tasks(trace: Any, name: str) -> list:
    """The recorded tasks of ``trace``, or NotYet when it is not a trace at all."""
    tasks = getattr(trace, "tasks", None)
    # A trace's tasks are a sequence (columns, with Task objects made on access).
    if not isinstance(tasks, Sequence) or isinstance(tasks, (str, bytes)):
        raise NotYet(f"{name} should be the trace your answer cell recorded",
                     hint=RUN_FIRST.format(name=name), show=False)
    return list(tasks)


def most_at_once(tasks: list) -> int:
    """The largest number of tasks that were running at the same moment (the library's
    one sweep: a task that finishes as another starts does not overlap it)."""
    return sweep((t.started, t.finished) for t in tasks
                 if getattr(t, "started", None) is not None
                 and getattr(t, "finished", None) is not None)


def pool_size(trace: Any, tasks: Any) -> int | None:
    """The number of workers of the (largest) pool that ran ``tasks``; None when the
    trace does not say."""
    used = {getattr(t, "pool", None) for t in tasks}
    sizes = [p.size for p in getattr(trace, "pools", None) or [] if p.index in used]
    return max(sizes, default=None)


def largest_chunk(tasks: Any) -> int:
    """The most items one chunk held (1 when each item was a task of its own): a worker
    runs the items of a chunk one after another."""
    chunks = Counter((t.call_id, t.chunk) for t in tasks if getattr(t, "chunk", None) is not None)
    return max(chunks.values(), default=1)


# Waits that end when a result has arrived: the blocking calls, get(), wait(), next().
_WAITS = frozenset({"apply", "map", "starmap", "get", "wait", "next"})


def waited_before_submitting(trace: Any) -> Event | None:
    """The first wait for a result (a blocking call, ``get()``, ...) that ended before
    the same thread submitted a later call, or None when every call was submitted
    before any wait.

    It depends on the order of what the caller did, not on how long the tasks took,
    so a loaded machine cannot change it: a loop of ``apply`` (or of
    ``apply_async(...).get()``) always waits between submissions; one ``map`` never does.

        >>> from poolscope.trace import Event, Trace
        >>> loop = [Event("apply", 0, "main", 0.0, 0.1, "ok", 0),
        ...         Event("apply", 0, "main", 0.1, 0.2, "ok", 1)]
        >>> waited_before_submitting(Trace.from_records(events=loop)).call_id
        0
        >>> waited_before_submitting(Trace.from_records(events=loop[:1])) is None
        True
    """
    events = list(getattr(trace, "events", None) or [])
    sent = [e for e in events if e.kind in CALLS]
    # e.blocking: an executor's "map" only submits, it waits for nothing.
    done = [e for e in events if e.blocking and e.kind in _WAITS and e.end is not None
            and e.status in ("ok", "raised", "stop")]
    for wait in sorted(done, key=lambda e: e.end):
        if any(s.thread == wait.thread and s.call_id != wait.call_id and s.start >= wait.end
               for s in sent):
            return wait
    return None

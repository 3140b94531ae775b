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
    poolscope.checks._feedback.NotYet: my_trace should be the trace your answer cell recorded
    >>> as_list((1, 2), "items", "[1, 2]"), reordered([2, 1], [1, 2]), whole(3.0, "n", "7")
    ([1, 2], True, 3)
"""

from __future__ import annotations

import math
from typing import Any

from ..trace import Trace, TraceData
from ._feedback import NotYet

RUN_FIRST = "run the answer cell first: its first line, %%timeline --out {name}, records it"


def number(value: Any, name: str, example: str) -> float:
    """``value`` as a float, or :class:`NotYet` saying what kind of answer is wanted."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise NotYet(f"{name} should be a number, like {example}; got {value!r}", show=False)
    return float(value)


def whole(value: Any, name: str, example: str) -> int:
    """``value`` as an int (3.0 is fine, 3.5 is not), or :class:`NotYet`."""
    got = number(value, name, example)
    if got != int(got):
        raise NotYet(f"{name} should be a whole number, like {example}; got {value!r}",
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
        raise NotYet(f"the check needs the trace of your answer cell; got {trace!r}",
                     hint="keep the first line of the answer cell (%%timeline --out ...) "
                          "as it is, and run that cell before this one", show=False)
    return trace.data()


def recorded_tasks(trace: Any, name: str) -> list:
    """The recorded tasks of ``trace``, or NotYet when it is not a trace at all."""
    tasks = getattr(trace, "tasks", None)
    if not isinstance(tasks, list):
        raise NotYet(f"{name} should be the trace your answer cell recorded",
                     hint=RUN_FIRST.format(name=name), show=False)
    return tasks


def most_at_once(tasks: list) -> int:
    """The largest number of tasks that were running at the same moment."""
    edges = []
    for t in tasks:
        if getattr(t, "started", None) is not None and getattr(t, "finished", None) is not None:
            edges += [(t.started, 1), (t.finished, -1)]
    running = most = 0
    for _, step in sorted(edges):  # at the same instant a finish (-1) comes first
        running += step
        most = max(most, running)
    return most

"""Checks for the exercises of ``08-Callbacks-and-Deadlocks.ipynb``.

    >>> ok = ex8_1([True, False, False])
    Exercise 8.1 - After a callback raises: solved!
      the first result was delivered before the callback broke; the second never ...
    >>> ex8_1([True, False, True])
    Exercise 8.1 - After a callback raises: not solved yet.
      ready is not right yet
      hint: the third task finished in its worker, but which thread hands its result over, now?
    False

Exercises 8.2 and 8.3 look at what the learner's cell did, through the trace that
``%%timeline --out NAME`` recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import NotYet, exercise, expect, expect_true
from ._feedback import shown
from ._traces import as_list, recorded_tasks

# Calls that make the calling thread wait for the pool (submitting alone does not).
WAITS = frozenset({"get", "wait", "next", "apply", "map", "starmap"})


def _events(trace: Any) -> list:
    """The trace's events as a list (a trace keeps them in a read-only sequence)."""
    events = getattr(trace, "events", None)
    if isinstance(events, Sequence) and not isinstance(events, (str, bytes)):
        return list(events)
    return []


def _sorted(values: list) -> list:
    try:
        return sorted(values)
    except TypeError:  # items that do not compare: keep the order
        return values


# -- 8.1 -------------------------------------------------------------------------------

EXPECTED_8_1 = [True, False, False]
_HINTS_8_1 = (
    "the first result (10) came before the callback broke: was its callback fine?",
    "a callback runs before its result is marked ready; when the callback raises, "
    "that last step never comes",
    "the third task finished in its worker, but which thread hands its result over, now?",
)


@exercise("8.1", "After a callback raises")
def ex8_1(ready: Any) -> str:
    got = as_list(ready, "ready", "[True, True, True]")
    if len(got) != 3 or not all(isinstance(v, bool) for v in got):
        raise NotYet("ready should be three True/False values, one per result",
                     expected="[True or False, True or False, True or False]", got=ready,
                     hint="write a list like [True, True, True]")
    for k, (value, right) in enumerate(zip(got, EXPECTED_8_1)):
        if value != right:
            raise NotYet("ready is not right yet", hint=_HINTS_8_1[k], show=False)
    return ("the first result was delivered before the callback broke; the second never "
            "became ready (its callback raised first), and nobody delivers the third "
            "(3.11-3.15: from 3.16 the callback's exception becomes the result instead).")


# -- 8.2 -------------------------------------------------------------------------------

@exercise("8.2", "A callback that cannot break the pool")
def ex8_2(parsed: Any, problems: Any, trace: Any) -> str:
    tasks = recorded_tasks(trace, "ex8_2_trace")
    expect_true(tasks, "the pool ran no tasks: uncomment the code and fix it",
                hint="keep the with block and the apply_async calls with callback=parse")
    callbacks = [e for e in _events(trace) if e.kind == "callback"]
    expect_true(callbacks, "no callback ran", hint="keep callback=parse in apply_async")
    raised = [e for e in callbacks if e.status == "raised"]
    expect_true(not raised, f"{len(raised)} callback(s) still raised, and the result "
                "handler died with the first", hint="in parse(), catch the ValueError "
                "that int() raises (try/except) and note the text in problems")
    expect_true(len(callbacks) == 3 and all(e.status == "ok" for e in callbacks),
                f"{len(callbacks)} of the 3 callbacks ran to the end",
                hint="collect the three results inside the with block, with get(timeout=1)")
    numbers = as_list(parsed, "parsed", "[100, 300]")
    expect(_sorted(numbers), [100, 300], message="parsed is not right yet",
           hint="parse() appends int(text) for each text that is a number")
    notes = as_list(problems, "problems", "['n/a']")
    expect_true(len(notes) == 1 and (notes[0] == "n/a" or isinstance(notes[0], ValueError)),
                f"problems should hold the one text that is not a number; got {shown(notes)}",
                hint="in the except block, append the text to problems")
    return "every callback returned, so every result was delivered; the bad text is noted."


# -- 8.3 -------------------------------------------------------------------------------

EXPECTED_8_3 = [300, 700]


def _own_pool_waits(trace: Any) -> list:
    """Waits made by a worker thread on its own pool (the deadlock's shape)."""
    workers = {(w.pool, w.name) for w in getattr(trace, "workers", None) or []}
    return [e for e in _events(trace)
            if e.kind in WAITS and (e.pool, e.thread) in workers]


_WAITS_FOR_ITS_POOL = ("a task that waits for another task of its own pool waits for a "
                       "worker that is busy waiting too")


def _ex8_3_stub(totals: Any, trace: Any) -> str | None:
    """While totals is ``...``: did the cell run the deadlocking code and stop?"""
    tasks = getattr(trace, "tasks", None)
    failed = [t for t in (tasks if isinstance(tasks, Sequence) else [])
              if getattr(t, "outcome", None) == "failed"]
    if failed:
        return (f"your cell stopped before it set totals: a task failed in the pool "
                f"({failed[0].error}); {_WAITS_FOR_ITS_POOL}")
    return None


@exercise("8.3", "A task that waits for its own pool", stub_note=_ex8_3_stub)
def ex8_3(totals: Any, trace: Any) -> str:
    tasks = recorded_tasks(trace, "ex8_3_trace")
    expect_true(tasks, "the pool ran no tasks: uncomment the code and fix it",
                hint="keep pool.map(total, [[1, 2], [3, 4]]) on a ThreadPool(2)")
    failed = [t for t in tasks if getattr(t, "outcome", None) == "failed"]
    expect_true(not failed, "a task failed: " + (failed[0].error or "?" if failed else ""),
                hint=_WAITS_FOR_ITS_POOL)
    waits = _own_pool_waits(trace)
    expect_true(not waits, "a task still waits for tasks of its own pool "
                f"({waits[0].kind}() in a worker)" if waits else "",
                hint="that works only while the pool has spare workers: call size_of() "
                     "directly inside total(), or give the inner work a pool of its own")
    return expect(as_list(totals, "totals", "[300, 700]"), EXPECTED_8_3,
                  message="totals is not right yet",
                  hint="total(pages) is the sum of size_of(page) for its pages",
                  explain="no task waits for its own pool any more, so no worker can be "
                          "stuck waiting for another.")

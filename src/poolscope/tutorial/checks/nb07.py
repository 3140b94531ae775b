"""Checks for the exercises of ``07-Errors-and-Callbacks.ipynb``.

    >>> ok = ex7_2([True, False, False])
    Exercise 7.2 - After a callback raises: solved!
      the first result was delivered before the callback broke; the second never ...
    >>> ex7_2([True, False, True])
    Exercise 7.2 - After a callback raises: not solved yet.
      ready is not right yet
      hint: the third task finished in its worker, but which thread hands its result over, now?
    False

Exercise 7.1 calls the learner's function on a small pool of the check's own (shut down
before the check returns). Exercises 7.3 and 7.4 look at what the learner's cell did,
through the trace that ``%%timeline --out NAME`` recorded.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Callable, Sequence
from multiprocessing.pool import ThreadPool
from typing import Any

from . import NotYet, exercise, expect, expect_true
from ._feedback import described, shown
from ._traces import as_list, recorded_tasks

# Calls that make the calling thread wait for the pool (submitting alone does not).
WAITS = frozenset({"get", "wait", "next", "apply", "map", "starmap"})
# How long 7.1 waits for the learner's function to be mapped (tests shorten it).
TIMEOUT = 5.0
_RAISED = ("inside the new function, call func(x) in a try block and return the "
           "exception from the except block instead of raising it")


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


# -- 7.1 -------------------------------------------------------------------------------

def _task(x: int, calls: list | None = None) -> int:
    """The check's own task: like the notebook's, items 2 and 5 raise ValueError.
    Each call is noted in ``calls`` (list.append is atomic), so that a ``safe`` that runs
    the task twice per item shows."""
    if calls is not None:
        calls.append(x)
    if x in (2, 5):
        raise ValueError(f"item {x} is bad")
    return x * 10


def _inverse(x: int) -> float:
    """Another task, failing another way: 1 / 0 raises ZeroDivisionError."""
    return 1 / x


def _wrapped(safe: Callable[..., Any], func: Callable[..., Any]) -> Callable[..., Any]:
    try:
        wrapped = safe(func)
    except Exception as exc:
        raise NotYet(f"safe(task) raised {described(exc)}",
                     hint="safe(func) only builds a new function and returns it; the new "
                          "function calls func(x)", show=False) from None
    if not callable(wrapped):
        raise NotYet("safe(task) should return a function", expected="a function",
                     got=wrapped, hint="define a function inside safe() and return it "
                                       "(return its name, without calling it)")
    return wrapped


def _mapped(wrapped: Callable[..., Any], items: list, what: str, raised: str = _RAISED) -> list:
    """``wrapped`` mapped over ``items`` by a pool of the check's own, in chunks of 2;
    ``what`` names the call in feedback, ``raised`` is the hint if it raises."""
    pool = ThreadPool(2)
    try:
        got = pool.map_async(wrapped, items, chunksize=2).get(timeout=TIMEOUT)
    except multiprocessing.TimeoutError:
        pool.terminate()  # no join(): the learner's function may never return
        raise NotYet(f"{what} did not finish within {TIMEOUT:g} s",
                     hint="the new function should call func(x) once and return",
                     show=False) from None
    except Exception as exc:
        pool.terminate()
        raise NotYet(f"{what} still raised {described(exc)}", hint=raised,
                     show=False) from None
    pool.close()
    pool.join()
    return got


def _same_error(got: Any, kind: type, text: str) -> bool:
    return type(got) is kind and str(got) == text


@exercise("7.1", "Keep every result")
def ex7_1(safe: Any) -> str:
    if not callable(safe):
        raise NotYet("safe should be a function", expected="def safe(func): ...", got=safe,
                     hint="define it with def safe(func):")
    calls: list = []
    got = as_list(_mapped(_wrapped(safe, functools.partial(_task, calls=calls)),
                          list(range(6)), "pool.map(safe(task), range(6))"),
                  "pool.map(safe(task), range(6))", "[0, 10, ...]")
    expect_true(len(got) == 6, f"pool.map(safe(task), range(6)) returned {len(got)} "
                "values, not 6", hint="the new function returns one value per item")
    twice = sorted({x for x in calls if calls.count(x) > 1})
    expect_true(not twice, f"the new function called task more than once for items {twice}",
                hint="call func(x) once, in the try block, and return what it returned: "
                     "each call runs the task again (twice the time, twice any side effect)")
    for x in (2, 5):
        if isinstance(got[x], str):
            raise NotYet(f"for item {x} the new function returned a string, {shown(got[x])}",
                         hint="return the exception object itself, not str(error) or "
                              "repr(error)", show=False)
        if not _same_error(got[x], ValueError, f"item {x} is bad"):
            raise NotYet(f"for item {x}, whose task raises ValueError, the new function "
                         f"returned {shown(got[x])}", hint="return the exception that func(x) "
                         "raised (except Exception as error: return error)", show=False)
    good = [got[x] for x in (0, 1, 3, 4)]
    expect(good, [0, 10, 30, 40], message="the values of the items that did not fail "
           "(0, 1, 3 and 4) are not right yet",
           hint="when func(x) does not raise, return what it returns")
    other_hint = ("catch any Exception, not only ValueError, and call the func that "
                  "safe() was given, not task")
    what = "for another function, 1 / x, pool.map(safe(func), [0, 1, 2])"
    other = as_list(_mapped(_wrapped(safe, _inverse), [0, 1, 2], what, other_hint),
                    what, "[...]")
    expect_true(len(other) == 3 and isinstance(other[0], ZeroDivisionError)
                and other[1:] == [1.0, 0.5],
                f"safe() works for task but not for another function: {what} returned "
                f"{shown(other)}", hint=other_hint)
    return ("map now returns every value, with the exceptions in their places, and no "
            "chunk is cut short.")


# -- 7.2 -------------------------------------------------------------------------------

EXPECTED_7_2 = [True, False, False]
_HINTS_7_2 = (
    "the first result (10) came before the callback broke: was its callback fine?",
    "a callback runs before its result is marked ready; when the callback raises, "
    "that last step never comes",
    "the third task finished in its worker, but which thread hands its result over, now?",
)


@exercise("7.2", "After a callback raises")
def ex7_2(ready: Any) -> str:
    got = as_list(ready, "ready", "[True, True, True]")
    if len(got) != 3 or not all(isinstance(v, bool) for v in got):
        raise NotYet("ready should be three True/False values, one per result",
                     expected="[True or False, True or False, True or False]", got=ready,
                     hint="write a list like [True, True, True]")
    for k, (value, right) in enumerate(zip(got, EXPECTED_7_2)):
        if value != right:
            raise NotYet("ready is not right yet", hint=_HINTS_7_2[k], show=False)
    return ("the first result was delivered before the callback broke; the second never "
            "became ready (its callback raised first), and nobody delivers the third "
            "(3.11-3.15: from 3.16 the callback's exception becomes the result instead).")


# -- 7.3 -------------------------------------------------------------------------------

@exercise("7.3", "A callback that cannot break the pool")
def ex7_3(parsed: Any, problems: Any, trace: Any) -> str:
    tasks = recorded_tasks(trace, "ex7_3_trace")
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


# -- 7.4 -------------------------------------------------------------------------------

EXPECTED_7_4 = [300, 700]


def _own_pool_waits(trace: Any) -> list:
    """Waits made by a worker thread on its own pool (the deadlock's shape)."""
    workers = {(w.pool, w.name) for w in getattr(trace, "workers", None) or []}
    return [e for e in _events(trace)
            if e.kind in WAITS and (e.pool, e.thread) in workers]


_WAITS_FOR_ITS_POOL = ("a task that waits for another task of its own pool waits for a "
                       "worker that is busy waiting too")


def _ex7_4_stub(totals: Any, trace: Any) -> str | None:
    """While totals is ``...``: did the cell run the deadlocking code and stop?"""
    tasks = getattr(trace, "tasks", None)
    failed = [t for t in (tasks if isinstance(tasks, Sequence) else [])
              if getattr(t, "outcome", None) == "failed"]
    if failed:
        return (f"your cell stopped before it set totals: a task failed in the pool "
                f"({failed[0].error}); {_WAITS_FOR_ITS_POOL}")
    return None


@exercise("7.4", "A task that waits for its own pool", stub_note=_ex7_4_stub)
def ex7_4(totals: Any, trace: Any) -> str:
    tasks = recorded_tasks(trace, "ex7_4_trace")
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
    return expect(as_list(totals, "totals", "[300, 700]"), EXPECTED_7_4,
                  message="totals is not right yet",
                  hint="total(pages) is the sum of size_of(page) for its pages",
                  explain="no task waits for its own pool any more, so no worker can be "
                          "stuck waiting for another.")

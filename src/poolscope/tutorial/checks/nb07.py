"""Checks for the exercises of ``07-Errors-in-Tasks.ipynb``.

    >>> ok = ex7_2(["TimeoutError", 10, "TimeoutError", "TimeoutError"])
    Exercise 7.2 - When every worker stops: solved!
      a stopped task sends no result, so get() gives up; the surviving worker ...
    >>> ex7_2(["SystemExit", 10, "SystemExit", 30])
    Exercise 7.2 - When every worker stops: not solved yet.
      the first stop() is not right yet
      hint: a worker catches only Exception: SystemExit ends its thread before any ...
    False

Exercise 7.1 calls the learner's function on a small pool of the check's own (shut down
before the check returns). Exercise 7.3 looks at what the learner's cell did, through the
trace that ``%%timeline --out NAME`` recorded.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Callable
from multiprocessing.pool import ThreadPool
from typing import Any

from . import NotYet, exercise, expect, expect_true
from ._feedback import described, shown
from ._traces import as_list, recorded_tasks

# How long 7.1 waits for the learner's function to be mapped (tests shorten it).
TIMEOUT = 5.0
_RAISED = ("inside the new function, call func(x) in a try block and return the "
           "exception from the except block instead of raising it")


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

EXPECTED_7_2 = ["TimeoutError", 10, "TimeoutError", "TimeoutError"]
_WHAT_7_2 = ("the first stop()", "task(1)", "the second stop()", "task(3)")
_NO_RESULT = ("a worker catches only Exception: SystemExit ends its thread before any "
              "result is sent, so get() has nothing to raise")
_HINTS_7_2 = (
    {"SystemExit": _NO_RESULT,
     None: "stop() never returns a value: what does get(timeout=0.3) do when no result "
           "ever comes?"},
    {"TimeoutError": "task(1) went at once to the other worker, which was alive then: its "
                     "result comes",
     None: "task(1) returns 1 * 10"},
    {"SystemExit": _NO_RESULT,
     None: "which worker runs the second stop()? The one that has just finished task(1), "
           "and stop() ends it the same way"},
    {"SystemExit": "task(3) raises nothing itself: is any worker left to run it?",
     None: "is any worker left to run task(3)? The pool replaces dead workers only when "
           "its worker handler wakes (close(), terminate(), or no result pending), and the "
           "stopped tasks' results stay pending"},
)


def _entry(value: Any) -> Any:
    """A predicted entry as the check compares it: a name as its last dotted part
    ("multiprocessing.TimeoutError" -> "TimeoutError"), a number as it is."""
    if isinstance(value, str):
        return value.strip().strip("'\"").rsplit(".", 1)[-1]
    return value


def _same(got: Any, right: Any) -> bool:
    if isinstance(right, str):
        return isinstance(got, str) and got.lower() == right.lower()
    return not isinstance(got, bool) and isinstance(got, (int, float)) and got == right


@exercise("7.2", "When every worker stops")
def ex7_2(outcomes: Any) -> str:
    got = as_list(outcomes, "outcomes", '["...", 10, "...", "..."]')
    # A value (None too: a task may return it) or a name; a class or an instance is
    # neither: the question asks for type(error).__name__.
    kinds_ok = all(v is None or isinstance(v, str)
                   or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in got)
    if len(got) != 4 or not kinds_ok:
        raise NotYet("outcomes should hold four entries, one per result: its value (a "
                     "number or None), or the name of the exception get() raised (a "
                     "string)",
                     expected='[10 or "Name", ...] (four entries)', got=outcomes,
                     hint='write names in quotes, like "ValueError"')
    for k, (value, right) in enumerate(zip(map(_entry, got), EXPECTED_7_2)):
        if not _same(value, right):
            hints = _HINTS_7_2[k]
            name = value if isinstance(value, str) else None
            hint = next((h for key, h in hints.items() if key and name
                         and key.lower() == name.lower()), hints[None])
            raise NotYet(f"{_WHAT_7_2[k]} is not right yet", hint=hint, show=False)
    return ("a stopped task sends no result, so get() gives up; the surviving worker took "
            "the second stop() after task(1), and nothing replaced the dead workers, so "
            "task(3) never ran.")


# -- 7.3 -------------------------------------------------------------------------------

EXPECTED_7_3 = [3, "quantity -1 is negative", 4, "quantity -5 is negative", 9]
# Exceptions that are not Exceptions: a worker does not catch them, and its thread dies.
_STOPPERS = ("SystemExit", "KeyboardInterrupt", "GeneratorExit")
_KILLS = ("SystemExit (what sys.exit() raises) is not an Exception: the worker does not "
          "catch it, its thread dies, and the result never arrives. Raise "
          "ValueError(...) instead")
_RAISE = ("in check_quantity(), raise ValueError(f\"quantity {n} is negative\"): get() "
          "then raises it, and the caller's except block notes its message")


def _killed_its_worker(task: Any) -> bool:
    """Whether a recorded task ended its worker thread (it raised a BaseException)."""
    error = getattr(task, "error", None) or ""
    note = getattr(task, "note", None) or ""
    return error.split(":", 1)[0] in _STOPPERS or "died" in note


@exercise("7.3", "A task that reports with sys.exit()")
def ex7_3(report: Any, trace: Any) -> str:
    tasks = recorded_tasks(trace, "ex7_3_trace")
    expect_true(tasks, "the pool ran no tasks: uncomment the code and fix it",
                hint="keep the with block and the apply_async calls of check_quantity")
    died = [t for t in tasks if _killed_its_worker(t)]
    expect_true(not died, f"{len(died)} task(s) ended their worker thread"
                + (f" ({died[0].error})" if died else ""), hint=_KILLS)
    got = as_list(report, "report", "[3, 'quantity -1 is negative', ...]")
    if any(isinstance(v, BaseException) for v in got):
        raise NotYet("report holds exception objects: check_quantity returned its error "
                     "instead of raising it", hint=_RAISE, show=False)
    failed = [t for t in tasks if getattr(t, "outcome", None) == "failed"]
    expect_true(failed, "no task raised: a negative quantity came back as an ordinary "
                "result, so the caller cannot tell it from a good one", hint=_RAISE)
    other = [t for t in failed if not (t.error or "").startswith("ValueError")]
    expect_true(not other, "a task raised " + (other[0].error or "?" if other else "")
                + ", not the ValueError the caller catches", hint=_RAISE)
    return expect(got, EXPECTED_7_3, message="report is not right yet", hint=_RAISE,
                  explain="an ordinary exception reaches get() like any other, and every "
                          "worker lives on.")

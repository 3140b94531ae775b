"""Checks for the exercises of ``04-Wait-for-Results.ipynb``.

    >>> ok = ex4_3([3], [])
    Exercise 4.3 - Which items never started?: solved!
      chunks of 4 are [0-3] [4-7]: item 3 follows item 2 in its chunk, so it never started. Chunks of 3 are [0-2] [3-5] [6-7]: item 2 ends its chunk, so nothing is skipped.
    >>> ex4_4([0, 10, "ValueError", 40, 50])
    Exercise 4.4 - What imap yields with chunks: not solved yet.
      got is not right yet
      expected: [0, 10, 'ValueError']
      got:      [0, 10, 'ValueError', 40, 50]
      hint: a worker did start chunk [4, 5], but with chunksize > 1 one exception ends the whole iterator: the next next() raises StopIteration
    False

Exercises 4.1 and 4.2 call the learner's function on results of a small pool of the
check's own (not recorded, closed and joined before the check returns).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.pool import ThreadPool
from typing import Any

from . import NotYet, exercise, expect, expect_true
from ._traces import as_list


def _after(seconds: float, value: Any) -> Any:
    """A task: wait ``seconds`` (like I/O), then return ``value``."""
    time.sleep(seconds)
    return value


def _callable(answer: Any, name: str, signature: str) -> Callable[..., Any]:
    if not callable(answer):
        raise NotYet(f"{name} should be a function", expected=f"def {signature}: ...",
                     got=answer, hint=f"define it with def {signature}:")
    return answer


def _as_list(value: Any, name: str, example: str) -> list:
    """Like :func:`as_list`, but a set is fine too (sorted where its items compare)."""
    if isinstance(value, (set, frozenset)):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    return as_list(value, name, example)


def _shut(pool: ThreadPool) -> None:
    # close() + join(): the check's own tasks are short, and none must outlive it.
    pool.close()
    pool.join()


# -- 4.1 -------------------------------------------------------------------------------

@exercise("4.1", "Catch the right TimeoutError")
def ex4_1(fetch: Any) -> str:
    fetch = _callable(fetch, "fetch", "fetch(result)")
    pool = ThreadPool(2)
    try:
        slow = pool.apply_async(_after, (0.3, "late"))
        quick = pool.apply_async(_after, (0.0, "early"))
        quick.wait(5)
        start = time.monotonic()
        try:
            got = fetch(slow)
        except multiprocessing.TimeoutError:
            raise NotYet("the timeout escaped: fetch(result) did not catch the "
                         "multiprocessing.TimeoutError that get(timeout=0.1) raised",
                         hint="`except TimeoutError` names Python's built-in TimeoutError, "
                              "a different class: write `except multiprocessing.TimeoutError`",
                         show=False) from None
        except Exception as exc:
            raise NotYet(f"fetch(result) raised {type(exc).__name__}: {exc}",
                         hint="call result.get(timeout=0.1) inside try, and return "
                              "\"gave up\" in the except block", show=False) from None
        waited = time.monotonic() - start
        if got == "late":
            raise NotYet("fetch(result) waited for a slow result instead of giving up",
                         expected="gave up", got=got, hint="pass timeout=0.1 to get()")
        expect(got, "gave up", message="fetch(result) should return \"gave up\" when the "
               "result is not ready within 0.1 s", hint="return \"gave up\" (exactly that "
               "string) from the except block")
        expect_true(waited < 0.25, f"fetch(result) waited about {round(waited, 1)} s before "
                    "giving up", hint="give up after 0.1 s: get(timeout=0.1)")
        try:
            value = fetch(quick)
        except Exception as exc:
            raise NotYet(f"fetch(result) raised {type(exc).__name__} for a result that "
                         "was ready", hint="return result.get(timeout=0.1) when it "
                         "succeeds", show=False) from None
        expect(value, "early", message="fetch(result) should return the value of a "
               "result that is ready", hint="return what result.get(timeout=0.1) returns")
    finally:
        _shut(pool)
    return ("get(timeout) raises multiprocessing.TimeoutError; except TimeoutError "
            "alone lets it through.")


# -- 4.2 -------------------------------------------------------------------------------

@exercise("4.2", "Wait with a deadline")
def ex4_2(ready_by: Any) -> str:
    ready_by = _callable(ready_by, "ready_by", "ready_by(results, seconds)")
    pool = ThreadPool(4)
    try:
        # A 0.1, a 0.2 and a 0.5 s task, 0.3 s in total.
        mixed = [pool.apply_async(_after, (s, n)) for n, s in enumerate((0.1, 0.2, 0.5))]
        start = time.monotonic()
        got = _as_list(ready_by(mixed, 0.3), "ready_by(results, seconds)",
                       "[True, True, False]")
        waited = time.monotonic() - start
        expect_true(waited < 0.45, f"tasks of 0.1, 0.2 and 0.5 s: ready_by(results, 0.3) "
                    f"took about {round(waited, 1)} s, not 0.3 s in total",
                    hint="a wait(0.3) per result starts a new 0.3 s each time: compute "
                         "deadline = time.monotonic() + seconds once, and give each "
                         "wait() what is left, max(0, deadline - time.monotonic())")
        expect(got, [True, True, False], message="tasks of 0.1, 0.2 and 0.5 s: "
               "ready_by(results, 0.3) is not right yet",
               hint="after 0.3 s the first two are ready and the third is not; return "
                    "[result.ready() for result in results]")
        # All ready soon (on the three free workers): ready_by must not use up the
        # whole 2 s.
        quick = [pool.apply_async(_after, (0.1, n)) for n in range(3)]
        start = time.monotonic()
        got = _as_list(ready_by(quick, 2.0), "ready_by(results, seconds)",
                       "[True, True, True]")
        waited = time.monotonic() - start
        expect(got, [True, True, True], message="three 0.1 s tasks, 2 s to wait: "
               "ready_by(results, 2.0) should return [True, True, True]",
               hint="return one result.ready() per result, in order, after waiting")
        expect_true(waited < 1.0, f"three 0.1 s tasks: ready_by(results, 2.0) took about "
                    f"{round(waited, 1)} s", hint="stop waiting as soon as every result "
                    "is ready: result.wait(timeout) returns as soon as it is ready")
    finally:
        _shut(pool)
    return "one deadline for all the waits: at most 0.3 s, however many results."


# -- 4.3 -------------------------------------------------------------------------------

@exercise("4.3", "Which items never started?")
def ex4_3(never_started_4: Any, never_started_3: Any) -> str:
    four = _as_list(never_started_4, "never_started_4", "[5, 6]")
    three = _as_list(never_started_3, "never_started_3", "[5, 6]")
    for got in (four, three):
        if 2 in got:
            raise NotYet(f"item 2 did start: it ran, and raised (you listed {got})",
                         hint="list only the items that never started (item 2 is not "
                              "one of them)", show=False)
    if four == [3, 4, 5, 6, 7]:
        raise NotYet("never_started_4 is not right yet", expected=[3], got=four,
                     hint="only the rest of item 2's own chunk is skipped; map still "
                          "runs every other chunk")
    expect(four, [3], message="never_started_4 is not right yet",
           hint="chunks of 4 are [0, 1, 2, 3] and [4, 5, 6, 7]: which items come after "
                "item 2 in its chunk?")
    return expect(three, [], message="never_started_3 is not right yet",
                  hint="chunks of 3 are [0, 1, 2], [3, 4, 5] and [6, 7]: which items come "
                       "after item 2 in its chunk?",
                  explain="chunks of 4 are [0-3] [4-7]: item 3 follows item 2 in its chunk, "
                          "so it never started. Chunks of 3 are [0-2] [3-5] [6-7]: item 2 "
                          "ends its chunk, so nothing is skipped.")


# -- 4.4 -------------------------------------------------------------------------------

EXPECTED_4_4 = [0, 10, "ValueError"]


@exercise("4.4", "What imap yields with chunks")
def ex4_4(got: Any) -> str:
    got = _as_list(got, "got", "[0, \"ValueError\", 20]")
    hints = {
        (0, 10, "ValueError", 30, 40, 50): "that is imap with chunksize=1; with chunks, "
            "the failing item skips the rest of its chunk and ends the iterator",
        (0, 10, "ValueError", 40, 50): "a worker did start chunk [4, 5], but with chunksize "
            "> 1 one exception ends the whole iterator: the next next() raises StopIteration",
        ("ValueError",): "items 0 and 1 are in an earlier chunk, [0, 1], which finished "
            "without an error: imap hands them over first",
        (0, 10): "next() raises the task's exception at item 2's position, and the loop "
            "appends \"ValueError\" for it",
    }
    try:
        key = tuple(got)
        hint = hints.get(key, "")
    except TypeError:
        hint = ""
    return expect(got, EXPECTED_4_4, message="got is not right yet",
                  hint=hint or "chunks of 2 are [0, 1], [2, 3] and [4, 5]; item 2 fails",
                  explain="chunk [0, 1] is handed over, chunk [2, 3] raises, and then "
                          "the iterator is finished: chunk [4, 5]'s results are lost.")

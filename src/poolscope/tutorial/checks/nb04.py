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

Exercises 4.1 and 4.2 call the learner's function on real ``AsyncResult`` objects of a
small pool of the check's own, whose tasks finish when the check says (``_held.py``): what
is ready when is the check's schedule, with wide margins, so a loaded machine cannot
change a verdict. The pools are closed and joined before the check returns.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from typing import Any

from . import NotYet, exercise, expect, expect_true
from ._held import HeldTasks, Watched
from ._traces import as_list


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


# -- 4.1 -------------------------------------------------------------------------------

RELEASE_4_1 = 2.0  # seconds: when the check lets its slow task finish after all


def _call(fetch: Callable[..., Any], result: Any) -> tuple[Any, BaseException | None]:
    """``(what fetch(result) returned, None)`` or ``(None, what it raised)``."""
    try:
        return fetch(result), None
    except Exception as exc:
        return None, exc


@exercise("4.1", "Catch the right TimeoutError")
def ex4_1(fetch: Any) -> str:
    fetch = _callable(fetch, "fetch", "fetch(result)")
    with HeldTasks(3) as held:
        # A slow task (finished only after RELEASE_4_1 s, however loaded the machine),
        # a quick one that is ready, and one that has raised its own ValueError.
        slow = Watched(held.hold("late", after=RELEASE_4_1))
        quick = held.done("early")
        failed = held.failed(ValueError("item 2 is bad"))
        held.go()
        _judge_timeout(*_call(fetch, slow), slow.timeouts)
        _judge_value(*_call(fetch, quick))
        _judge_failure(*_call(fetch, failed))
    return ("get(timeout) raises multiprocessing.TimeoutError; except TimeoutError "
            "alone lets it through, and except Exception would swallow the task's own "
            "errors too.")


def _judge_timeout(got: Any, raised: BaseException | None, timeouts: list) -> None:
    """fetch(a result that is not ready for seconds) must give up: "gave up"."""
    if isinstance(raised, multiprocessing.TimeoutError):
        raise NotYet("the timeout escaped: fetch(result) did not catch the "
                     "multiprocessing.TimeoutError that get(timeout=0.1) raised",
                     hint="`except TimeoutError` names Python's built-in TimeoutError, "
                          "a different class: write `except multiprocessing.TimeoutError`",
                     show=False)
    if raised is not None:
        raise NotYet(f"fetch(result) raised {type(raised).__name__}: {raised}",
                     hint="call result.get(timeout=0.1) inside try, and return "
                          "\"gave up\" in the except block", show=False)
    if got == "late":
        raise NotYet("fetch(result) waited until a slow task had finished instead of "
                     "giving up", expected="gave up", got=got,
                     hint="pass timeout=0.1 to get()")
    expect(got, "gave up", message="fetch(result) should return \"gave up\" when the "
           "result is not ready within 0.1 s", hint="return \"gave up\" (exactly that "
           "string) from the except block")
    waits = [t for t in timeouts if t is not None]
    expect_true(waits, "fetch(result) gave up without waiting for the result at all",
                hint="wait 0.1 s first: return result.get(timeout=0.1) inside try")
    expect_true(any(abs(t - 0.1) < 1e-9 for t in waits),
                f"fetch(result) waited with timeout={waits[0]!r}",
                hint="give up after 0.1 s: get(timeout=0.1)")


def _judge_value(got: Any, raised: BaseException | None) -> None:
    """fetch(a result that is ready) must return its value."""
    if raised is not None:
        raise NotYet(f"fetch(result) raised {type(raised).__name__} for a result that "
                     "was ready", hint="return result.get(timeout=0.1) when it succeeds",
                     show=False)
    expect(got, "early", message="fetch(result) should return the value of a result "
           "that is ready", hint="return what result.get(timeout=0.1) returns")


def _judge_failure(got: Any, raised: BaseException | None) -> None:
    """fetch(a result whose task raised) must let the task's own exception through."""
    if raised is None:
        raise NotYet(f"for a task that raised ValueError, fetch(result) returned {got!r}",
                     hint="`except Exception:` (or a bare `except:`) also catches the "
                          "task's own exception, which get() re-raises: catch only "
                          "multiprocessing.TimeoutError, so that a failed task is not "
                          "mistaken for a slow one", show=False)
    expect_true(isinstance(raised, ValueError) and str(raised) == "item 2 is bad",
                f"for a task that raised ValueError, fetch(result) raised "
                f"{type(raised).__name__}: {raised}",
                hint="let the task's own exception through unchanged: catch only "
                     "multiprocessing.TimeoutError")


# -- 4.2 -------------------------------------------------------------------------------
# Three runs of ready_by on results the check holds (see _held.py): what is ready, and
# when, is the check's schedule, with margins of at least 0.7 s, so load cannot flip it.

@exercise("4.2", "Wait with a deadline")
def ex4_2(ready_by: Any) -> str:
    ready_by = _callable(ready_by, "ready_by", "ready_by(results, seconds)")
    _every_result(ready_by)
    _one_deadline(ready_by)
    _what_is_left(ready_by)
    return "one deadline for all the waits: at most `seconds` in all, however many results."


def _ready_by(ready_by: Callable[..., Any], results: list, seconds: float,
              example: str) -> tuple[list, float]:
    """``(ready_by(results, seconds) as a list, how long it took)``."""
    start = time.monotonic()
    try:
        got = ready_by(results, seconds)
    except multiprocessing.TimeoutError:
        raise NotYet("ready_by(results, seconds) raised multiprocessing.TimeoutError",
                     hint="result.wait(timeout) never raises: wait, then ask "
                          "result.ready() (get(timeout) raises when it gives up)",
                     show=False) from None
    return (as_list(got, "ready_by(results, seconds)", example),
            time.monotonic() - start)


def _every_result(ready_by: Callable[..., Any]) -> None:
    """3 results, the middle one ready 0.2 s after the call, 3 s to wait: [True] * 3,
    long before the 3 s are up."""
    with HeldTasks(3) as held:
        results = [held.done(0), held.hold(1, after=0.2), held.done(2)]
        held.go()
        got, took = _ready_by(ready_by, results, 3.0, "[True, True, True]")
    if got[1:2] == [False]:
        raise NotYet("three results, the second ready after 0.2 s, 3 s to wait: "
                     "ready_by(results, 3.0) returned before the second was ready",
                     expected=[True, True, True], got=got,
                     hint="wait for every result in turn (a loop over results, each "
                          "with its own wait), not only for the first or the last")
    expect(got, [True, True, True], message="three results, ready within 0.2 s, 3 s "
           "to wait: ready_by(results, 3.0) is not right yet",
           hint="return one result.ready() per result, in order, after waiting")
    expect_true(took < 1.5, "three results, all ready within 0.2 s: ready_by(results, "
                "3.0) still waited for most of the 3 s",
                hint="stop waiting as soon as every result is ready: result.wait(timeout) "
                     "returns as soon as its result is ready (time.sleep does not)")


def _one_deadline(ready_by: Callable[..., Any]) -> None:
    """6 results, none ready within 0.3 s (the last after 1 s), 0.3 s to wait: all False."""
    with HeldTasks(6) as held:
        results = [held.hold(n) for n in range(5)] + [held.hold(5, after=1.0)]
        held.go()
        got, _ = _ready_by(ready_by, results, 0.3, "[False] * 6")
    if len(got) == 6 and any(x is True for x in got):
        raise NotYet("six results, none ready within 0.3 s: ready_by(results, 0.3) "
                     "waited past its deadline: it reports results that became ready only "
                     "later", expected=[False] * 6, got=got,
                     hint="a wait(seconds) per result starts a new 0.3 s each time (and "
                          "wait() without a timeout waits for good): compute "
                          "deadline = time.monotonic() + seconds once, and give each "
                          "wait() what is left, max(0, deadline - time.monotonic())")
    expect(got, [False] * 6, message="six results, none ready within 0.3 s: "
           "ready_by(results, 0.3) is not right yet",
           hint="return [result.ready() for result in results] after the waits")


def _what_is_left(ready_by: Callable[..., Any]) -> None:
    """10 results, 9 ready at once, the 5th ready after 0.6 s, 2 s to wait: all True."""
    with HeldTasks(10) as held:
        results = [held.done(n) for n in range(4)] + [held.hold(4, after=0.6)]
        results += [held.done(n) for n in range(5, 10)]
        held.go()
        got, _ = _ready_by(ready_by, results, 2.0, "[True] * 10")
    if got[4:5] == [False]:
        raise NotYet("ten results, nine ready at once and the 5th after 0.6 s, 2 s to "
                     "wait: ready_by(results, 2.0) gave up on the 5th with time to spare",
                     expected=[True] * 10, got=got,
                     hint="an equal share (seconds / len(results), 0.2 s here) is too "
                          "little for a slow result, while the quick ones leave theirs "
                          "unused: give each wait() what is left of one deadline, "
                          "max(0, deadline - time.monotonic())")
    expect(got, [True] * 10, message="ten results, all ready within 0.6 s, 2 s to wait: "
           "ready_by(results, 2.0) is not right yet",
           hint="return [result.ready() for result in results] after the waits")


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

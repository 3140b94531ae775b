"""Checks for the exercises of ``05-Shut-Down.ipynb``.

    >>> ok = ex5_1("d")
    Exercise 5.1 - join() before close(): solved!
      join() on a running pool raises ValueError: Pool is still running.
    >>> ex5_2(5, 0)
    Exercise 5.2 - What terminate() leaves: not solved yet.
      started is not right yet
      expected: 3
      got:      5
      hint: terminate() drops the tasks still in the queue: only the three the workers had taken started
    False

Exercises 5.3 and 5.4 look at what the learner's cell did, through the trace that
``%%timeline --out NAME`` recorded.
"""

from __future__ import annotations

from typing import Any

from . import NotYet, exercise, expect, expect_true
from ._feedback import expect_letter
from ._traces import RUN_FIRST


def _records(trace: Any, name: str) -> tuple[list, list]:
    """``(tasks, events)`` of ``trace``, or NotYet when it is not a trace at all."""
    tasks, events = getattr(trace, "tasks", None), getattr(trace, "events", None)
    if not isinstance(tasks, list) or not isinstance(events, list):
        raise NotYet(f"{name} should be the trace your answer cell recorded",
                     hint=RUN_FIRST.format(name=name), show=False)
    return tasks, events


def _lost(tasks: list) -> list[str]:
    """Descriptions of the tasks whose results were lost (abandoned or never started)."""
    return [f"item {t.index}: {t.outcome}" for t in tasks
            if t.outcome in ("abandoned", "never started")]


# -- 5.1 -------------------------------------------------------------------------------

_HINTS_5_1 = {
    "a": "it does not return quietly: join() first looks at the pool's state",
    "b": "that is what join() does after close(); here close() has not been called",
    "c": "it does not hang: join() first looks at the pool's state",
}


@exercise("5.1", "join() before close()")
def ex5_1(answer: Any) -> str:
    expect_letter(answer, "d", _HINTS_5_1)
    return "join() on a running pool raises ValueError: Pool is still running."


# -- 5.2 -------------------------------------------------------------------------------

@exercise("5.2", "What terminate() leaves")
def ex5_2(started: Any, ready: Any) -> str:
    if started == 5:
        raise NotYet("started is not right yet", expected=3, got=started,
                     hint="terminate() drops the tasks still in the queue: only the three "
                          "the workers had taken started")
    if started == 0:
        raise NotYet("started is not right yet", expected=3, got=started,
                     hint="after 0.1 s each of the three workers is running a task, and "
                          "terminate() cannot stop a thread")
    expect(started, 3, message="started is not right yet",
           hint="three workers, five tasks: how many had a worker when terminate() came?")
    return expect(ready, 0, message="ready is not right yet",
                  hint="the three tasks ran to the end (join() waited for them), but "
                       "terminate() discards their results: no result ever becomes ready",
                  explain="3 tasks ran to the end and 2 never started, but no result is "
                          "ready: terminate() discarded them all.")


# -- 5.3 -------------------------------------------------------------------------------

EXPECTED_5_3 = [0, 10, 20, 30]


@exercise("5.3", "A with block that loses results")
def ex5_3(collected: Any, trace: Any) -> str:
    tasks, _ = _records(trace, "ex5_3_trace")
    expect_true(tasks, "the pool ran no tasks: uncomment the code and fix it",
                hint="keep the with block and the apply_async calls")
    lost = _lost(tasks)
    expect_true(not lost, f"results were lost ({', '.join(lost)})",
                hint="the with block ends with terminate(): call get() on each result "
                     "inside the block, or end the block with pool.close() and pool.join()")
    return expect(collected, EXPECTED_5_3, message="collected is not right yet",
                  hint="collected = [r.get() for r in results], inside the with block",
                  explain="the results were collected before the block's terminate().")


# -- 5.4 -------------------------------------------------------------------------------

EXPECTED_5_4 = [0, 10, 20, 30, 40, 50]


@exercise("5.4", "close() and join() without a with block")
def ex5_4(answers: Any, trace: Any) -> str:
    tasks, events = _records(trace, "ex5_4_trace")
    expect_true(tasks, "the pool ran no tasks",
                hint="pool = ThreadPool(3), then pool.apply_async(task, (x,)) for each x")
    calls = {t.call for t in tasks}
    expect_true(calls == {"apply_async"}, f"your cell used {', '.join(sorted(calls))}, "
                "not apply_async", hint="submit each task with pool.apply_async(task, (x,))")
    joins = [e for e in events if e.kind == "join" and e.status == "ok"]
    closes = [e for e in events if e.kind == "close"]
    expect_true(joins, "the pool was never joined",
                hint="after close(), call pool.join(): it waits for the workers")
    expect_true(closes and closes[0].start <= joins[-1].start,
                "join() did not come after close()",
                hint="first pool.close() (no more work), then pool.join() (wait)")
    lost = _lost(tasks)
    expect_true(not lost, f"results were lost ({', '.join(lost)})",
                hint="terminate() drops work: close() and join() let every task finish")
    return expect(answers, EXPECTED_5_4, message="answers is not right yet",
                  hint="answers = [r.get() for r in results], in the order of submission",
                  explain="close() let the queued tasks run; join() waited until they had.")

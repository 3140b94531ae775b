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

from ...trace import Trace
from . import NotYet, exercise, expect, expect_true
from ._feedback import expect_letter
from ._traces import RUN_FIRST


def _records(trace: Any, name: str) -> tuple[list, list]:
    """``(tasks, events)`` of ``trace`` as lists, or NotYet when it is not a trace."""
    if not isinstance(trace, Trace):
        raise NotYet(f"{name} should be the trace your answer cell recorded",
                     hint=RUN_FIRST.format(name=name), show=False)
    return list(trace.tasks), list(trace.events)


def _joined_after_close(events: list) -> bool:
    """Whether ``join()`` returned after a ``close()``: every queued task then ran."""
    closes = [e.start for e in events if e.kind == "close"]
    return any(e.kind == "join" and e.status == "ok" and closes and closes[0] <= e.start
               for e in events)


def _shutdown_start(events: list) -> float | None:
    """When the pool was terminated (a with block's end, or terminate()); None if never."""
    return min((e.start for e in events if e.kind in ("exit", "terminate")), default=None)


# What a caller does to wait for a call's results: get()/wait()/next() on it, or a
# blocking call (whose results are in when it returns).
_COLLECTS = frozenset({"get", "wait", "next", "apply", "map", "starmap"})


def _collected_before(tasks: list, events: list, moment: float) -> bool:
    """Whether the caller waited for every call's results before ``moment``: by
    ``get()`` (or another wait) on each, or by ``close()`` + ``join()``. It is the
    order of what the caller did, so a loaded machine cannot change it."""
    done = [e for e in events if e.end is not None and e.end <= moment]
    if _joined_after_close(done):
        return True
    waited = {e.call_id for e in done
              if e.kind in _COLLECTS and e.status in ("ok", "raised", "stop")}
    return {t.call_id for t in tasks} <= waited


def _lost(tasks: list) -> list[str]:
    """Descriptions of the tasks whose results were lost (abandoned or never started):
    "call 2: never started" for an apply_async, "item 3: ..." for an item of a map."""
    return [(f"call {t.call_id}" if t.call.startswith("apply") else f"item {t.index}")
            + f": {t.outcome}" for t in tasks if t.outcome in ("abandoned", "never started")]


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


_HINT_5_3 = ("the with block ends with terminate(), which drops unfinished work: call "
             "get() on each result inside the block (a sleep is a guess: on a loaded "
             "machine the tasks take longer), or end the block with pool.close() and "
             "pool.join()")


@exercise("5.3", "A with block that loses results")
def ex5_3(collected: Any, trace: Any) -> str:
    tasks, events = _records(trace, "ex5_3_trace")
    expect_true(tasks, "the pool ran no tasks: uncomment the code and fix it",
                hint="keep the with block and the apply_async calls")
    lost = _lost(tasks)
    expect_true(not lost, f"results were lost ({', '.join(lost)})", hint=_HINT_5_3)
    end = _shutdown_start(events)
    if end is None:
        expect_true(_joined_after_close(events), "every task finished, but the pool was "
                    "never shut down: its worker threads wait for work until the program "
                    "ends", hint="keep the with block (leaving it shuts the pool down) "
                    "and collect the results inside it with get(); or shut the pool down "
                    "with pool.close() and pool.join(), which wait for the tasks")
    else:
        expect_true(_collected_before(tasks, events, end), "nothing waited for the "
                    "results before the pool was terminated: this time the tasks happened "
                    "to be done", hint=_HINT_5_3)
    how = ("close() and join() let every task finish before the pool was shut down."
           if _joined_after_close(events) else
           "the results were collected inside the block, before its terminate().")
    return expect(collected, EXPECTED_5_3, message="collected is not right yet",
                  hint="collected = [r.get() for r in results], inside the with block",
                  explain=how)


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
    expect_true(joins, "the pool was never joined",
                hint="after close(), call pool.join(): it waits for the workers")
    expect_true(_joined_after_close(events), "join() did not come after close()",
                hint="first pool.close() (no more work), then pool.join() (wait)")
    lost = _lost(tasks)
    expect_true(not lost, f"results were lost ({', '.join(lost)})",
                hint="terminate() drops work: close() and join() let every task finish")
    return expect(answers, EXPECTED_5_4, message="answers is not right yet",
                  hint="answers = [r.get() for r in results], in the order of submission",
                  explain="close() let the queued tasks run; join() waited until they had.")

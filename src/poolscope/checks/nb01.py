"""Checks for the exercises of ``01-Create-a-Pool.ipynb``.

    >>> ex1_2(4)
    Exercise 1.2 - How often does the initializer run?: solved!
      Once in each of the 4 worker threads, when it starts: not once per task.
    True
"""

from __future__ import annotations

from typing import Any

from ..trace import FINISHED
from . import NotYet, exercise, expect_true
from ._traces import trace_data, whole

EX1_1_SQUARES = [n * n for n in range(6)]
EX1_3_PAGES = [f"page {n}" for n in range(6)]


@exercise("1.1", "A pool that was written for processes")
def ex1_1(squares: Any, trace: Any) -> str:
    data = trace_data(trace)
    expect_true(data.pools, "the answer cell created no ThreadPool",
                hint="create the pool with ThreadPool(2) inside the answer cell")
    if squares != EX1_1_SQUARES:
        raise NotYet("squares is not right yet", expected=EX1_1_SQUARES, got=squares,
                     hint="squares = pool.map(slow_square, range(6))")
    sizes = sorted(p.size for p in data.pools)
    expect_true(sizes == [2], f"use one pool of 2 workers (the recording saw pools of "
                f"sizes {sizes})", hint="keep processes=2; only the process Pool's option "
                "has to go")
    return ("ThreadPool takes processes, initializer and initargs only; maxtasksperchild "
            "(replace a worker after N tasks) exists only for the process Pool.")


@exercise("1.2", "How often does the initializer run?")
def ex1_2(runs: Any) -> str:
    got = whole(runs, "runs", "7")
    if got == 4:
        return "Once in each of the 4 worker threads, when it starts: not once per task."
    if got == 1:
        hint = ("the initializer is not tied to the tasks: every worker thread runs it "
                "once, as soon as it starts, even a worker that never gets a task")
    else:
        hint = ("the initializer runs once in each worker thread, when the thread starts; "
                "how many worker threads does the pool start?")
    raise NotYet(f"runs = {got} is not right yet", hint=hint, show=False)


@exercise("1.3", "One wave of downloads")
def ex1_3(pages: Any, trace: Any) -> str:
    data = trace_data(trace)
    expect_true(data.tasks, "no task ran on a ThreadPool in the answer cell",
                hint="create the pool in the answer cell and call pool.map(download, "
                     "range(6)) inside its with block")
    if pages != EX1_3_PAGES:
        raise NotYet("pages is not right yet", expected=EX1_3_PAGES, got=pages,
                     hint="pages = pool.map(download, range(6))")
    done = [t for t in data.tasks if t.outcome == FINISHED]
    expect_true(len(done) == 6, f"6 downloads should finish; the recording saw {len(done)}",
                hint="one pool.map(download, range(6)) call runs all six")
    size = max(p.size for p in data.pools)
    if size < 6:
        waves = -(-6 // size)
        raise NotYet(f"with {size} workers the downloads run in {waves} waves, not one",
                     hint="each worker runs one task at a time: how many workers let all "
                          "six wait at the same time?", show=False)
    first = min(t.submitted for t in done)
    expect_true(max(t.started for t in done) - first < 0.1,  # type: ignore[operator]
                "the downloads did not all start at once",
                hint="submit them together with pool.map; apply() in a loop waits for "
                     "each task before submitting the next")
    if size > 6:
        return (f"all six at once; {size - 6} of the {size} workers had nothing to do "
                "(6 is enough).")
    return ("six workers, six downloads: all wait at the same time, so they take 0.2 s "
            "in all, on any number of CPUs.")

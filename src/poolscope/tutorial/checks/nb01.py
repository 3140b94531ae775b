"""Checks for the exercises of ``01-Create-a-Pool.ipynb``.

    >>> ex1_2(4)
    Exercise 1.2 - How often does the initializer run?: solved!
      Once in each of the 4 worker threads, when it starts: not once per task.
    True
"""

from __future__ import annotations

from typing import Any

from ...trace import FINISHED
from . import NotYet, exercise, expect, expect_true
from ._traces import (largest_chunk, pool_size, trace_data, waited_before_submitting,
                      whole)

EX1_1_SQUARES = [n * n for n in range(6)]
EX1_3_PAGES = [f"page {n}" for n in range(6)]


@exercise("1.1", "A pool that was written for processes")
def ex1_1(squares: Any, trace: Any) -> str:
    data = trace_data(trace)
    expect_true(data.pools, "the answer cell created no ThreadPool",
                hint="create the pool with ThreadPool(2) inside the answer cell")
    expect(squares, EX1_1_SQUARES, message="squares is not right yet",
           hint="squares = pool.map(slow_square, range(6))")
    kinds = sorted({p.kind for p in data.pools})
    expect_true(kinds == ["ThreadPool"], f"the recording saw a {', '.join(kinds)}, "
                "not a ThreadPool", hint="keep ThreadPool(2): the exercise moves the code "
                "to threads; only the process Pool's option maxtasksperchild has to go")
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
    expect(pages, EX1_3_PAGES, message="pages is not right yet",
           hint="pages = pool.map(download, range(6))")
    done = [t for t in data.tasks if t.outcome == FINISHED]
    expect_true(len(done) == 6, f"6 downloads should finish; the recording saw {len(done)}",
                hint="one pool.map(download, range(6)) call runs all six")
    # Judged by what the cell did (calls, pool size, chunks), never by the times a
    # loaded machine happened to give the tasks.
    expect_true("apply" not in {t.call for t in done},
                "apply() waits for each download before the next one is sent",
                hint="a loop of apply() runs one download at a time whatever the pool's "
                     "size: send all six with one pool.map(download, range(6))")
    expect_true(waited_before_submitting(data) is None,
                "your cell waited for a result before it sent the next download",
                hint="send all six with one call, pool.map(download, range(6)), then "
                     "wait once")
    size = pool_size(data, done) or 0
    if size < 6:
        waves = -(-6 // max(size, 1))
        raise NotYet(f"with {size} workers the downloads run in {waves} waves, not one",
                     hint="each worker runs one task at a time: how many workers let all "
                          "six wait at the same time?", show=False)
    chunk = largest_chunk(done)
    if chunk > 1:
        raise NotYet(f"chunksize={chunk} puts {chunk} pages in each chunk, and one worker "
                     f"downloads a chunk's pages one after another: {chunk} rounds, not one",
                     hint="leave chunksize out (for 6 pages on 6 workers map's default "
                          "is 1) or pass chunksize=1", show=False)
    if size > 6:
        return (f"all six at once; {size - 6} of the {size} workers had nothing to do "
                "(6 is enough).")
    return ("six workers, six downloads: all wait at the same time, so they take 0.2 s "
            "in all, on any number of CPUs.")

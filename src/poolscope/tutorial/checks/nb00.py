"""Checks for the exercises of ``00-Overview.ipynb``.

    >>> ex0_2([0, 1, 2, 3], 6, "b")
    Exercise 0.2 - Who runs, who waits?: solved!
      items 0-3 start at once and 6 wait in the queue, each until a worker is free; the caller waits in map until the last result is in.
    True

The small helpers ``number``, ``whole`` and ``trace_data`` come from ``checks._traces``
(``nb01`` uses them too); ``nb00.number`` and the others still work.
"""

from __future__ import annotations

from typing import Any

from . import NotYet, exercise, expect, expect_true
from ._feedback import expect_letter, shown
from ._traces import (as_list, largest_chunk, number, trace_data,
                      waited_before_submitting, whole)

# Exercise 0.1 reads the timeline shown in the notebook: ThreadPool(2), map over sleeps
# of 0.2, 0.1, 0.1, 0.3, 0.1 and 0.2 s.
#   worker 0  00333
#   worker 1  12455
#   caller    =====
EX0_1_WORKER_1_TASKS = 4
EX0_1_MAP_RETURNED = 0.5
EX0_1_WAITED_LONGEST = 5


@exercise("0.1", "Read a timeline")
def ex0_1(tasks_on_worker_1: Any, map_returned_at: Any, waited_longest: Any) -> str:
    tasks = whole(tasks_on_worker_1, "tasks_on_worker_1", "7")
    returned = number(map_returned_at, "map_returned_at", "1.5 (seconds)")
    item = whole(waited_longest, "waited_longest", "7 (an item index)")
    if tasks != EX0_1_WORKER_1_TASKS:
        hint = ("count the different items on the `worker 1` row, not the characters: "
                "a task of 0.2 s fills two cells")
        if tasks == 5:
            hint = "`55` is one task (item 5) that lasted 0.2 s, not two tasks"
        raise NotYet(f"tasks_on_worker_1 = {tasks} is not right yet", hint=hint, show=False)
    if abs(returned - EX0_1_MAP_RETURNED) > 0.05:
        raise NotYet(f"map_returned_at = {returned:g} is not right yet",
                     hint="map() blocks until the last task has finished: find where the "
                          "caller's `=` ends (one character is 0.1 s)", show=False)
    if item != EX0_1_WAITED_LONGEST:
        raise NotYet(f"waited_longest = {item} is not right yet",
                     hint="every item was submitted at time 0; the one that started last "
                          "waited longest in the queue", show=False)
    return ("worker 1 ran items 1, 2, 4 and 5; map returned at 0.5 s, when items 3 and "
            "5 finished; item 5 waited 0.3 s for a free worker.")


# Exercise 0.2 asks what the pool does at the start of map(fetch, range(10)) on a
# ThreadPool(4): every item is a task of its own (divmod(10, 4 * 4) gives chunksize 1), the
# four workers take items 0-3 from the queue at once, six wait, and map blocks the caller.
EX0_2_STARTED = [0, 1, 2, 3]
EX0_2_QUEUED = 6
_HINTS_0_2 = {
    "a": "the caller does not run tasks: the pool's workers do (the built-in map would run "
         "them in the caller, one after another)",
    "c": "that is map_async (notebook 03): map blocks until every result is in, the `=` on "
         "the caller's row",
}


def _started(value: Any) -> list[int]:
    items = as_list(value, "started", "[5, 6, 7]")
    return sorted(whole(x, "each item of started", "5 (an item index)") for x in items)


@exercise("0.2", "Who runs, who waits?")
def ex0_2(started: Any, queued: Any, caller: Any) -> str:
    items = _started(started)
    waiting = whole(queued, "queued", "7")
    if items != EX0_2_STARTED:
        if len(set(items)) > 4:
            hint = ("a pool of 4 runs at most 4 tasks at a time, one per worker: the other "
                    "items wait in the queue")
        elif items == [1, 2, 3, 4]:
            hint = "item indexes count from 0, as on the timeline's rows: range(10) is 0 to 9"
        elif len(items) == 4 and len(set(items)) == 4:
            hint = ("the workers take the items from the queue in the order map put them "
                    "there; with at most four items per worker each item is a task of its "
                    "own, not a chunk")
        else:
            hint = "4 workers, each free at the start: each takes one task at once"
        raise NotYet(f"started = {shown(started)} is not right yet", hint=hint, show=False)
    if waiting != EX0_2_QUEUED:
        hints = {10: "the 4 workers take the first 4 tasks at once: only the others wait",
                 2: "2 tasks run in the last round; at the start, every task that no worker "
                    "has taken yet waits",
                 0: "a task waits in the queue while every worker is busy: 10 tasks, "
                    "4 workers",
                 4: "4 tasks run; queued counts those waiting for a free worker"}
        raise NotYet(f"queued = {waiting} is not right yet", show=False,
                     hint=hints.get(waiting, "map submitted all 10 tasks at once, and the "
                                             "4 workers took one each"))
    expect_letter(caller, "b", _HINTS_0_2)
    return ("items 0-3 start at once and 6 wait in the queue, each until a worker is free; "
            "the caller waits in map until the last result is in.")


@exercise("0.3", "Map over a pool")
def ex0_3(pages: Any, trace: Any) -> str:
    data = trace_data(trace)
    expect_true(data.tasks, "no task ran on a ThreadPool in the answer cell",
                hint="the built-in map() runs everything in the caller, one item after "
                     "another: create `with ThreadPool(3) as pool:` and call pool.map")
    expected = [f"page {n}" for n in range(1, 7)]
    expect(pages, expected, message="pages is not right yet",
           hint="pages = pool.map(fetch, ...) over the pages 1 to 6: range(1, 7)")
    kinds = sorted({p.kind for p in data.pools})
    expect_true(kinds == ["ThreadPool"], f"use a ThreadPool (the recording saw "
                f"{', '.join(kinds)})", hint="with ThreadPool(3) as pool: ...")
    sizes = sorted(p.size for p in data.pools)
    expect_true(sizes == [3], f"use one pool of 3 workers (the recording saw pools of "
                f"sizes {sizes})", hint="ThreadPool(3)")
    calls = sorted({t.call for t in data.tasks})
    expect_true(calls == ["map"], f"use pool.map (the recording saw {', '.join(calls)})",
                hint="one call, pool.map(fetch, range(1, 7)), does it all")
    expect_true(waited_before_submitting(data) is None,
                "your cell called map once per page, waiting for each before the next",
                hint="one call, pool.map(fetch, range(1, 7)), hands over all six pages "
                     "at once")
    chunk = largest_chunk(data.tasks)
    if chunk > 1:
        return (f"6 pages on 3 workers, results in input order; with chunksize={chunk} "
                f"each worker ran the {chunk} pages of a chunk one after another.")
    return "6 pages on 3 workers: 2 waves of 0.2 s, with the results in input order."

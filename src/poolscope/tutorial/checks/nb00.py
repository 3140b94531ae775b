"""Checks for the exercises of ``00-Overview.ipynb``.

    >>> ex0_2(0.6)
    Exercise 0.2 - How long do ten tasks take?: solved!
      10 tasks on 4 workers run in 3 waves (4 + 4 + 2) of 0.2 s each.
    True

The small helpers ``number``, ``whole`` and ``trace_data`` come from ``checks._traces``
(``nb01`` uses them too); ``nb00.number`` and the others still work.
"""

from __future__ import annotations

from typing import Any

from . import NotYet, exercise, expect, expect_true
from ._traces import largest_chunk, number, trace_data, waited_before_submitting, whole

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


@exercise("0.2", "How long do ten tasks take?")
def ex0_2(makespan: Any) -> str:
    got = number(makespan, "makespan", "1.5 (seconds)")
    if abs(got - 0.6) <= 0.05:
        return "10 tasks on 4 workers run in 3 waves (4 + 4 + 2) of 0.2 s each."
    if abs(got - 0.5) <= 0.05:
        hint = ("10 x 0.2 s / 4 workers is 0.5 s, but a task cannot be split between "
                "workers: count the waves, and the last one is not full")
    elif abs(got - 2.0) <= 0.05:
        hint = "that is one task after another; the pool runs up to 4 at the same time"
    elif abs(got - 0.2) <= 0.05:
        hint = "only 4 tasks run at the same time; the others wait in the queue"
    else:
        hint = ("each worker runs one task at a time: how many rounds (waves) of at most "
                "4 tasks does it take to run 10 tasks, and how long is one round?")
    raise NotYet(f"makespan = {got:g} s is not right yet", hint=hint, show=False)


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

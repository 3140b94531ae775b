"""Checks for the exercises of ``02-Submit-and-Block.ipynb``.

    >>> ok = ex2_2(3, 10)
    Exercise 2.2 - The default chunksize: solved!
      divmod(30, 3 * 4) is (2, 6): 6 items left over, so the chunksize is rounded up to 3.
    >>> ok
    True
    >>> ex2_2(10, 3)
    Exercise 2.2 - The default chunksize: not solved yet.
      chunksize is not right yet
      expected: 3
      got:      10
      hint: that is one chunk per worker; map aims at about four chunks per worker (it divides by workers * 4)
    False

Exercises 2.3 and 2.4 look at what the learner's cell did, through the trace that
``%%timeline --out NAME`` recorded.
"""

from __future__ import annotations

from typing import Any

from . import NotYet, exercise, expect, expect_true
from ._traces import (as_list, largest_chunk, pool_size, recorded_tasks, reordered,
                      waited_before_submitting)


# -- 2.1 -------------------------------------------------------------------------------

ITEMS_2_1 = [0.2, 0.3, 0.1]


@exercise("2.1", "The order of the results")
def ex2_1(results: Any, finish_order: Any) -> str:
    results = as_list(results, "results", "[0.5, 0.4, 0.6]")
    expected = list(ITEMS_2_1)
    if reordered(results, expected):
        raise NotYet("results is not right yet", expected=expected, got=results,
                     hint="map returns the results in the order of its input, "
                          "whatever order the tasks finish in")
    expect(results, expected, message="results is not right yet",
           hint="nap(seconds) returns the seconds it slept: one result per item")
    order = as_list(finish_order, "finish_order", "[1, 0, 2]")
    if order == [0, 1, 2]:
        raise NotYet("finish_order is not right yet", expected=[2, 0, 1], got=order,
                     hint="three workers start all three tasks at once, so the "
                          "shortest nap finishes first")
    if reordered(order, [0.1, 0.2, 0.3]) or order == [0.1, 0.2, 0.3]:
        raise NotYet("finish_order is not right yet", expected=[2, 0, 1], got=order,
                     hint="finish_order lists item *indexes* (0, 1, 2), not seconds")
    return expect(order, [2, 0, 1], message="finish_order is not right yet",
                  hint="item 2 naps 0.1 s, item 0 0.2 s, item 1 0.3 s; all start together",
                  explain="the tasks finish as 2, 0, 1, but map still returns the results "
                          "in input order.")


# -- 2.2 -------------------------------------------------------------------------------

@exercise("2.2", "The default chunksize")
def ex2_2(chunksize: Any, chunks: Any) -> str:
    if chunksize == 10:
        raise NotYet("chunksize is not right yet", expected=3, got=chunksize,
                     hint="that is one chunk per worker; map aims at about four chunks "
                          "per worker (it divides by workers * 4)")
    if chunksize == 2:
        raise NotYet("chunksize is not right yet", expected=3, got=chunksize,
                     hint="30 = 2 * 12 + 6: when items are left over, the chunksize is "
                          "rounded up")
    expect(chunksize, 3, message="chunksize is not right yet",
           hint="chunksize, extra = divmod(30, 3 * 4); if extra: chunksize += 1")
    return expect(chunks, 10, message="chunks is not right yet",
                  hint="30 items cut into chunks of 3 items each",
                  explain="divmod(30, 3 * 4) is (2, 6): 6 items left over, so the "
                          "chunksize is rounded up to 3.")


# -- 2.3 -------------------------------------------------------------------------------

PAGES_2_3 = ["page 1", "page 2", "page 3", "page 4"]


@exercise("2.3", "One map instead of a loop of apply")
def ex2_3(results: Any, trace: Any) -> str:
    # The exercise asks for four downloads that can all wait at the same time: the
    # verdict rests on what the cell did (its calls, their order, the pool's size and
    # the chunks), which load cannot change; never on the times the tasks happened to get.
    tasks = recorded_tasks(trace, "ex2_3_trace")
    got = as_list(results, "results", str(PAGES_2_3))
    expect(got, PAGES_2_3, message="results is not right yet",
           hint="one result per page, in the order of the pages (pool.map keeps "
                "that order for you)")
    expect_true(tasks, "the pool ran no tasks: fetch ran outside the pool",
                hint="pass fetch itself to the pool: pool.map(fetch, pages)")
    calls = {t.call for t in tasks}
    expect_true("apply" not in calls, "your cell still calls apply",
                hint="apply waits for its task before the next one is sent; one "
                     "pool.map call sends them all")
    expect_true(waited_before_submitting(trace) is None,
                "your cell waited for one page's result before it sent the next page",
                hint="send all four pages first, in one call (pool.map(fetch, "
                     "[1, 2, 3, 4])), and wait once")
    size = pool_size(trace, tasks)
    if size is not None and size < len(PAGES_2_3):
        raise NotYet(f"your pool has {size} workers: only {size} downloads can wait at "
                     "the same time, so four take more than one round",
                     hint="keep ThreadPool(4): one worker per page", show=False)
    chunk = largest_chunk(tasks)
    if chunk > 1:
        raise NotYet(f"chunksize={chunk} puts {chunk} pages in one chunk, and one worker "
                     "downloads a chunk's pages one after another",
                     hint="leave chunksize out (for 4 pages on 4 workers map's default is "
                          "1) or pass chunksize=1", show=False)
    workers = f"{size} workers" if size else "the workers"
    if len({t.call_id for t in tasks}) == 1:
        how = f"one {tasks[0].call} call handed all four pages to {workers}"
    else:
        how = f"your cell handed all four pages to {workers} before it waited"
    return f"{how}, one page per task: their 0.1 s waits overlap instead of adding up."


# -- 2.4 -------------------------------------------------------------------------------

AREAS_2_4 = [12, 10, 36]


@exercise("2.4", "A starmap call")
def ex2_4(areas: Any, trace: Any) -> str:
    tasks = recorded_tasks(trace, "ex2_4_trace")
    got = as_list(areas, "areas", str(AREAS_2_4))
    if reordered(got, AREAS_2_4):
        raise NotYet("areas is not right yet", expected=AREAS_2_4, got=got,
                     hint="keep the order of rooms: starmap returns results in input order")
    expect(got, AREAS_2_4, message="areas is not right yet",
           hint="area(3, 4) is 12: each room (width, height) becomes area's two arguments")
    calls = {t.call for t in tasks}
    expect_true(calls, "the pool ran no tasks: area ran outside the pool",
                hint="call pool.starmap(area, rooms) inside the with block")
    expect_true(calls <= {"starmap", "starmap_async"},
                f"your cell used {', '.join(sorted(calls))}, not starmap",
                hint="starmap unpacks each (width, height) tuple into area's two "
                     "arguments for you: pool.starmap(area, rooms)")
    n_calls = len({t.call_id for t in tasks})
    expect_true(n_calls == 1, f"your cell made {n_calls} starmap calls, one per room",
                hint="one call does every room: pool.starmap(area, rooms)")
    return "starmap called area(3, 4), area(5, 2) and area(6, 6) in the workers."

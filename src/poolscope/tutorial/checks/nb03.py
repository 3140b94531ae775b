"""Checks for the exercises of ``03-Submit-without-Blocking.ipynb``.

    >>> ok = ex3_2([0.4, 0.1, 0.2], [0.1, 0.2, 0.4])
    Exercise 3.2 - imap or imap_unordered: solved!
      imap waits for the next result in line; imap_unordered hands out each one as it is ready.
    >>> ex3_2([0.1, 0.2, 0.4], [0.1, 0.2, 0.4])
    Exercise 3.2 - imap or imap_unordered: not solved yet.
      in_order is not right yet
      expected: [0.4, 0.1, 0.2]
      got:      [0.1, 0.2, 0.4]
      hint: imap yields in *input* order (it waits for the next item in line), not as tasks complete
    False

Exercises 3.1, 3.3 and 3.4 look at what the learner's cell did, through the trace that
``%%timeline --out NAME`` recorded.
"""

from __future__ import annotations

import itertools
from typing import Any

from . import NotYet, exercise, expect, expect_true
from ._traces import as_list, recorded_tasks, waited_before_submitting


def _events(trace: Any, kind: str) -> list:
    return [e for e in getattr(trace, "events", None) or [] if getattr(e, "kind", None) == kind]


# -- 3.1 -------------------------------------------------------------------------------

PAGES_3_1 = ["page 1", "page 2", "page 3"]


APPLY_ASYNC_BUG = ("apply_async(fetch(page)) calls fetch in your thread and hands the pool "
                   "its result; pass the function and its arguments: "
                   "apply_async(fetch, (page,))")


def _ex3_1_stub(pages: Any, trace: Any) -> str | None:
    """While pages is ``...``: did the cell run the buggy code and stop at get()?"""
    failed = [t for t in getattr(trace, "tasks", None) or []
              if getattr(t, "outcome", None) == "failed"]
    if failed:
        return (f"your cell stopped before it set pages: a task failed in the pool "
                f"({failed[0].error}). {APPLY_ASYNC_BUG}")
    return None


@exercise("3.1", "The function, not its result", stub_note=_ex3_1_stub)
def ex3_1(pages: Any, trace: Any) -> str:
    tasks = recorded_tasks(trace, "ex3_1_trace")
    got = as_list(pages, "pages", str(PAGES_3_1))
    expect(got, PAGES_3_1, message="pages is not right yet",
           hint="one page per result, collected with get() in the order you submitted")
    failed = [t for t in tasks if getattr(t, "outcome", None) == "failed"]
    expect_true(not failed, "a task failed in the pool: "
                + (getattr(failed[0], "error", None) or "?") if failed else "",
                hint=APPLY_ASYNC_BUG)
    expect_true(tasks, "the pool ran no tasks: fetch ran in your own thread",
                hint="hand the pool the function and its arguments separately: "
                     "pool.apply_async(fetch, (page,))")
    calls = {t.call for t in tasks}
    expect_true(calls == {"apply_async"},
                f"your cell used {', '.join(sorted(calls))}; this exercise keeps apply_async",
                hint="pool.apply_async(fetch, (page,)) for each page, then get() each result")
    # Judged by the order of what the cell did, not by the tasks' times (load-proof).
    expect_true(waited_before_submitting(trace) is None,
                "your cell waited for a download before it submitted the next one",
                hint="submit all three before the first get(): a get() right after each "
                     "apply_async waits for it")
    return ("fetch now runs in the workers, and all three were submitted before the "
            "first get(): the downloads wait at the same time.")


# -- 3.2 -------------------------------------------------------------------------------

ITEMS_3_2 = [0.4, 0.1, 0.2]
DONE_3_2 = [0.1, 0.2, 0.4]  # two workers: 0.4 on one; 0.1 then 0.2 on the other


@exercise("3.2", "imap or imap_unordered")
def ex3_2(in_order: Any, unordered: Any) -> str:
    got = as_list(in_order, "in_order", "[0.5, 0.3, 0.7]")
    if got == DONE_3_2:
        raise NotYet("in_order is not right yet", expected=ITEMS_3_2, got=got,
                     hint="imap yields in *input* order (it waits for the next item in "
                          "line), not as tasks complete")
    expect(got, ITEMS_3_2, message="in_order is not right yet",
           hint="nap returns its seconds; imap keeps the order of its input")
    got = as_list(unordered, "unordered", "[0.5, 0.3, 0.7]")
    if got == ITEMS_3_2:
        raise NotYet("unordered is not right yet", expected=DONE_3_2, got=got,
                     hint="imap_unordered hands out each result as soon as its task "
                          "finishes, whatever its position")
    return expect(got, DONE_3_2, message="unordered is not right yet",
                  hint="two workers: one naps 0.4 s; the other naps 0.1 s, then takes "
                       "the 0.2 s item (done at 0.3 s)",
                  explain="imap waits for the next result in line; imap_unordered hands "
                          "out each one as it is ready.")


# -- 3.3 -------------------------------------------------------------------------------

PAGES_3_3 = ["page 1", "page 2", "page 3", "page 4"]


@exercise("3.3", "Collect with a callback")
def ex3_3(collected: Any, trace: Any) -> str:
    tasks = recorded_tasks(trace, "ex3_3_trace")
    got = as_list(collected, "collected", str(PAGES_3_3))
    calls = {t.call for t in tasks}
    expect_true(tasks, "the pool ran no tasks",
                hint="submit each page with pool.apply_async(fetch_slow, (page,), "
                     "callback=collected.append)")
    expect_true(calls == {"apply_async"},
                f"your cell used {', '.join(sorted(calls))}, not apply_async",
                hint="one pool.apply_async(fetch_slow, (page,), callback=collected.append) "
                     "per page")
    unfinished = [t for t in tasks if getattr(t, "outcome", None) != "finished"]
    expect_true(not unfinished,
                f"{len(unfinished)} of the {len(tasks)} downloads never delivered a result",
                hint="wait inside the with block (pool.close(); pool.join()): leaving it "
                     "calls terminate(), which drops the results still pending")
    expect_true(_events(trace, "callback"), "no callback ran",
                hint="pass callback=collected.append to apply_async: the pool then calls "
                     "it with each result")
    if len(got) < len(PAGES_3_3):
        raise NotYet(f"collected has {len(got)} of the {len(PAGES_3_3)} pages",
                     expected=PAGES_3_3, got=got,
                     hint="wait for every result inside the with block (pool.close(); "
                          "pool.join()) before it ends with terminate()")
    expect(sorted(got, key=str), PAGES_3_3, message="collected is not right yet",
           hint="each callback receives one result: append it as it is")
    return ("the callbacks ran one at a time in the pool's result-handler thread, in the "
            "order the downloads finished.")


# -- 3.4 -------------------------------------------------------------------------------

# fetch_sized(page) sleeps SECONDS_3_4[page]; the notebook's code runs pages [3, 1, 2] on
# three workers, so they finish as 2, 3, 1: neither the input order nor sorted order,
# so neither imap nor sorting afterwards can pass for completion order.
SECONDS_3_4 = {1: 0.3, 2: 0.1, 3: 0.2}
PAGES_3_4 = [3, 1, 2]
BY_PAGE_3_4 = {1: "page 1", 2: "page 2", 3: "page 3"}
# Tasks that finished closer together than TIE may have reached imap_unordered in either
# order (the recorded finish is read just before the worker hands the result over).
TIE = 0.02
SLACK = 0.005  # a sleep never ends early; this only absorbs clock granularity


def arrival_orders(tasks: Any, seconds: dict = SECONDS_3_4) -> list[list]:
    """The orders in which ``imap_unordered`` can have handed out the pages of one call's
    ``tasks``, read from the recording: each task is matched to a page whose download
    time it can have taken (a sleep never ends early, whatever the load), and the pages
    are ordered by when their tasks finished.

        >>> from poolscope.trace import FINISHED, Task
        >>> spans = {0: (0.0, 0.2), 1: (0.0, 0.3), 2: (0.0, 0.1)}  # pages 3, 1, 2
        >>> arrival_orders([Task(0, "imap_unordered", 0, i, "w", i, 0.0, a, b, FINISHED)
        ...                 for i, (a, b) in spans.items()])
        [[2, 3, 1]]
    """
    timed = sorted((t for t in tasks if t.duration is not None), key=lambda t: t.index)
    orders: set[tuple] = set()
    for pages in itertools.permutations(seconds, len(timed)):
        if len(pages) < len(seconds) or any(
                t.duration < seconds[p] - SLACK for t, p in zip(timed, pages)):
            continue
        finished = {p: t.finished for t, p in zip(timed, pages)}
        orders.update(order for order in itertools.permutations(pages)
                      if all(finished[a] <= finished[b] + TIE
                             for a, b in itertools.combinations(order, 2)))
    return sorted(list(order) for order in orders)


@exercise("3.4", "Completion order, with labels")
def ex3_4(by_page: Any, trace: Any) -> str:
    tasks = recorded_tasks(trace, "ex3_4_trace")
    expect_true(isinstance(by_page, dict), "by_page should be a dict",
                hint="build it page by page: by_page[page] = text")
    expect(by_page, BY_PAGE_3_4, message="by_page is not right yet",
           hint="have the task return (page, text), so each result says which page "
                "it belongs to")
    calls = {t.call for t in tasks}
    expect_true(calls == {"imap_unordered"},
                f"your cell used {', '.join(sorted(calls)) or 'no pool call'}, "
                "not imap_unordered",
                hint="pool.imap_unordered(func, [3, 1, 2]) yields each result as its task "
                     "finishes")
    # The order the pages finished in, from this recording (not from the planned times,
    # which a loaded machine can stretch): judged the same way under any load.
    by_call: dict[int, list] = {}
    for t in tasks:
        by_call.setdefault(t.call_id, []).append(t)
    orders = [o for group in by_call.values() for o in arrival_orders(group)]
    expect_true(orders, "the recorded downloads did not take the times fetch_sized gives "
                "pages 1, 2 and 3", hint="call fetch_sized(page) in your task, for the "
                "pages [3, 1, 2], in one imap_unordered call")
    arrived = list(by_page)
    expect_true(arrived in orders,
                f"the pages went into by_page as {arrived}; the recording shows the "
                f"downloads finished as {orders[0]}",
                hint="add each page to by_page inside the loop over imap_unordered, as it "
                     "arrives (sorting first, or building the dict from a sorted list, "
                     "loses the order they finished in)")
    return ("each page went into by_page as soon as its download finished, labelled with "
            "its page number.")

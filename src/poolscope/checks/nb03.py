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

from typing import Any

from . import NotYet, exercise, expect, expect_true
from ._traces import as_list, most_at_once, recorded_tasks


def _events(trace: Any, kind: str) -> list:
    return [e for e in getattr(trace, "events", None) or [] if getattr(e, "kind", None) == kind]


# -- 3.1 -------------------------------------------------------------------------------

PAGES_3_1 = ["page 1", "page 2", "page 3"]


@exercise("3.1", "The function, not its result")
def ex3_1(pages: Any, trace: Any) -> str:
    tasks = recorded_tasks(trace, "ex3_1_trace")
    got = as_list(pages, "pages", str(PAGES_3_1))
    expect(got, PAGES_3_1, message="pages is not right yet",
           hint="one page per result, collected with get() in the order you submitted")
    failed = [t for t in tasks if getattr(t, "outcome", None) == "failed"]
    expect_true(not failed, "a task failed in the pool: "
                + (getattr(failed[0], "error", None) or "?") if failed else "",
                hint="apply_async(fetch(page)) calls fetch in your thread and hands the "
                     "pool its result; pass the function and its arguments: "
                     "apply_async(fetch, (page,))")
    expect_true(tasks, "the pool ran no tasks: fetch ran in your own thread",
                hint="hand the pool the function and its arguments separately: "
                     "pool.apply_async(fetch, (page,))")
    calls = {t.call for t in tasks}
    expect_true(calls == {"apply_async"},
                f"your cell used {', '.join(sorted(calls))}; this exercise keeps apply_async",
                hint="pool.apply_async(fetch, (page,)) for each page, then get() each result")
    expect_true(most_at_once(tasks) >= 2, "the downloads still ran one at a time",
                hint="submit all three before the first get(): a get() right after each "
                     "apply_async waits for it")
    return "fetch now runs in the workers, all three at once."


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

BY_PAGE_3_4 = {1: "page 1", 2: "page 2", 3: "page 3"}


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
    arrived = list(by_page)
    expect_true(arrived == [1, 2, 3],
                f"the pages arrived as {arrived}: that is not the order they finished in",
                hint="add each page to by_page inside the loop over imap_unordered, "
                     "as it arrives")
    return "pages 1, 2 and 3 arrived as they finished, each labelled with its page."

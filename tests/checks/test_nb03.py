"""The checks of 03-Submit-without-Blocking.ipynb: right answers pass, wrong ones get a
hint, nothing raises."""

from __future__ import annotations

import time
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope.checks import nb03
from poolscope.trace import ABANDONED, FAILED, FINISHED, Event, Task, Trace

from check_helpers import garbage_everywhere_never_raises, not_yet, run

GARBAGE = [None, "page 1", 4 + 2j, ValueError("boom"), [1, "a", None], float("nan"), True,
           object(), {1: "page 1"}]
CHECKS = [nb03.ex3_1, nb03.ex3_2, nb03.ex3_3, nb03.ex3_4]


def trace_of(call: str, spans: list[tuple[float, float]], outcome: str = FINISHED,
             callbacks: int = 0) -> Trace:
    """A trace of one task per (start, end), all from one kind of call (no pool needed)."""
    tasks = [Task(0, call, i if call == "apply_async" else 0, i, f"w{i}", i, 0.0, a, b,
                  outcome, error="TypeError: 'str' object is not callable"
                  if outcome == FAILED else None, caller="MainThread")
             for i, (a, b) in enumerate(spans)]
    events = [Event("callback", 0, "Thread-9 (_handle_results)", 0.1 * (n + 1),
                    0.1 * (n + 1), "ok", n) for n in range(callbacks)]
    return Trace.from_records(tasks, events)


PARALLEL = [(0.0, 0.1)] * 3


def fetch(page):
    time.sleep(0.01)
    return f"page {page}"


def fetch_slow(page):
    time.sleep(page / 100)
    return f"page {page}"


def fetch_labelled(page):
    time.sleep(page / 20)  # pages 1, 2, 3 finish 50 ms apart
    return page, f"page {page}"


# --- 3.1 the function, not its result ------------------------------------------------------

def test_ex3_1_right_with_a_real_pool(capsys):
    with poolscope.record() as trace:
        with ThreadPool(3) as pool:
            pending = [pool.apply_async(fetch, (page,)) for page in [1, 2, 3]]
            pages = [result.get(timeout=1) for result in pending]
    ok, out = run(nb03.ex3_1, capsys, pages, trace)
    assert ok is True and "solved!" in out


def test_ex3_1_the_bug_is_not_solved(capsys):
    # What the learner's trace holds if the bug ran but pages was set another way.
    with poolscope.record() as trace:
        with ThreadPool(3) as pool:
            pending = [pool.apply_async(fetch(page)) for page in [1, 2, 3]]
            for result in pending:
                with pytest.raises(TypeError):
                    result.get(timeout=1)
    ok, out = run(nb03.ex3_1, capsys, list(nb03.PAGES_3_1), trace)
    assert ok is False and not_yet(out, "apply_async(fetch, (page,))")
    assert "is not callable" in out


@pytest.mark.parametrize("pages, trace, hint", [
    (nb03.PAGES_3_1, trace_of("apply_async", []), "pool.apply_async(fetch, (page,))"),
    (nb03.PAGES_3_1, trace_of("map", PARALLEL), "keeps apply_async"),
    (nb03.PAGES_3_1, trace_of("apply_async", [(0, .1), (.1, .2), (.2, .3)]),
     "submit all three before the first get()"),
    (["page 3", "page 1", "page 2"], trace_of("apply_async", PARALLEL),
     "in the order you submitted"),
    (nb03.PAGES_3_1, None, "%%timeline --out ex3_1_trace"),
    ("page 1", trace_of("apply_async", PARALLEL), "write a list"),
])
def test_ex3_1_wrong(capsys, pages, trace, hint):
    ok, out = run(nb03.ex3_1, capsys, pages, trace)
    assert ok is False and not_yet(out, hint), out


# --- 3.2 imap or imap_unordered ------------------------------------------------------------

def test_ex3_2_right(capsys):
    ok, out = run(nb03.ex3_2, capsys, [0.4, 0.1, 0.2], [0.1, 0.2, 0.4])
    assert ok is True and "solved!" in out


def test_ex3_2_agrees_with_the_pool():
    with ThreadPool(2) as pool:
        done = list(pool.imap_unordered(lambda s: time.sleep(s) or s, [0.4, 0.1, 0.2]))
        ordered = list(pool.imap(lambda s: time.sleep(s) or s, [0.4, 0.1, 0.2]))
    assert (ordered, done) == (nb03.ITEMS_3_2, nb03.DONE_3_2)


@pytest.mark.parametrize("in_order, unordered, hint", [
    ([0.1, 0.2, 0.4], [0.1, 0.2, 0.4], "not as tasks complete"),
    ([0.4, 0.2, 0.1], [0.1, 0.2, 0.4], "keeps the order of its input"),
    ([0.4, 0.1, 0.2], [0.4, 0.1, 0.2], "as soon as its task finishes"),
    ([0.4, 0.1, 0.2], [0.1, 0.4, 0.2], "done at 0.3 s"),
    ([0.4, 0.1, 0.2], None, "write a list"),
])
def test_ex3_2_wrong(capsys, in_order, unordered, hint):
    ok, out = run(nb03.ex3_2, capsys, in_order, unordered)
    assert ok is False and not_yet(out, hint), out


# --- 3.3 collect with a callback -------------------------------------------------------------

def test_ex3_3_right_with_a_real_pool(capsys):
    collected = []
    with poolscope.record() as trace:
        with ThreadPool(4) as pool:
            for page in [1, 2, 3, 4]:
                pool.apply_async(fetch_slow, (page,), callback=collected.append)
            pool.close()
            pool.join()
    ok, out = run(nb03.ex3_3, capsys, collected, trace)
    assert ok is True and "result-handler thread" in out


def test_ex3_3_leaving_the_block_too_early(capsys):
    collected = []
    with poolscope.record() as trace:
        with ThreadPool(4) as pool:
            for page in [1, 2, 3, 4]:
                pool.apply_async(fetch_slow, (page * 5,), callback=collected.append)
    ok, out = run(nb03.ex3_3, capsys, collected, trace)
    assert ok is False and not_yet(out, "pool.close(); pool.join()")


@pytest.mark.parametrize("collected, trace, hint", [
    (nb03.PAGES_3_3, trace_of("apply_async", PARALLEL + [(0, .1)]), "no callback ran"),
    (nb03.PAGES_3_3, trace_of("map_async", PARALLEL, callbacks=1), "not apply_async"),
    (nb03.PAGES_3_3, trace_of("apply_async", []), "callback=collected.append"),
    (nb03.PAGES_3_3[:2], trace_of("apply_async", PARALLEL + [(0, .1)], callbacks=2),
     "before it ends with terminate()"),
    (nb03.PAGES_3_3, trace_of("apply_async", PARALLEL, ABANDONED), "never delivered"),
    (["page 1"] * 4, trace_of("apply_async", PARALLEL + [(0, .1)], callbacks=4),
     "append it as it is"),
    (nb03.PAGES_3_3, "trace", "%%timeline --out ex3_3_trace"),
])
def test_ex3_3_wrong(capsys, collected, trace, hint):
    ok, out = run(nb03.ex3_3, capsys, collected, trace)
    assert ok is False and not_yet(out, hint), out


# --- 3.4 completion order, with labels --------------------------------------------------------

def test_ex3_4_right_with_a_real_pool(capsys):
    with poolscope.record() as trace:
        by_page = {}
        with ThreadPool(3) as pool:
            for page, text in pool.imap_unordered(fetch_labelled, [3, 1, 2]):
                by_page[page] = text
    ok, out = run(nb03.ex3_4, capsys, by_page, trace)
    assert ok is True and "solved!" in out


def test_ex3_4_imap_is_not_enough(capsys):
    with poolscope.record() as trace:
        with ThreadPool(3) as pool:
            by_page = dict(pool.imap(fetch_labelled, [3, 1, 2]))
    ok, out = run(nb03.ex3_4, capsys, by_page, trace)
    assert ok is False and not_yet(out, "yields each result as its task finishes")


@pytest.mark.parametrize("by_page, trace, hint", [
    ({3: "page 3", 1: "page 1", 2: "page 2"}, trace_of("imap_unordered", PARALLEL),
     "inside the loop over imap_unordered"),
    ({1: "page 1", 2: "page 2"}, trace_of("imap_unordered", PARALLEL), "return (page, text)"),
    (["page 1", "page 2", "page 3"], trace_of("imap_unordered", PARALLEL), "should be a dict"),
    (dict(nb03.BY_PAGE_3_4), trace_of("imap_unordered", []), "not imap_unordered"),
    (dict(nb03.BY_PAGE_3_4), object(), "%%timeline --out ex3_4_trace"),
])
def test_ex3_4_wrong(capsys, by_page, trace, hint):
    ok, out = run(nb03.ex3_4, capsys, by_page, trace)
    assert ok is False and not_yet(out, hint), out


# --- every check: the stub's ... and garbage -----------------------------------------------

@pytest.mark.parametrize("check", CHECKS)
def test_ellipsis_asks_for_an_answer(capsys, check):
    ok, out = run(check, capsys, ..., ...)
    assert ok is False and "(replace the ... with your answer)" in out


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("junk", GARBAGE, ids=repr)
def test_garbage_never_raises(capsys, check, junk):
    garbage_everywhere_never_raises(capsys, check, junk)

"""The checks of 03-Submit-without-Blocking.ipynb: right answers pass, wrong ones get a
hint naming the mistake, nothing raises."""

from __future__ import annotations

import ast
import time
from multiprocessing.pool import ThreadPool
from pathlib import Path

import nbformat
import pytest

from poolscope.tutorial.checks import nb03
from poolscope.trace import ABANDONED, FAILED, FINISHED, Event, Task, Trace

from check_helpers import (NASTY, NASTY_IDS, empty_trace, garbage_everywhere_never_raises,
                           nasty_answers_never_raise, not_yet, recorded, run)
from corpus import corpus_test, right, wrong

GARBAGE = [None, "page 1", 4 + 2j, ValueError("boom"), [1, "a", None], float("nan"), True,
           object(), {1: "page 1"}]
CHECKS = [nb03.ex3_1, nb03.ex3_2, nb03.ex3_3, nb03.ex3_4]


def fetch(page):
    time.sleep(0.02)  # the notebook's 0.1 s: exercise 3.1's check never judges times
    return f"page {page}"


def fetch_slow(page):
    time.sleep(page / 20)  # the notebook's page / 10 s, halved
    return f"page {page}"


def fetch_sized(page):
    # Exactly the notebook's: exercise 3.4's check reads these times in the recording.
    time.sleep(nb03.SECONDS_3_4[page])
    return f"page {page}"


def fetch_labelled(page):
    return page, fetch_sized(page)


# --- the learners' cells, run for real ------------------------------------------------------

def apply_async_fixed():
    with ThreadPool(3) as pool:
        pending = [pool.apply_async(fetch, (page,)) for page in [1, 2, 3]]
        return [result.get(timeout=5) for result in pending]


def apply_async_get_each():
    with ThreadPool(3) as pool:
        return [pool.apply_async(fetch, (page,)).get(timeout=5) for page in [1, 2, 3]]


def apply_instead():
    with ThreadPool(3) as pool:
        return [pool.apply(fetch, (page,)) for page in [1, 2, 3]]


def no_pool_at_all():
    with ThreadPool(3):
        return [fetch(page) for page in [1, 2, 3]]


def the_bug_as_written():
    # The exercise's code uncommented: get() raises, so pages is never set.
    with ThreadPool(3) as pool:
        pending = [pool.apply_async(fetch(page)) for page in [1, 2, 3]]
        try:
            [result.get(timeout=5) for result in pending]
        except TypeError:
            pass
    return ...


def callbacks(wait=True, callback=True, call="apply_async"):
    def cell():
        collected = []
        with ThreadPool(4) as pool:
            if call == "map_async":
                pool.map_async(fetch_slow, [1, 2, 3, 4], callback=collected.append)
            for page in [1, 2, 3, 4] if call == "apply_async" else []:
                # callback=False: the learner wrote callback=collected.append(page)
                done = collected.append if callback else collected.append(page)
                pool.apply_async(fetch_slow, (page,), callback=done)
            if wait:
                pool.close()
                pool.join()
        return collected
    return cell


def labelled_by(call="imap_unordered", after=None):
    def cell():
        by_page = {}
        with ThreadPool(3) as pool:
            results = getattr(pool, call)(fetch_labelled, [3, 1, 2])
            if after == "sorted":  # collected first, sorted afterwards
                return dict(sorted(results))
            for page, text in results:
                by_page[page] = text
        return by_page
    return cell


def unlabelled_zipped_with_the_input():
    with ThreadPool(3) as pool:
        return dict(zip([3, 1, 2], pool.imap_unordered(fetch_sized, [3, 1, 2])))


CORPUS = [
    right("3.1", "apply_async(fetch, (page,)), then get", lambda: recorded(apply_async_fixed),
          praise="submitted before the first get()"),
    wrong("3.1", "apply_async(...).get() per page", lambda: recorded(apply_async_get_each),
          hint="submit all three before the first get()"),
    wrong("3.1", "apply instead", lambda: recorded(apply_instead),
          hint="this exercise keeps apply_async"),
    wrong("3.1", "fetch called directly", lambda: recorded(no_pool_at_all),
          hint="fetch ran in your own thread"),
    right("3.2", "input order, then completion order", ([0.4, 0.1, 0.2], [0.1, 0.2, 0.4])),
    wrong("3.2", "imap in completion order", ([0.1, 0.2, 0.4], [0.1, 0.2, 0.4]),
          hint="not as tasks complete"),
    wrong("3.2", "imap_unordered in input order", ([0.4, 0.1, 0.2], [0.4, 0.1, 0.2]),
          hint="as soon as its task finishes"),
    wrong("3.2", "as if each worker took every other item", ([0.4, 0.1, 0.2], [0.1, 0.4, 0.2]),
          hint="done at 0.3 s"),
    right("3.3", "callbacks, then close and join", lambda: recorded(callbacks()),
          praise="result-handler thread"),
    wrong("3.3", "no close and join in the block", lambda: recorded(callbacks(wait=False)),
          hint="pool.close(); pool.join()"),
    wrong("3.3", "callback=collected.append(page)", lambda: recorded(callbacks(callback=False)),
          hint="no callback ran"),
    wrong("3.3", "map_async with a callback", lambda: recorded(callbacks(call="map_async")),
          hint="not apply_async"),
    right("3.4", "imap_unordered, each page added as it arrives",
          lambda: recorded(labelled_by()), praise="as soon as its download finished"),
    wrong("3.4", "imap", lambda: recorded(labelled_by("imap")), hint="not imap_unordered"),
    wrong("3.4", "imap_unordered, sorted afterwards",
          lambda: recorded(labelled_by(after="sorted")), hint="inside the loop"),
    wrong("3.4", "no labels, zipped with the input",
          lambda: recorded(unlabelled_zipped_with_the_input), hint="return (page, text)"),
]
test_corpus = corpus_test(nb03, CORPUS)


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
# Pages 3, 1, 2 (input order) as fetch_sized runs them: they finish as 2, 3, 1.
SIZED = [(0.0, 0.2), (0.0, 0.3), (0.0, 0.1)]


# --- 3.1: the buggy code, and traces of other shapes ----------------------------------------

def test_ex3_1_the_bug_as_written_is_named_though_pages_is_still_a_stub(capsys):
    pages, trace = recorded(the_bug_as_written)
    ok, out = run(nb03.ex3_1, capsys, pages, trace)
    assert ok is False and "(replace the ... with your answer)" in out
    assert "is not callable" in out and "apply_async(fetch, (page,))" in out


def test_ex3_1_the_plain_stub_has_no_note(capsys):
    ok, out = run(nb03.ex3_1, capsys, ..., empty_trace())
    assert ok is False and out.count("\n") == 1, out


def test_ex3_1_the_bug_with_pages_set_another_way(capsys):
    ok, out = run(nb03.ex3_1, capsys, list(nb03.PAGES_3_1),
                  trace_of("apply_async", PARALLEL, FAILED))
    assert ok is False and not_yet(out, "apply_async(fetch, (page,))") and "callable" in out


@pytest.mark.parametrize("pages, trace, hint", [
    (nb03.PAGES_3_1, trace_of("map", PARALLEL), "keeps apply_async"),
    (["page 3", "page 1", "page 2"], trace_of("apply_async", PARALLEL),
     "in the order you submitted"),
    (nb03.PAGES_3_1, None, "%%timeline --out ex3_1_trace"),
    ("page 1", trace_of("apply_async", PARALLEL), "write a list"),
])
def test_ex3_1_wrong_shapes(capsys, pages, trace, hint):
    ok, out = run(nb03.ex3_1, capsys, pages, trace)
    assert ok is False and not_yet(out, hint), out


# --- 3.2 ------------------------------------------------------------------------------------

def test_ex3_2_agrees_with_the_pool():
    with ThreadPool(2) as pool:
        done = list(pool.imap_unordered(lambda s: time.sleep(s) or s, [0.4, 0.1, 0.2]))
        ordered = list(pool.imap(lambda s: time.sleep(s) or s, [0.4, 0.1, 0.2]))
    assert (ordered, done) == (nb03.ITEMS_3_2, nb03.DONE_3_2)


@pytest.mark.parametrize("in_order, unordered, hint", [
    ([0.4, 0.2, 0.1], [0.1, 0.2, 0.4], "keeps the order of its input"),
    ([0.4, 0.1, 0.2], None, "write a list"),
])
def test_ex3_2_other_wrong_answers(capsys, in_order, unordered, hint):
    ok, out = run(nb03.ex3_2, capsys, in_order, unordered)
    assert ok is False and not_yet(out, hint), out


# --- 3.3 ------------------------------------------------------------------------------------

@pytest.mark.parametrize("collected, trace, hint", [
    (nb03.PAGES_3_3, trace_of("apply_async", []), "callback=collected.append"),
    (nb03.PAGES_3_3[:2], trace_of("apply_async", PARALLEL + [(0, .1)], callbacks=2),
     "before it ends with terminate()"),
    (nb03.PAGES_3_3, trace_of("apply_async", PARALLEL, ABANDONED), "never delivered"),
    (["page 1"] * 4, trace_of("apply_async", PARALLEL + [(0, .1)], callbacks=4),
     "append it as it is"),
    (nb03.PAGES_3_3, "trace", "%%timeline --out ex3_3_trace"),
])
def test_ex3_3_wrong_shapes(capsys, collected, trace, hint):
    ok, out = run(nb03.ex3_3, capsys, collected, trace)
    assert ok is False and not_yet(out, hint), out


# --- 3.4 ------------------------------------------------------------------------------------

def test_ex3_4_the_data_tells_completion_from_sorted_and_input_order():
    finished = sorted(nb03.PAGES_3_4, key=nb03.SECONDS_3_4.get)
    assert finished not in (sorted(nb03.PAGES_3_4), nb03.PAGES_3_4)
    assert nb03.arrival_orders(trace_of("imap_unordered", SIZED).tasks) == [finished]


def test_ex3_4_reads_the_order_the_recording_shows(capsys):
    # A loaded machine started page 2 late, so it finished last: the check follows the
    # recording, not the planned times.
    late = trace_of("imap_unordered", [(0.0, 0.2), (0.0, 0.3), (0.25, 0.35)])
    ok, out = run(nb03.ex3_4, capsys, {3: "page 3", 1: "page 1", 2: "page 2"}, late)
    assert ok is True, out
    ok, out = run(nb03.ex3_4, capsys, {2: "page 2", 3: "page 3", 1: "page 1"}, late)
    assert ok is False and "finished as [3, 1, 2]" in out


def test_ex3_4_results_that_finish_together_may_arrive_either_way():
    together = trace_of("imap_unordered", [(0.0, 0.2), (0.0, 0.3), (0.0, 0.195)])
    assert nb03.arrival_orders(together.tasks) == [[2, 3, 1], [3, 2, 1]]


@pytest.mark.parametrize("by_page, trace, hint", [
    ({1: "page 1", 2: "page 2"}, trace_of("imap_unordered", SIZED), "return (page, text)"),
    (["page 1", "page 2", "page 3"], trace_of("imap_unordered", SIZED), "should be a dict"),
    (dict(nb03.BY_PAGE_3_4), trace_of("imap_unordered", []), "not imap_unordered"),
    ({2: "page 2", 3: "page 3", 1: "page 1"}, trace_of("imap_unordered", PARALLEL),
     "call fetch_sized(page)"),
    (dict(nb03.BY_PAGE_3_4), object(), "%%timeline --out ex3_4_trace"),
])
def test_ex3_4_wrong_shapes(capsys, by_page, trace, hint):
    ok, out = run(nb03.ex3_4, capsys, by_page, trace)
    assert ok is False and not_yet(out, hint), out


# --- every check: the stub's ..., garbage and nasty answers ---------------------------------

@pytest.mark.parametrize("check", CHECKS)
def test_ellipsis_asks_for_an_answer(capsys, check):
    ok, out = run(check, capsys, ..., ...)
    assert ok is False and "(replace the ... with your answer)" in out


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("junk", GARBAGE, ids=repr)
def test_garbage_never_raises(capsys, check, junk):
    garbage_everywhere_never_raises(capsys, check, junk)


RIGHT = [(nb03.ex3_1, (nb03.PAGES_3_1, trace_of("apply_async", PARALLEL))),
         (nb03.ex3_2, (nb03.ITEMS_3_2, nb03.DONE_3_2)),
         (nb03.ex3_3, (nb03.PAGES_3_3, trace_of("apply_async", PARALLEL + [(0, .1)],
                                                callbacks=4))),
         (nb03.ex3_4, ({2: "page 2", 3: "page 3", 1: "page 1"},
                       trace_of("imap_unordered", SIZED)))]


@pytest.mark.parametrize("check, right", RIGHT, ids=["3.1", "3.2", "3.3", "3.4"])
@pytest.mark.parametrize("junk", NASTY, ids=NASTY_IDS)
def test_nasty_answers_never_raise(capsys, check, right, junk):
    assert check(*right, quiet=True) is True
    nasty_answers_never_raise(capsys, check, junk, right)


def test_ex3_4_the_check_knows_the_notebooks_download_times():
    # The check reads the recording with the times of the notebook's fetch_sized.
    path = Path(__file__).resolve().parents[2] / "notebooks" / "03-Submit-without-Blocking.ipynb"
    source = next(c.source for c in nbformat.read(path, as_version=4).cells
                  if c.cell_type == "code" and "def fetch_sized" in c.source)
    assignment = next(node for node in ast.parse(source).body if isinstance(node, ast.Assign)
                      and node.targets[0].id == "page_seconds")
    assert ast.literal_eval(assignment.value) == nb03.SECONDS_3_4
    assert "imap(fetch_sized, [3, 1, 2])" in source

"""The checks of 00-Overview.ipynb: right answers pass, wrong ones get a hint naming the
mistake, nothing raises."""

from __future__ import annotations

import threading
import time
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope.tutorial.checks import nb00
from poolscope.trace import FINISHED, Task

from check_helpers import (NASTY, NASTY_IDS, garbage_in_each_place_never_raises,
                           nasty_answers_never_raise, on_one_pool, recorded, run)
from corpus import corpus_test, right, wrong

GARBAGE = [None, "4", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]


def fetch(page):
    time.sleep(0.01)  # the notebook's 0.2 s: the checks never judge times
    return f"page {page}"


# --- the learners' cells for exercise 0.3, run for real ----------------------------------

def pool_map():
    with ThreadPool(3) as pool:
        return pool.map(fetch, range(1, 7))


def pool_map_in_chunks():
    with ThreadPool(3) as pool:
        return pool.map(fetch, range(1, 7), chunksize=2)


def builtin_map():
    return list(map(fetch, range(1, 7)))


def two_workers():
    with ThreadPool(2) as pool:
        return pool.map(fetch, range(1, 7))


def pages_0_to_5():
    with ThreadPool(3) as pool:
        return pool.map(fetch, range(6))


def loop_of_apply():
    with ThreadPool(3) as pool:
        return [pool.apply(fetch, (page,)) for page in range(1, 7)]


def map_per_page():
    with ThreadPool(3) as pool:
        return [pool.map(fetch, [page])[0] for page in range(1, 7)]


CORPUS = [
    right("0.1", "read the timeline", (4, 0.5, 5), praise="item 5 waited 0.3 s"),
    wrong("0.1", "counted characters, 55 as two tasks", (5, 0.5, 5), hint="`55` is one task"),
    wrong("0.1", "counted all characters of the row", (6, 0.5, 5), hint="different items"),
    wrong("0.1", "map returned when worker 0 finished", (4, 0.4, 5), hint="caller's `=` ends"),
    wrong("0.1", "the longest task waited longest", (4, 0.5, 3), hint="started last"),
    # 0.2: map(fetch, range(10)) on ThreadPool(4): which items start, how many wait, and
    # what the caller does
    right("0.2", "items 0-3, 6 queued, the caller waits", ([0, 1, 2, 3], 6, "b"),
          praise="6 wait in the queue"),
    right("0.2", "another order, a tuple, (B)", ((3, 2, 1, 0), 6.0, "(B)")),
    wrong("0.2", "all ten start at once", (list(range(10)), 0, "b"),
          hint="at most 4 tasks at a time"),
    wrong("0.2", "items counted from 1", ([1, 2, 3, 4], 6, "b"), hint="count from 0"),
    wrong("0.2", "every third item, as if in chunks", ([0, 3, 6, 9], 6, "b"),
          hint="in the order map put them there"),
    wrong("0.2", "only two at once", ([0, 1], 8, "b"), hint="each takes one task at once"),
    wrong("0.2", "every task queued", ([0, 1, 2, 3], 10, "b"),
          hint="only the others wait"),
    wrong("0.2", "the last round's tasks queued", ([0, 1, 2, 3], 2, "b"),
          hint="2 tasks run in the last round"),
    wrong("0.2", "the caller runs tasks too", ([0, 1, 2, 3], 6, "a"),
          hint="the caller does not run tasks"),
    wrong("0.2", "the caller goes on at once", ([0, 1, 2, 3], 6, "c"), hint="that is map_async"),
    right("0.3", "pool.map on ThreadPool(3)", lambda: recorded(pool_map), praise="2 waves"),
    right("0.3", "pool.map with chunksize=2", lambda: recorded(pool_map_in_chunks),
          praise="chunksize=2"),
    wrong("0.3", "the built-in map", lambda: recorded(builtin_map), hint="built-in map()"),
    wrong("0.3", "ThreadPool(2)", lambda: recorded(two_workers), hint="ThreadPool(3)"),
    wrong("0.3", "pages 0 to 5", lambda: recorded(pages_0_to_5), hint="range(1, 7)"),
    wrong("0.3", "a loop of apply", lambda: recorded(loop_of_apply), hint="use pool.map"),
    wrong("0.3", "one map per page", lambda: recorded(map_per_page),
          hint="called map once per page"),
]
test_corpus = corpus_test(nb00, CORPUS)


def synthetic(size=3, call="map", pages=range(1, 7)):
    """A trace like a pool of ``size`` running ``call`` over ``pages`` (no threads)."""
    tasks = [Task(0, call, 0 if call == "map" else i, i, f"w{i % size}", i % size,
                  0.0, 0.2 * (i // size), 0.2 * (i // size) + 0.2, FINISHED,
                  caller="MainThread") for i, _ in enumerate(pages)]
    return on_one_pool(tasks, size)


PAGES = [f"page {n}" for n in range(1, 7)]


# --- answers of other forms ----------------------------------------------------------------

@pytest.mark.parametrize("answer, hint", [
    ((4.0, 0.52, 5), None),  # whole floats and a near time are fine
    ((4.5, 0.5, 5), "whole number"),
])
def test_ex0_1_forms(capsys, answer, hint):
    ok, out = run(nb00.ex0_1, capsys, *answer)
    assert ok is (hint is None) and (hint is None or hint in out), out


@pytest.mark.parametrize("answer, hint", [
    (("0, 1, 2, 3", 6, "b"), "started should be a list"),
    (([0, 1, 2, "3"], 6, "b"), "each item of started should be a number"),
    (([0, 1, 2, 3], 6.5, "b"), "queued should be a whole number"),
    (([0, 1, 2, 3], 6, "e"), "one of the letters"),
    (([0, 1, 2, 3], 6, 2), "write the letter as a string"),
])
def test_ex0_2_answers_of_other_forms(capsys, answer, hint):
    ok, out = run(nb00.ex0_2, capsys, *answer)
    assert ok is False and "not solved yet" in out and hint in out, out


@pytest.mark.parametrize("letter", ["a", "c"])
def test_ex0_2_a_wrong_letter_does_not_give_the_right_one_away(capsys, letter):
    ok, out = run(nb00.ex0_2, capsys, [0, 1, 2, 3], 6, letter)
    assert ok is False and "(b)" not in out and "'b'" not in out, out


def test_ex0_2_the_right_answer_is_what_a_real_pool_does():
    # The first four tasks meet at a barrier, so none finishes before four run at once
    # (a sleep would leave that to the machine's load); a pool that took other items
    # first, or fewer at once, would break the barrier after its timeout.
    meet = threading.Barrier(4, timeout=10)

    def fetch_at_the_barrier(page):
        if page < 4:
            meet.wait()
        return f"page {page}"

    with poolscope.record() as trace:
        with ThreadPool(4) as pool:
            pool.map(fetch_at_the_barrier, range(10))
    first_done = min(t.finished for t in trace.tasks)
    started = sorted(t.index for t in trace.tasks if t.started < first_done)
    waited = sum(t.started >= first_done for t in trace.tasks)
    blocked = [e for e in trace.events if e.kind == "map"]
    assert blocked and blocked[0].end >= max(t.finished for t in trace.tasks)  # (b)
    assert nb00.ex0_2(started, waited, "b", quiet=True), (started, waited)


def test_ex0_3_a_synthetic_trace_of_the_right_shape_passes():
    assert nb00.ex0_3(PAGES, synthetic(), quiet=True) is True


def test_ex0_3_needs_the_trace(capsys):
    ok, out = run(nb00.ex0_3, capsys, PAGES, None)
    assert ok is False and "%%timeline --out" in out


@pytest.mark.parametrize("check, answers", [(nb00.ex0_1, (..., ..., ...)),
                                            (nb00.ex0_1, (4, ..., 5)),
                                            (nb00.ex0_2, (..., ..., ...)),
                                            (nb00.ex0_2, ([0, 1, 2, 3], ..., "b")),
                                            (nb00.ex0_3, (..., synthetic()))])
def test_the_stub_asks_for_an_answer(capsys, check, answers):
    ok, out = run(check, capsys, *answers)
    assert ok is False and "(replace the ... with your answer)" in out


# --- garbage and nasty answers never raise -------------------------------------------------

CASES = [(nb00.ex0_1, (4, 0.5, 5)), (nb00.ex0_2, ([0, 1, 2, 3], 6, "b")), (nb00.ex0_3, (PAGES, synthetic()))]


@pytest.mark.parametrize("check, right", CASES, ids=["0.1", "0.2", "0.3"])
@pytest.mark.parametrize("junk", GARBAGE, ids=repr)
def test_garbage_never_raises(capsys, check, right, junk):
    garbage_in_each_place_never_raises(capsys, check, right, junk)


@pytest.mark.parametrize("check, right", CASES, ids=["0.1", "0.2", "0.3"])
@pytest.mark.parametrize("junk", NASTY, ids=NASTY_IDS)
def test_nasty_answers_never_raise(capsys, check, right, junk):
    nasty_answers_never_raise(capsys, check, junk, right)


def test_ex0_2_a_huge_int_is_feedback(capsys):
    ok, out = run(nb00.ex0_2, capsys, [0, 1, 2, 3], 10 ** 5000, "b")
    assert ok is False and "far out of range" in out and "5000 digits" in out


def test_quiet_prints_nothing(capsys):
    assert nb00.ex0_2([0, 1, 2, 3], 6, "b", quiet=True) is True
    assert nb00.ex0_2([0, 1, 2, 3], 10, "b", quiet=True) is False
    assert capsys.readouterr().out == ""

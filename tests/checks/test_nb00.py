"""The checks of 00-Overview.ipynb: right answers pass, wrong ones get a hint naming the
mistake, nothing raises."""

from __future__ import annotations

import time
from multiprocessing.pool import ThreadPool

import pytest

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
    right("0.2", "3 waves of 0.2 s", (0.6,), praise="3 waves (4 + 4 + 2)"),
    wrong("0.2", "total work / workers", (0.5,), hint="cannot be split"),
    wrong("0.2", "one task after another", (2.0,), hint="one task after another"),
    wrong("0.2", "all ten at once", (0.2,), hint="only 4 tasks run at the same time"),
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


@pytest.mark.parametrize("answer, hint", [(1, "how many rounds"), (0.8, "how many rounds"),
                                          ("0.6", "should be a number")])
def test_ex0_2_other_wrong_answers(capsys, answer, hint):
    ok, out = run(nb00.ex0_2, capsys, answer)
    assert ok is False and "not solved yet" in out and hint in out


def test_ex0_3_a_synthetic_trace_of_the_right_shape_passes():
    assert nb00.ex0_3(PAGES, synthetic(), quiet=True) is True


def test_ex0_3_needs_the_trace(capsys):
    ok, out = run(nb00.ex0_3, capsys, PAGES, None)
    assert ok is False and "%%timeline --out" in out


@pytest.mark.parametrize("check, answers", [(nb00.ex0_1, (..., ..., ...)),
                                            (nb00.ex0_1, (4, ..., 5)),
                                            (nb00.ex0_2, (...,)),
                                            (nb00.ex0_3, (..., synthetic()))])
def test_the_stub_asks_for_an_answer(capsys, check, answers):
    ok, out = run(check, capsys, *answers)
    assert ok is False and "(replace the ... with your answer)" in out


# --- garbage and nasty answers never raise -------------------------------------------------

CASES = [(nb00.ex0_1, (4, 0.5, 5)), (nb00.ex0_2, (0.6,)), (nb00.ex0_3, (PAGES, synthetic()))]


@pytest.mark.parametrize("check, right", CASES, ids=["0.1", "0.2", "0.3"])
@pytest.mark.parametrize("junk", GARBAGE, ids=repr)
def test_garbage_never_raises(capsys, check, right, junk):
    garbage_in_each_place_never_raises(capsys, check, right, junk)


@pytest.mark.parametrize("check, right", CASES, ids=["0.1", "0.2", "0.3"])
@pytest.mark.parametrize("junk", NASTY, ids=NASTY_IDS)
def test_nasty_answers_never_raise(capsys, check, right, junk):
    nasty_answers_never_raise(capsys, check, junk, right)


def test_ex0_2_a_huge_int_is_feedback(capsys):
    ok, out = run(nb00.ex0_2, capsys, 10 ** 5000)
    assert ok is False and "far out of range" in out and "5000 digits" in out


def test_quiet_prints_nothing(capsys):
    assert nb00.ex0_2(0.6, quiet=True) is True
    assert nb00.ex0_2(0.5, quiet=True) is False
    assert capsys.readouterr().out == ""

"""The checks of 01-Create-a-Pool.ipynb: right answers pass, wrong ones get a hint naming
the mistake, nothing raises."""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.pool import ThreadPool

import pytest

from poolscope.tutorial.checks import nb01
from poolscope.trace import FINISHED, Task

from check_helpers import (NASTY, NASTY_IDS, garbage_in_each_place_never_raises,
                           nasty_answers_never_raise, on_one_pool, recorded, run)
from corpus import corpus_test, right, wrong

GARBAGE = [None, "4", 4 + 2j, ValueError("boom"), [1, 2], float("inf"), True, object()]
SQUARES = [n * n for n in range(6)]
PAGES = [f"page {n}" for n in range(6)]


def slow_square(x):
    time.sleep(0.01)  # the checks never judge times: short sleeps keep the tests quick
    return x * x


def download(page):
    time.sleep(0.02)
    return f"page {page}"


# --- the learners' cells, run for real ------------------------------------------------------

def squares_on(size):
    def cell():
        with ThreadPool(size) as pool:
            return pool.map(slow_square, range(6))
    return cell


def squares_without_a_pool():
    return list(map(slow_square, range(6)))


def squares_on_the_process_pool():
    # Back to the process Pool the code came from, keeping maxtasksperchild.
    with multiprocessing.Pool(2, maxtasksperchild=2) as pool:
        return pool.map(slow_square, range(6))


def pages_on(size, **options):
    def cell():
        with ThreadPool(size) as pool:
            return pool.map(download, range(6), **options)
    return cell


def loop_of_apply():
    with ThreadPool(6) as pool:
        return [pool.apply(download, (n,)) for n in range(6)]


def apply_async_then_get_each():
    with ThreadPool(6) as pool:
        return [pool.apply_async(download, (n,)).get(timeout=5) for n in range(6)]


CORPUS = [
    right("1.1", "ThreadPool(2) without maxtasksperchild", lambda: recorded(squares_on(2)),
          praise="exists only for the process Pool"),
    wrong("1.1", "a bigger pool", lambda: recorded(squares_on(6)), hint="keep processes=2"),
    wrong("1.1", "the pool removed", lambda: recorded(squares_without_a_pool),
          hint="created no ThreadPool"),
    wrong("1.1", "back to the process Pool", lambda: recorded(squares_on_the_process_pool),
          hint="keep ThreadPool(2)"),
    right("1.2", "once per worker", (4,), praise="not once per task"),
    wrong("1.2", "once for the pool", (1,), hint="not tied to the tasks"),
    wrong("1.2", "once per task", (1.0,), hint="not tied to the tasks"),
    wrong("1.2", "the helper threads too", (7,), hint="how many worker threads"),
    right("1.3", "ThreadPool(6)", lambda: recorded(pages_on(6)), praise="six downloads"),
    right("1.3", "ThreadPool(8)", lambda: recorded(pages_on(8)), praise="6 is enough"),
    wrong("1.3", "ThreadPool(2)", lambda: recorded(pages_on(2)), hint="3 waves"),
    wrong("1.3", "ThreadPool(4)", lambda: recorded(pages_on(4)), hint="2 waves"),
    wrong("1.3", "ThreadPool(6) with chunksize=2", lambda: recorded(pages_on(6, chunksize=2)),
          hint="chunksize=2 puts 2 pages in each chunk"),
    wrong("1.3", "ThreadPool(6) with chunksize=6", lambda: recorded(pages_on(6, chunksize=6)),
          hint="chunksize=6 puts 6 pages in each chunk"),
    wrong("1.3", "a loop of apply", lambda: recorded(loop_of_apply),
          hint="a loop of apply() runs one download at a time"),
    wrong("1.3", "apply_async(...).get() per page", lambda: recorded(apply_async_then_get_each),
          hint="waited for a result before it sent the next download"),
]
test_corpus = corpus_test(nb01, CORPUS)


def synthetic(size, starts, call="map", n=6):
    """``n`` tasks of 0.2 s on a pool of ``size``, task i starting at ``starts(i)``."""
    tasks = [Task(0, call, 0, i, f"w{i % size}", i % size, 0.0, starts(i), starts(i) + 0.2,
                  FINISHED, caller="MainThread") for i in range(n)]
    return on_one_pool(tasks, size)


# --- answers of other forms and traces of other shapes ----------------------------------------

@pytest.mark.parametrize("squares, trace, hint", [
    ([0, 1, 4], synthetic(2, lambda i: 0.0), "pool.map(slow_square, range(6))"),
    (SQUARES, synthetic(3, lambda i: 0.0), "keep processes=2"),
])
def test_ex1_1_wrong_shapes(capsys, squares, trace, hint):
    ok, out = run(nb01.ex1_1, capsys, squares, trace)
    assert ok is False and "not solved yet" in out and hint in out


def test_ex1_2_a_fraction_is_not_a_count(capsys):
    ok, out = run(nb01.ex1_2, capsys, 2.5)
    assert ok is False and "whole number" in out


@pytest.mark.parametrize("pages, trace, hint", [
    (PAGES[:5], synthetic(6, lambda i: 0.0), "pool.map(download, range(6))"),
    (PAGES, synthetic(6, lambda i: 0.0, n=5), "6 downloads should finish"),
])
def test_ex1_3_wrong_shapes(capsys, pages, trace, hint):
    ok, out = run(nb01.ex1_3, capsys, pages, trace)
    assert ok is False and "not solved yet" in out and hint in out


def test_ex1_3_does_not_judge_start_times(capsys):
    # A loaded machine can start a task late; the verdict rests on what the cell did.
    late = synthetic(6, lambda i: 0.15 * i)
    ok, out = run(nb01.ex1_3, capsys, PAGES, late)
    assert ok is True, out


def test_ex1_3_nothing_ran(capsys):
    pages, trace = recorded(lambda: [download(n) for n in range(6)])
    ok, out = run(nb01.ex1_3, capsys, pages, trace)
    assert ok is False and "no task ran on a ThreadPool" in out


@pytest.mark.parametrize("check, answers", [(nb01.ex1_1, (..., synthetic(2, lambda i: 0.0))),
                                            (nb01.ex1_2, (...,)),
                                            (nb01.ex1_3, (..., synthetic(6, lambda i: 0.0)))])
def test_the_stub_asks_for_an_answer(capsys, check, answers):
    ok, out = run(check, capsys, *answers)
    assert ok is False and "(replace the ... with your answer)" in out


# --- garbage and nasty answers never raise --------------------------------------------------

CASES = [(nb01.ex1_1, (SQUARES, synthetic(2, lambda i: 0.2 * (i // 2)))),
         (nb01.ex1_2, (4,)),
         (nb01.ex1_3, (PAGES, synthetic(6, lambda i: 0.0)))]


@pytest.mark.parametrize("check, right", CASES, ids=["1.1", "1.2", "1.3"])
def test_the_right_answers_used_below_pass(check, right):
    assert check(*right, quiet=True) is True


@pytest.mark.parametrize("check, right", CASES, ids=["1.1", "1.2", "1.3"])
@pytest.mark.parametrize("junk", GARBAGE, ids=repr)
def test_garbage_never_raises(capsys, check, right, junk):
    garbage_in_each_place_never_raises(capsys, check, right, junk)


@pytest.mark.parametrize("check, right", CASES, ids=["1.1", "1.2", "1.3"])
@pytest.mark.parametrize("junk", NASTY, ids=NASTY_IDS)
def test_nasty_answers_never_raise(capsys, check, right, junk):
    nasty_answers_never_raise(capsys, check, junk, right)

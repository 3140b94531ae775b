"""The checks of 01-Create-a-Pool.ipynb: right answers pass, wrong ones get a hint,
nothing raises."""

from __future__ import annotations

import time
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope.checks import nb01
from poolscope.trace import FINISHED, Task

from check_helpers import garbage_in_each_place_never_raises, on_one_pool, run

GARBAGE = [None, "4", 4 + 2j, ValueError("boom"), [1, 2], float("inf"), True, object()]
SQUARES = [n * n for n in range(6)]
PAGES = [f"page {n}" for n in range(6)]


def slow_square(x):
    time.sleep(0.01)
    return x * x


def download(page):
    time.sleep(0.05)
    return f"page {page}"


def synthetic(size, starts, call="map", n=6):
    """``n`` tasks of 0.2 s on a pool of ``size``, task i starting at ``starts(i)``."""
    tasks = [Task(0, call, 0, i, f"w{i % size}", i % size, 0.0, starts(i), starts(i) + 0.2,
                  FINISHED, caller="MainThread") for i in range(n)]
    return on_one_pool(tasks, size)


# --- 1.1 fix a pool written for processes ------------------------------------------------

def test_ex1_1_right_with_a_real_recording(capsys):
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            squares = pool.map(slow_square, range(6))
    ok, out = run(nb01.ex1_1, capsys, squares, trace)
    assert ok is True and "solved!" in out


def test_ex1_1_no_pool(capsys):
    with poolscope.record() as trace:
        squares = [x * x for x in range(6)]
    ok, out = run(nb01.ex1_1, capsys, squares, trace)
    assert ok is False and "created no ThreadPool" in out


@pytest.mark.parametrize("squares, trace, hint", [
    (SQUARES, synthetic(3, lambda i: 0.0), "keep processes=2"),
    ([0, 1, 4], synthetic(2, lambda i: 0.0), "pool.map(slow_square, range(6))"),
])
def test_ex1_1_wrong(capsys, squares, trace, hint):
    ok, out = run(nb01.ex1_1, capsys, squares, trace)
    assert ok is False and "not solved yet" in out and hint in out


def test_ex1_1_ellipsis(capsys):
    ok, out = run(nb01.ex1_1, capsys, ..., synthetic(2, lambda i: 0.0))
    assert ok is False and "(replace the ... with your answer)" in out


# --- 1.2 how often the initializer runs ---------------------------------------------------

def test_ex1_2_right(capsys):
    ok, out = run(nb01.ex1_2, capsys, 4)
    assert ok is True and "Once in each of the 4 worker threads" in out


@pytest.mark.parametrize("answer, hint", [(1, "not tied to the tasks"),
                                          (3, "how many worker threads"),
                                          (2.5, "whole number")])
def test_ex1_2_wrong(capsys, answer, hint):
    ok, out = run(nb01.ex1_2, capsys, answer)
    assert ok is False and "not solved yet" in out and hint in out


def test_ex1_2_ellipsis(capsys):
    ok, out = run(nb01.ex1_2, capsys, ...)
    assert ok is False and "(replace the ... with your answer)" in out


# --- 1.3 one wave of downloads ------------------------------------------------------------

def test_ex1_3_right_with_a_real_recording(capsys):
    with poolscope.record() as trace:
        with ThreadPool(6) as pool:
            pages = pool.map(download, range(6))
    ok, out = run(nb01.ex1_3, capsys, pages, trace)
    assert ok is True and "solved!" in out


def test_ex1_3_more_workers_than_needed(capsys):
    ok, out = run(nb01.ex1_3, capsys, PAGES, synthetic(8, lambda i: 0.0))
    assert ok is True and "6 is enough" in out


def test_ex1_3_apply_in_a_loop_is_one_task_at_a_time(capsys):
    with poolscope.record() as trace:
        with ThreadPool(6) as pool:
            pages = [pool.apply(download, (n,)) for n in range(6)]
    ok, out = run(nb01.ex1_3, capsys, pages, trace)
    assert ok is False and "did not all start at once" in out


@pytest.mark.parametrize("pages, trace, hint", [
    (PAGES, synthetic(2, lambda i: 0.2 * (i // 2)), "3 waves"),
    (PAGES, synthetic(4, lambda i: 0.2 * (i // 4)), "2 waves"),
    (PAGES[:5], synthetic(6, lambda i: 0.0), "pool.map(download, range(6))"),
    (PAGES, synthetic(6, lambda i: 0.0, n=5), "6 downloads should finish"),
])
def test_ex1_3_wrong(capsys, pages, trace, hint):
    ok, out = run(nb01.ex1_3, capsys, pages, trace)
    assert ok is False and "not solved yet" in out and hint in out


def test_ex1_3_nothing_ran(capsys):
    with poolscope.record() as trace:
        pages = [download(n) for n in range(6)]
    ok, out = run(nb01.ex1_3, capsys, pages, trace)
    assert ok is False and "no task ran on a ThreadPool" in out


def test_ex1_3_ellipsis(capsys):
    ok, out = run(nb01.ex1_3, capsys, ..., synthetic(6, lambda i: 0.0))
    assert ok is False and "(replace the ... with your answer)" in out


# --- garbage never raises ----------------------------------------------------------------

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

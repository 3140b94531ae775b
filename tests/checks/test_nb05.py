"""The checks of 05-Shut-Down.ipynb: right answers pass, wrong ones get a hint,
nothing raises."""

from __future__ import annotations

import time
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope.checks import nb05

from check_helpers import (empty_trace, every_check_tests, letter_question_tests, not_yet, run,
                           says_replace_the_dots)

GARBAGE = [None, "d", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb05.ex5_1, 1), (nb05.ex5_2, 2), (nb05.ex5_3, 2), (nb05.ex5_4, 2)]


def task(x, seconds=0.02):
    time.sleep(seconds)
    return x * 10


# --- 5.1 join() before close() -----------------------------------------------------------

test_ex5_1_right, test_ex5_1_wrong_does_not_give_the_letter_away = letter_question_tests(
    nb05.ex5_1, "d", "Pool is still running", [
        ("a", "it does not return quietly"),
        ("b", "what join() does after close()"),
        ("c", "it does not hang"),
        ("e", "one of the letters"),
        (4, "write the letter as a string"),
    ], giveaways=["'d'"])


# --- 5.2 what terminate() leaves ---------------------------------------------------------

def test_ex5_2_right(capsys):
    ok, out = run(nb05.ex5_2, capsys, 3, 0)
    assert ok is True and "solved!" in out


@pytest.mark.parametrize("started, ready, hint", [
    (5, 0, "drops the tasks still in the queue"),
    (0, 0, "terminate() cannot stop a thread"),
    (2, 0, "three workers, five tasks"),
    (3, 3, "terminate() discards their results"),
    ("3", "0", "three workers, five tasks"),
])
def test_ex5_2_wrong(capsys, started, ready, hint):
    ok, out = run(nb05.ex5_2, capsys, started, ready)
    assert ok is False and not_yet(out, hint), out


# --- 5.3 a with block that loses results -------------------------------------------------

def test_ex5_3_right_collect_inside(capsys):
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            results = [pool.apply_async(task, (x,)) for x in range(4)]
            collected = [r.get() for r in results]
    ok, out = run(nb05.ex5_3, capsys, collected, trace)
    assert ok is True and "solved!" in out


def test_ex5_3_right_close_and_join(capsys):
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            results = [pool.apply_async(task, (x,)) for x in range(4)]
            pool.close()
            pool.join()
        collected = [r.get() for r in results]
    ok, out = run(nb05.ex5_3, capsys, collected, trace)
    assert ok is True and "solved!" in out


def test_ex5_3_the_bug(capsys):
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            results = [pool.apply_async(task, (x, 0.1)) for x in range(4)]
            time.sleep(0.05)
    collected = [r.ready() for r in results]
    ok, out = run(nb05.ex5_3, capsys, collected, trace)
    assert ok is False and not_yet(out, "the with block ends with terminate()"), out
    assert "item 0: abandoned" in out and "never started" in out


def test_ex5_3_no_pool(capsys):
    with poolscope.record() as trace:
        collected = [task(x, 0) for x in range(4)]
    ok, out = run(nb05.ex5_3, capsys, collected, trace)
    assert ok is False and not_yet(out, "keep the with block"), out


def test_ex5_3_wrong_values(capsys):
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            collected = pool.map(task, range(3))
    ok, out = run(nb05.ex5_3, capsys, collected, trace)
    assert ok is False and not_yet(out, "collected = [r.get() for r in results]"), out


# --- 5.4 close() and join() without a with block ------------------------------------------

def test_ex5_4_right(capsys):
    with poolscope.record() as trace:
        pool = ThreadPool(3)
        pending = [pool.apply_async(task, (x,)) for x in range(6)]
        pool.close()
        pool.join()
        answers = [r.get() for r in pending]
    ok, out = run(nb05.ex5_4, capsys, answers, trace)
    assert ok is True and "solved!" in out


def test_ex5_4_no_join(capsys):
    with poolscope.record() as trace:
        pool = ThreadPool(3)
        pending = [pool.apply_async(task, (x,)) for x in range(6)]
        pool.close()
        answers = [r.get() for r in pending]
    pool.join()
    ok, out = run(nb05.ex5_4, capsys, answers, trace)
    assert ok is False and not_yet(out, "call pool.join()"), out


def test_ex5_4_terminate_then_join(capsys):
    with poolscope.record() as trace:
        pool = ThreadPool(3)
        pending = [pool.apply_async(task, (x, 0.05)) for x in range(6)]
        time.sleep(0.02)
        pool.terminate()
        pool.join()
    answers = [r.ready() for r in pending]
    ok, out = run(nb05.ex5_4, capsys, answers, trace)
    assert ok is False and not_yet(out, "first pool.close()"), out


def test_ex5_4_close_terminate_join(capsys):
    with poolscope.record() as trace:
        pool = ThreadPool(3)
        pending = [pool.apply_async(task, (x, 0.05)) for x in range(6)]
        pool.close()
        time.sleep(0.02)
        pool.terminate()
        pool.join()
    answers = [r.ready() for r in pending]
    ok, out = run(nb05.ex5_4, capsys, answers, trace)
    assert ok is False and not_yet(out, "terminate() drops work"), out


def test_ex5_4_map_is_not_apply_async(capsys):
    with poolscope.record() as trace:
        pool = ThreadPool(3)
        answers = pool.map(task, range(6))
        pool.close()
        pool.join()
    ok, out = run(nb05.ex5_4, capsys, answers, trace)
    assert ok is False and not_yet(out, "pool.apply_async(task, (x,))"), out


def test_ex5_4_wrong_order(capsys):
    with poolscope.record() as trace:
        pool = ThreadPool(3)
        pending = [pool.apply_async(task, (x,)) for x in range(6)]
        pool.close()
        pool.join()
        answers = [r.get() for r in reversed(pending)]
    ok, out = run(nb05.ex5_4, capsys, answers, trace)
    assert ok is False and not_yet(out, "in the order of submission"), out


# --- every check: the stub, garbage, quiet -----------------------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE, right=[(nb05.ex5_1, "d")])


def test_the_stub_with_a_recorded_trace_says_replace_the_dots(capsys):
    # In the notebook the answer cell's stub records an empty trace and leaves `...`.
    for check in (nb05.ex5_3, nb05.ex5_4):
        says_replace_the_dots(capsys, check, ..., empty_trace())


def test_quiet_prints_nothing(capsys):
    assert nb05.ex5_2(3, 0, quiet=True) is True
    assert nb05.ex5_2(5, 0, quiet=True) is False
    assert capsys.readouterr().out == ""

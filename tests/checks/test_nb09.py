"""The checks of 09-ThreadPool-Executor-and-Pool.ipynb (right answers pass, wrong ones get a
hint, nothing raises), and the claims of poolscope.compare_workloads that the notebook
relies on."""

from __future__ import annotations

import multiprocessing
import pickle
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope.checks import nb09
from poolscope.compare_workloads import (MARK_EVERY, computing_at_once, crunch, loops_for,
                                         remember, square)

from check_helpers import empty_trace, every_check_tests, not_yet, run

GARBAGE = [None, "d", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object(), {}]
CHECKS = [(nb09.ex9_1, 2), (nb09.ex9_2, 3), (nb09.ex9_3, 2), (nb09.ex9_4, 1)]
DURATIONS = [0.3, 0.1, 0.2]


def fast(seconds):
    """sleep_task at half the length: the notebook's durations, in the same order of
    completion. (At a tenth, a caller stalled for 30 ms under load found every future
    done before as_completed() started, and as_completed yields those in set order.)"""
    time.sleep(seconds / 2)
    return seconds


def spawned_pool():
    """A process pool, already shut down (the 9.3 check looks only at its type)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pass
    return pool


# --- 9.1 from imap_unordered to as_completed ----------------------------------------------

def executor_run(collect=True, use_map=False):
    with poolscope.record() as trace:
        with ThreadPoolExecutor(3) as executor:
            if use_map:
                return list(executor.map(fast, DURATIONS)), trace
            futures = [executor.submit(fast, s) for s in DURATIONS]
            order = [f.result() for f in as_completed(futures)] if collect else futures
    return order, trace


def test_ex9_1_right(capsys):
    order, trace = executor_run()
    ok, out = run(nb09.ex9_1, capsys, order, trace)
    assert ok is True and "solved!" in out, out


def test_ex9_1_a_threadpool_is_not_an_executor(capsys):
    with poolscope.record() as trace:
        with ThreadPool(3) as pool:
            order = list(pool.imap_unordered(fast, DURATIONS))
    ok, out = run(nb09.ex9_1, capsys, order, trace)
    assert ok is False and not_yet(out, "with ThreadPoolExecutor(3) as executor"), out
    assert "it ran a ThreadPool" in out


def test_ex9_1_map_is_not_submit(capsys):
    order, trace = executor_run(use_map=True)
    ok, out = run(nb09.ex9_1, capsys, order, trace)
    assert ok is False and not_yet(out, "executor.submit(sleep_task, s)"), out
    assert "with map, not submit" in out


def test_ex9_1_futures_are_not_results(capsys):
    futures, trace = executor_run(collect=False)
    ok, out = run(nb09.ex9_1, capsys, futures, trace)
    assert ok is False and not_yet(out, "future.result()"), out


def test_ex9_1_submission_order(capsys):
    futures, trace = executor_run(collect=False)
    order = [f.result() for f in futures]
    ok, out = run(nb09.ex9_1, capsys, order, trace)
    assert ok is False and not_yet(out, "loop over it instead of over futures"), out


def test_ex9_1_too_few_tasks(capsys):
    with poolscope.record() as trace:
        with ThreadPoolExecutor(3) as executor:
            order = [executor.submit(fast, 0.1).result()]
    ok, out = run(nb09.ex9_1, capsys, order, trace)
    assert ok is False and not_yet(out, "one submit per duration"), out


def test_ex9_1_no_trace(capsys):
    order, _ = executor_run()
    ok, out = run(nb09.ex9_1, capsys, order, "ex9_1_trace")
    assert ok is False and not_yet(out, "keep the first line of the answer cell"), out


# --- 9.2 leaving the with block -----------------------------------------------------------

def test_ex9_2_right(capsys):
    ok, out = run(nb09.ex9_2, capsys, 4, 0, 0)
    assert ok is True and "solved!" in out


@pytest.mark.parametrize("answers, hint", [
    ((2, 0, 0), "calls shutdown(wait=True)"),
    ((0, 0, 0), "calls shutdown(wait=True)"),
    ((4, 2, 0), "their results are discarded"),
    ((4, 0, 2), "kills the worker processes"),
    ((4.0, 0.0, 2.0), "kills the worker processes"),
    ((4, "0", 0), "threadpool_ready should be a number"),
    ((4, 0.5, 0), "threadpool_ready should be a whole number"),
])
def test_ex9_2_wrong(capsys, answers, hint):
    ok, out = run(nb09.ex9_2, capsys, *answers)
    assert ok is False and "not solved yet." in out and hint in out, out


# --- 9.3 a lambda for a process pool -------------------------------------------------------

def test_ex9_3_right(capsys):
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        squares = pool.map(square, range(5))
    ok, out = run(nb09.ex9_3, capsys, squares, pool)
    assert ok is True and "solved!" in out, out


def test_ex9_3_the_bug_still_raises():
    # What the answer cell's commented-out code does: the check's premise. (A lambda in a
    # notebook's __main__ gives PicklingError; this one is local to the test, which 3.13
    # reports as AttributeError: Can't get local object.)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        with pytest.raises((pickle.PicklingError, AttributeError), match="pickle|local object"):
            pool.map(lambda x: x * x, range(5))


def test_ex9_3_a_threadpool_dodges_the_task(capsys):
    with ThreadPool(2) as pool:
        squares = pool.map(lambda x: x * x, range(5))
    ok, out = run(nb09.ex9_3, capsys, squares, pool)
    assert ok is False and not_yet(out, "keep the process pool"), out


def test_ex9_3_no_pool(capsys):
    ok, out = run(nb09.ex9_3, capsys, [x * x for x in range(5)], None)
    assert ok is False and not_yet(out, "keep the line with spawn.Pool(2)"), out


def test_ex9_3_wrong_values(capsys):
    ok, out = run(nb09.ex9_3, capsys, [0, 2, 4, 6, 8], spawned_pool())
    assert ok is False and not_yet(out, "square, from poolscope.compare_workloads"), out


# --- 9.4 pick the pool ---------------------------------------------------------------------

RIGHT_9_4 = {"a": "Pool", "b": "ThreadPoolExecutor", "c": "ThreadPool"}


@pytest.mark.parametrize("choice", [
    RIGHT_9_4,
    {"a": "pool", "b": " ThreadPoolExecutor() ", "c": "threadpool"},
    {"c": "ThreadPool", "a": "multiprocessing.Pool", "b": "thread_pool_executor"},
])
def test_ex9_4_right(capsys, choice):
    ok, out = run(nb09.ex9_4, capsys, choice)
    assert ok is True and "solved!" in out, out


@pytest.mark.parametrize("job, answer, hint", [
    ("a", "ThreadPool", "under the GIL, threads take turns"),
    ("a", "ThreadPoolExecutor", "under the GIL, threads take turns"),
    ("b", "ThreadPool", "take an executor and its futures"),
    ("b", "Pool", "take an executor and its futures"),
    ("c", "Pool", "change the program's own dictionary"),
    ("c", "ThreadPoolExecutor", "imap_unordered with a chunksize"),
])
def test_ex9_4_wrong_names_the_job_not_the_answer(capsys, job, answer, hint):
    ok, out = run(nb09.ex9_4, capsys, {**RIGHT_9_4, job: answer})
    assert ok is False and not_yet(out, hint), out
    assert f"job {job}: not the best fit" in out
    assert RIGHT_9_4[job] not in out.replace(answer, "")


@pytest.mark.parametrize("choice, hint", [
    ({"a": ..., "b": ..., "c": ...}, "replace each ... with a pool's name"),
    ({"a": "Pool", "b": "ThreadPoolExecutor"}, "keep the dict of the answer cell"),
    (["Pool", "ThreadPoolExecutor", "ThreadPool"], "keep the dict of the answer cell"),
    ({"a": "processes", "b": "ThreadPoolExecutor", "c": "ThreadPool"}, "as a string"),
    ({"a": ThreadPool, "b": "ThreadPoolExecutor", "c": "ThreadPool"}, "as a string"),
])
def test_ex9_4_malformed(capsys, choice, hint):
    ok, out = run(nb09.ex9_4, capsys, choice)
    assert ok is False and not_yet(out, hint), out


# --- every check: the stub, garbage, quiet -------------------------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE)


def test_the_stubs_as_the_notebook_leaves_them(capsys):
    # 9.1's stub records an empty trace; 9.3's sets squares and pool to ...;
    # 9.4's is a dict of ...
    assert run(nb09.ex9_1, capsys, ..., empty_trace())[0] is False
    assert run(nb09.ex9_3, capsys, ..., ...)[0] is False
    ok, out = run(nb09.ex9_4, capsys, {"a": ..., "b": ..., "c": ...})
    assert ok is False and "not solved yet" in out


def test_quiet_prints_nothing(capsys):
    assert nb09.ex9_2(4, 0, 0, quiet=True) is True
    assert nb09.ex9_2(0, 0, 0, quiet=True) is False
    assert nb09.ex9_4(RIGHT_9_4, quiet=True) is True
    assert capsys.readouterr().out == ""


# --- the workloads the notebook relies on --------------------------------------------------

def test_crunch_marks_every_slice():
    marks = crunch(3 * MARK_EVERY + 1)
    assert len(marks) == 5 and marks == sorted(marks)
    assert crunch(0)[1:] == []


@pytest.mark.parametrize("bad", [-1, 1.5, "10", True, None])
def test_crunch_and_loops_for_reject_bad_input(bad):
    with pytest.raises(ValueError, match="n must be a whole number"):
        crunch(bad)
    if bad != 1.5:
        with pytest.raises(ValueError, match="seconds must be a positive number"):
            loops_for(bad if bad != -1 else 0)


def test_computing_at_once_counts_overlaps_and_skips_pauses():
    a = [0.0, 1.0, 2.0, 3.0]
    assert computing_at_once([a, [0.5, 1.5, 2.5]]) == 2
    assert computing_at_once([a, [3.0, 4.0, 5.0]]) == 1           # one after the other
    assert computing_at_once([[0.0, 1.0, 2.0, 9.0, 10.0], [3.0, 4.0, 5.0]]) == 1  # 2-9: pause
    assert computing_at_once([a, a, a]) == 3
    assert computing_at_once([]) == 0


@pytest.mark.parametrize("bad", [[1.0, 2.0], [[1.0, "x"]], [None]])
def test_computing_at_once_rejects_what_crunch_does_not_return(bad):
    with pytest.raises(ValueError, match="expected the list of time marks crunch"):
        computing_at_once(bad)


@pytest.mark.skipif(not getattr(sys, "_is_gil_enabled", lambda: True)(),
                    reason="a free-threaded build runs threads' Python code at once")
@pytest.mark.parametrize("make", [ThreadPool, ThreadPoolExecutor])
def test_threads_never_compute_at_once(make):
    # The notebook's claim for both thread pools: under the GIL the answer is 1, never
    # more, however busy the machine. (That processes give 2 depends on a free core:
    # benchmarks/bench_compare.py measures it.)
    n = loops_for(0.03)
    with make(3) as pool:
        marks = list(pool.map(crunch, [n] * 3))
    assert computing_at_once(marks) == 1


def test_remember_shares_a_list_with_threads_only():
    seen: list = []
    with ThreadPool(2) as pool:
        assert sorted(pool.starmap(remember, [(seen, x) for x in range(3)])) == [1, 2, 3]
    assert sorted(seen) == [0, 1, 2]
    with pytest.raises(TypeError, match="seen must be a list"):
        remember((), 1)

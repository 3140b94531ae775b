"""The checks of 14-ThreadPool-Executor-and-Pool.ipynb (right answers pass, wrong ones get a
hint, nothing raises), and the claims of poolscope.tutorial.compare_workloads that the notebook
relies on.

The wrong-answer corpus runs each code answer for real, recorded the way the answer cell's
``%%timeline --out NAME`` records it.
"""

from __future__ import annotations

import multiprocessing
import pickle
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope.tutorial.checks import nb14
from poolscope.tutorial.compare_workloads import (MARK_EVERY, PAGES, computing_at_once, crunch, fetch,
                                         loops_for, remember, square, state)
from poolscope.trace import FINISHED, Event, PoolInfo, Task, Trace
from poolscope.tutorial.workloads import sleep_task

from check_helpers import empty_trace, every_check_tests, not_yet, run
from corpus import corpus_test, right, wrong

GARBAGE = [None, "d", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object(), {}]
CHECKS = [(nb14.ex14_1, 2), (nb14.ex14_2, 3), (nb14.ex14_3, 2), (nb14.ex14_4, 1)]
SPAWN = multiprocessing.get_context("spawn")


# --- 14.1 from imap_unordered to as_completed: the learner's cells, run for real -----------
# Each runs the notebook's own pages (0.2 s apart, the shortest 0.2 s), so the order in
# which they finish does not depend on how busy the machine is.

def submitted_then(collect):
    """The answer cell: one submit per page, then ``collect(futures)``, the rest of it."""
    def answer():
        with poolscope.record() as trace:
            with ThreadPoolExecutor(3) as executor:
                futures = [executor.submit(fetch, page) for page in PAGES]
                order = collect(futures)
        return order, trace
    return answer


def docs_idiom():
    # The concurrent.futures documentation's example: a dict from future to input.
    with poolscope.record() as trace:
        with ThreadPoolExecutor(3) as executor:
            future_to_page = {executor.submit(fetch, page): page for page in PAGES}
            order = []
            for future in as_completed(future_to_page):
                order.append(future.result())
    return order, trace


def docs_idiom_without_result():
    with poolscope.record() as trace:
        with ThreadPoolExecutor(3) as executor:
            future_to_name = {executor.submit(fetch, page): page[0] for page in PAGES}
            order = [future_to_name[f] for f in as_completed(future_to_name)]
    return order, trace


def hard_coded(futures):
    [f.result() for f in futures]
    return ["b.html", "c.html", "a.html"]  # the order the check's feedback would show


def waited_first(futures):
    wait(futures)
    return [f.result() for f in as_completed(futures)]


def on_a_threadpool():
    with poolscope.record() as trace:
        with ThreadPool(3) as pool:
            order = list(pool.imap_unordered(fetch, PAGES))
    return order, trace


def with_executor_map():
    with poolscope.record() as trace:
        with ThreadPoolExecutor(3) as executor:
            order = list(executor.map(fetch, PAGES))
    return order, trace


def with_sleep_task():
    with poolscope.record() as trace:
        with ThreadPoolExecutor(3) as executor:
            futures = [executor.submit(sleep_task, seconds) for _, seconds in PAGES]
            order = [f.result() for f in as_completed(futures)]
    return order, trace


# --- 14.3 a lambda for a process pool ------------------------------------------------------

def spawned_map_of_square():
    with poolscope.record() as trace:
        with SPAWN.Pool(2) as pool:
            squares = pool.map(square, range(5))
    return squares, trace


def spawned_starmap_of_pow():
    with poolscope.record() as trace:
        with SPAWN.Pool(2) as pool:
            squares = pool.starmap(pow, [(x, 2) for x in range(5)])
    return squares, trace


def threadpool_with_the_lambda():
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            squares = pool.map(lambda x: x * x, range(5))
    return squares, trace


def builtin_map_inside_the_pool_block():
    with poolscope.record() as trace:
        with SPAWN.Pool(2) as pool:
            squares = list(map(lambda x: x * x, range(5)))
    return squares, trace


RIGHT_14_4 = {"a": "Pool", "b": "ThreadPoolExecutor", "c": "ThreadPool"}

CORPUS = [
    # 9.1
    right("14.1", "as_completed", submitted_then(
        lambda fs: [f.result() for f in as_completed(fs)]), praise="shortest download first"),
    right("14.1", "the docs' dict of futures", docs_idiom),
    wrong("14.1", "as_completed, then sorted", submitted_then(
        lambda fs: sorted([f.result() for f in as_completed(fs)])), hint="alphabetical order"),
    wrong("14.1", "sorted, without as_completed", submitted_then(
        lambda fs: sorted(f.result() for f in fs)), hint="alphabetical order"),
    wrong("14.1", "a loop over the futures", submitted_then(
        lambda fs: [f.result() for f in fs]), hint="loop over it instead of over futures"),
    wrong("14.1", "the futures themselves", submitted_then(lambda fs: list(as_completed(fs))),
          hint="order holds futures, not their results"),
    wrong("14.1", "names from the dict, no result()", docs_idiom_without_result,
          hint="asked 0 of the 3 futures"),
    wrong("14.1", "the expected list typed in", submitted_then(hard_coded),
          hint="asked the futures for their results in another order"),
    wrong("14.1", "wait() for all first", submitted_then(waited_first),
          hint="had finished before your cell first asked"),
    wrong("14.1", "imap_unordered on a ThreadPool", on_a_threadpool,
          hint="it ran a ThreadPool"),
    wrong("14.1", "executor.map", with_executor_map, hint="with map, not submit"),
    wrong("14.1", "sleep_task instead of fetch", with_sleep_task,
          hint="should hold the three pages' names"),
    # 9.2
    right("14.2", "4, 0, 0", (4, 0, 0), praise="the executor waited for its 4 tasks"),
    right("14.2", "as floats", (4.0, 0.0, 0.0)),
    wrong("14.2", "the executor's two running tasks", (2, 0, 0), hint="shutdown(wait=True)"),
    wrong("14.2", "nothing waits", (0, 0, 0), hint="shutdown(wait=True)"),
    wrong("14.2", "every block waits", (4, 4, 4), hint="their results are discarded"),
    wrong("14.2", "a ThreadPool finishes its running tasks", (4, 2, 0),
          hint="their results are discarded"),
    wrong("14.2", "a Pool finishes its running tasks", (4, 0, 2),
          hint="kills the worker processes"),
    # 9.3
    right("14.3", "pool.map(square, ...)", spawned_map_of_square,
          praise="sent by its name"),
    right("14.3", "pool.starmap(pow, ...)", spawned_starmap_of_pow),
    wrong("14.3", "a ThreadPool takes the lambda", threadpool_with_the_lambda,
          hint="keep the process pool"),
    wrong("14.3", "the built-in map inside the with block", builtin_map_inside_the_pool_block,
          hint="the process pool ran no tasks"),
    # 9.4
    right("14.4", "Pool, ThreadPoolExecutor, ThreadPool", RIGHT_14_4),
    right("14.4", "other spellings",
          {"a": "multiprocessing.Pool", "b": " ThreadPoolExecutor() ", "c": "thread_pool"}),
    wrong("14.4", "a: threads for computing", {**RIGHT_14_4, "a": "ThreadPool"},
          hint="under the GIL, threads take turns"),
    wrong("14.4", "a: an executor for computing", {**RIGHT_14_4, "a": "ThreadPoolExecutor"},
          hint="under the GIL, threads take turns"),
    wrong("14.4", "b: ThreadPool for asyncio", {**RIGHT_14_4, "b": "ThreadPool"},
          hint="take an executor and its futures"),
    wrong("14.4", "b: processes for downloads", {**RIGHT_14_4, "b": "Pool"},
          hint="take an executor and its futures"),
    wrong("14.4", "c: keep the process Pool", {**RIGHT_14_4, "c": "Pool"},
          hint="change the program's own dictionary"),
    wrong("14.4", "c: an executor", {**RIGHT_14_4, "c": "ThreadPoolExecutor"},
          hint="imap_unordered with a chunksize"),
]
test_corpus = corpus_test(nb14, CORPUS)


# --- 14.1: what the check judges -------------------------------------------------------------

def synthetic_14_1(finishes: dict[str, float], asked: list[str], starts=None) -> Trace:
    """A recorded 14.1 run: each page submitted at 0 (in PAGES' order), started at
    ``starts`` (0 by default), finished at ``finishes[name]``; the cell then called
    result() on the futures in the order ``asked``, each when its task had finished."""
    starts = starts or {}
    call = {name: k for k, (name, _) in enumerate(PAGES)}
    tasks = [Task(0, "submit", call[n], 0, f"w{call[n]}", call[n], 0.0, starts.get(n, 0.0),
                  finishes[n], FINISHED, caller="MainThread") for n, _ in PAGES]
    events = [Event("result", 0, "MainThread", finishes[n], finishes[n], "ok", call[n])
              for n in asked]
    return Trace.from_records(tasks, events, pools=[PoolInfo(0, "ThreadPoolExecutor", 3, 0.0)])


def test_ex9_1_judges_the_recorded_order_not_a_fixed_list(capsys):
    # A loaded machine started b.html 0.3 s late: it finished second. The learner's
    # as_completed loop followed the real order, and passes; the usual order does not.
    late_b = synthetic_14_1({"c.html": 0.4, "b.html": 0.5, "a.html": 0.6},
                           asked=["c.html", "b.html", "a.html"], starts={"b.html": 0.3})
    ok, out = run(nb14.ex14_1, capsys, ["c.html", "b.html", "a.html"], late_b)
    assert ok is True and "solved!" in out, out
    ok, out = run(nb14.ex14_1, capsys, ["b.html", "c.html", "a.html"], late_b)
    assert ok is False and not_yet(out, "not the order in which your tasks finished"), out


def test_ex9_1_never_praises_an_order_taken_after_every_task_finished(capsys):
    # as_completed hands over futures that were done before it was called in set order:
    # even when that happens to be the order they finished in, it proves nothing.
    trace = synthetic_14_1({"b.html": 0.2, "c.html": 0.4, "a.html": 0.6},
                          asked=["b.html", "c.html", "a.html"])
    stalled = Trace.from_records(
        trace.tasks, [Event(e.kind, e.pool, e.thread, 0.7 + e.start / 10, 0.7 + e.start / 10,
                            e.status, e.call_id) for e in trace.events], pools=trace.pools)
    ok, out = run(nb14.ex14_1, capsys, ["b.html", "c.html", "a.html"], stalled)
    assert ok is False and not_yet(out, "run it again"), out


def test_ex9_1_the_pages_finish_in_an_order_of_their_own():
    # The premise of the exercise: the finishing order is neither the submission order
    # nor the alphabetical order (nor its reverse), so neither passes by accident.
    names = [name for name, _ in PAGES]
    finishing = [name for name, _ in sorted(PAGES, key=lambda page: page[1])]
    assert len({tuple(names), tuple(finishing), tuple(sorted(names)),
                tuple(sorted(names, reverse=True))}) == 4
    # Wide gaps, and a first page long enough for the caller to be waiting in
    # as_completed before it ends, however busy the machine.
    seconds = sorted(s for _, s in PAGES)
    assert seconds[0] >= 0.2 and all(b - a >= 0.2 - 1e-9 for a, b in zip(seconds, seconds[1:]))


def test_ex9_1_too_few_tasks(capsys):
    with poolscope.record() as trace:
        with ThreadPoolExecutor(3) as executor:
            order = [executor.submit(fetch, ("b.html", 0.2)).result()]
    ok, out = run(nb14.ex14_1, capsys, order, trace)
    assert ok is False and not_yet(out, "one submit per page of PAGES"), out


def test_ex9_1_no_trace(capsys):
    ok, out = run(nb14.ex14_1, capsys, ["b.html", "c.html", "a.html"], "ex14_1_trace")
    assert ok is False and not_yet(out, "keep the first line of the answer cell"), out


# --- 14.2, 14.3 and 9.4: answers that are not of the right kind -------------------------------

@pytest.mark.parametrize("answers, hint", [
    ((4, "0", 0), "threadpool_ready should be a number"),
    ((4, 0.5, 0), "threadpool_ready should be a whole number"),
])
def test_ex9_2_not_a_count(capsys, answers, hint):
    ok, out = run(nb14.ex14_2, capsys, *answers)
    assert ok is False and not_yet(out, hint), out


def test_ex9_3_the_bug_still_raises():
    # What the answer cell's commented-out code does: the check's premise. (A lambda in a
    # notebook's __main__ gives PicklingError; this one is local to the test, which 3.13
    # reports as AttributeError: Can't get local object.)
    with SPAWN.Pool(1) as pool:
        with pytest.raises((pickle.PicklingError, AttributeError), match="pickle|local object"):
            pool.map(lambda x: x * x, range(5))


def test_ex9_3_no_pool_at_all(capsys):
    with poolscope.record() as trace:
        squares = [x * x for x in range(5)]
    ok, out = run(nb14.ex14_3, capsys, squares, trace)
    assert ok is False and not_yet(out, "keep the line with spawn.Pool(2)"), out


def test_ex9_3_wrong_values_from_the_pool(capsys):
    _, trace = spawned_map_of_square()
    ok, out = run(nb14.ex14_3, capsys, [0, 2, 4, 6, 8], trace)
    assert ok is False and not_yet(out, "squares = pool.map(square, range(5))"), out


@pytest.mark.parametrize("choice, hint", [
    ({"a": ..., "b": ..., "c": ...}, "replace each ... with a pool's name"),
    ({"a": "Pool", "b": "ThreadPoolExecutor"}, "keep the dict of the answer cell"),
    (["Pool", "ThreadPoolExecutor", "ThreadPool"], "keep the dict of the answer cell"),
    ({"a": "processes", "b": "ThreadPoolExecutor", "c": "ThreadPool"}, "as a string"),
    ({"a": ThreadPool, "b": "ThreadPoolExecutor", "c": "ThreadPool"}, "as a string"),
])
def test_ex9_4_malformed(capsys, choice, hint):
    ok, out = run(nb14.ex14_4, capsys, choice)
    assert ok is False and not_yet(out, hint), out


@pytest.mark.parametrize("job", ["a", "b", "c"])
def test_ex9_4_feedback_names_the_job_not_the_answer(capsys, job):
    for answer in {"Pool", "ThreadPool", "ThreadPoolExecutor"} - {RIGHT_14_4[job]}:
        ok, out = run(nb14.ex14_4, capsys, {**RIGHT_14_4, job: answer})
        assert ok is False and f"job {job}: not the best fit" in out
        assert RIGHT_14_4[job] not in out.replace(answer, "")


# --- every check: the stub, garbage, quiet -------------------------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE)


def test_the_stubs_as_the_notebook_leaves_them(capsys):
    # 9.1's and 9.3's stubs record an empty trace; 9.4's is a dict of ...
    assert run(nb14.ex14_1, capsys, ..., empty_trace())[0] is False
    assert run(nb14.ex14_3, capsys, ..., empty_trace())[0] is False
    ok, out = run(nb14.ex14_4, capsys, {"a": ..., "b": ..., "c": ...})
    assert ok is False and "not solved yet" in out


def test_quiet_prints_nothing(capsys):
    assert nb14.ex14_2(4, 0, 0, quiet=True) is True
    assert nb14.ex14_2(0, 0, 0, quiet=True) is False
    assert nb14.ex14_4(RIGHT_14_4, quiet=True) is True
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


@pytest.mark.parametrize("bad", ["a.html", ("a.html",), (1, 0.1), ("a.html", -1),
                                 ("a.html", True), None])
def test_fetch_rejects_what_is_not_a_page(bad):
    with pytest.raises(ValueError, match="page must be a"):
        fetch(bad)


def test_a_spawned_worker_sees_state_as_imported(monkeypatch):
    # The notebook's claim: threads share this process's modules, a spawned worker
    # imports its own. (fork copies the caller: the notebook shows it in a subprocess.)
    import poolscope.tutorial.compare_workloads as cw
    monkeypatch.setattr(cw, "STATE", "changed by the caller")
    with ThreadPool(1) as pool:
        assert pool.apply(state) == "changed by the caller"
    with SPAWN.Pool(1) as pool:
        assert pool.apply(state) == "as imported"

"""The checks of 15-Process-Pools.ipynb: right answers pass, wrong ones get a hint naming the
mistake, nothing raises; and the claims of poolscope.tutorial.compare_workloads that the
notebook relies on (crunch, computing_at_once, remember, state, set_state, side_by_side).

The wrong-answer corpus runs each code answer for real, recorded the way the answer cell's
``%%timeline --out NAME`` records it, with spawned process pools as the notebook's.
"""

from __future__ import annotations

import multiprocessing
import pickle
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
import poolscope.tutorial.compare_workloads as cw
from poolscope.tutorial.checks import nb15
from poolscope.tutorial.compare_workloads import (MARK_EVERY, computing_at_once, crunch, loops_for,
                                                  remember, set_state, side_by_side, square, state)
from poolscope.trace import FINISHED, PoolInfo, Task, Trace, Worker

from check_helpers import (NASTY, NASTY_IDS, empty_trace, every_check_tests,
                           nasty_answers_never_raise, not_yet, run)
from corpus import corpus_test, right, wrong

GARBAGE = [None, "d", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object(), {}]
CHECKS = [(nb15.ex15_1, 2), (nb15.ex15_2, 2), (nb15.ex15_3, 2), (nb15.ex15_4, 1)]
SPAWN = multiprocessing.get_context("spawn")


# --- 15.1 a setting the workers never saw: the learner's cells, run for real -------------

def changed_then(run_pool):
    """The answer cell: the caller changes STATE (as the buggy code does), then
    ``run_pool()`` returns ``seen``; STATE is restored afterwards (the test's own
    cleanup)."""
    def answer():
        try:
            cw.STATE = "verbose"
            with poolscope.record() as trace:
                seen = run_pool()
        finally:
            cw.STATE = "as imported"
        return seen, trace
    return answer


def with_initializer(initargs, context=SPAWN, workers=2):
    def run_pool():
        with context.Pool(workers, initializer=set_state, initargs=initargs) as pool:
            return pool.map(state, range(4))
    return run_pool


def as_it_was():
    with SPAWN.Pool(2) as pool:
        return pool.map(state, range(4))


def setting_as_the_items():  # state() ignores its argument
    with SPAWN.Pool(2) as pool:
        return pool.map(state, ["verbose"] * 4)


def set_by_tasks_first():  # each worker that happens to get a set_state task is set
    with SPAWN.Pool(2) as pool:
        pool.map(set_state, ["verbose"] * 2)
        return pool.map(state, range(4))


def on_a_threadpool():
    with ThreadPool(2) as pool:
        return pool.map(state, range(4))


def forked():
    with warnings.catch_warnings():  # 3.12+ warn when forking a process with threads
        warnings.simplefilter("ignore", DeprecationWarning)
        with multiprocessing.get_context("fork").Pool(2) as pool:
            return pool.map(state, range(4))


# --- 15.2 a lambda for a process pool --------------------------------------------------

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


RIGHT_15_3 = (0, 2)
RIGHT_15_4 = {"a": "Pool", "b": "ThreadPoolExecutor", "c": "ThreadPool"}

CORPUS = [
    # 15.1
    right("15.1", "initializer=set_state, initargs=('verbose',)",
          changed_then(with_initializer(("verbose",))), praise="ran set_state as it started"),
    right("15.1", "initargs as a list", changed_then(with_initializer(["verbose"]))),
    wrong("15.1", "the code as it was", changed_then(as_it_was),
          hint="every task read 'as imported'"),
    wrong("15.1", "the setting as map's items", changed_then(setting_as_the_items),
          hint="imports compare_workloads afresh"),
    wrong("15.1", "set_state sent as tasks first", changed_then(set_by_tasks_first),
          hint="initializer=set_state"),
    wrong("15.1", "initargs without the comma",
          changed_then(with_initializer("verbose")), hint="with the comma"),
    wrong("15.1", "a ThreadPool sees the change", changed_then(on_a_threadpool),
          hint="keep the process pool"),
    # 15.2
    right("15.2", "pool.map(square, ...)", spawned_map_of_square, praise="sent by its name"),
    right("15.2", "pool.starmap(pow, ...)", spawned_starmap_of_pow),
    wrong("15.2", "a ThreadPool takes the lambda", threadpool_with_the_lambda,
          hint="keep the process pool"),
    wrong("15.2", "the built-in map inside the with block", builtin_map_inside_the_pool_block,
          hint="the process pool ran no tasks"),
    # 15.3
    right("15.3", "0, 2", RIGHT_15_3, praise="killed mid-task"),
    right("15.3", "as floats", (0.0, 2.0)),
    wrong("15.3", "processes run on too", (2, 2), hint="kills the worker processes"),
    wrong("15.3", "threads are stopped too", (0, 0), hint="a thread cannot be killed"),
    wrong("15.3", "the with block waits for all", (4, 4), hint="the two queued tasks never start"),
    wrong("15.3", "threads and processes swapped", (2, 0), hint="kills the worker processes"),
    wrong("15.3", "the queued threads run too", (0, 4), hint="never start, in a ThreadPool too"),
    # 15.4
    right("15.4", "Pool, ThreadPoolExecutor, ThreadPool", RIGHT_15_4),
    right("15.4", "other spellings",
          {"a": "multiprocessing.Pool", "b": " ThreadPoolExecutor() ", "c": "thread_pool"}),
    wrong("15.4", "a: threads for computing", {**RIGHT_15_4, "a": "ThreadPool"},
          hint="under the GIL, threads take turns"),
    wrong("15.4", "a: an executor for computing", {**RIGHT_15_4, "a": "ThreadPoolExecutor"},
          hint="under the GIL, threads take turns"),
    wrong("15.4", "b: ThreadPool for asyncio", {**RIGHT_15_4, "b": "ThreadPool"},
          hint="take an executor and its futures"),
    wrong("15.4", "b: processes for downloads", {**RIGHT_15_4, "b": "Pool"},
          hint="take an executor and its futures"),
    wrong("15.4", "c: keep the process Pool", {**RIGHT_15_4, "c": "Pool"},
          hint="change the program's own dictionary"),
    wrong("15.4", "c: an executor", {**RIGHT_15_4, "c": "ThreadPoolExecutor"},
          hint="imap_unordered with a chunksize"),
]
if "fork" in multiprocessing.get_all_start_methods():  # not on Windows
    CORPUS.append(wrong("15.1", "a forked pool copies the change", changed_then(forked),
                        hint="your pool forked this kernel"))
test_corpus = corpus_test(nb15, CORPUS)


# --- 15.1: what the check judges ------------------------------------------------------

def synthetic_15_1(workers: list[Worker]) -> Trace:
    """Four tasks of a spawned Pool, run by the first of ``workers``."""
    tasks = [Task(0, "map", 0, k, workers[0].name, 0, 0.0, 0.1, 0.2, FINISHED, chunk=k)
             for k in range(4)]
    return Trace.from_records(tasks, workers=workers,
                              pools=[PoolInfo(0, "Pool", len(workers), 0.0)])


def test_ex15_1_wants_the_initializer_in_the_workers_that_ran_the_tasks(capsys):
    initialised = Worker(0, 0, "SpawnPoolWorker-1", 0.0, init_started=0.05, init_finished=0.06)
    # A second worker still starting when the pool ended ran no initializer, and no task.
    late = Worker(0, 1, "SpawnPoolWorker-2", 0.3)
    ok, out = run(nb15.ex15_1, capsys, ["verbose"] * 4, synthetic_15_1([initialised, late]))
    assert ok is True and "solved!" in out, out
    bare = Worker(0, 0, "SpawnPoolWorker-1", 0.0)
    ok, out = run(nb15.ex15_1, capsys, ["verbose"] * 4, synthetic_15_1([bare, late]))
    assert ok is False and not_yet(out, "ran no initializer"), out


def test_ex15_1_forkserver_workers_are_fine(capsys):
    worker = Worker(0, 0, "ForkServerPoolWorker-1", 0.0, init_started=0.05, init_finished=0.06)
    ok, out = run(nb15.ex15_1, capsys, ["verbose"] * 4, synthetic_15_1([worker]))
    assert ok is True, out


def test_ex15_1_the_bad_initargs_note_never_hangs_the_pool():
    # The premise of set_state's leniency: an initializer that raised would kill each
    # worker as it starts, and map would wait forever; set_state leaves a note instead.
    with SPAWN.Pool(1, initializer=set_state, initargs="verbose") as pool:
        seen = pool.map_async(state, range(2)).get(timeout=60)
    assert seen == ["set_state() got 7 arguments: initargs must be a tuple of one value, "
                    "like ('verbose',)"] * 2


def test_ex15_1_a_wrong_setting(capsys):
    seen, trace = changed_then(with_initializer(("quiet",)))()
    ok, out = run(nb15.ex15_1, capsys, seen, trace)
    assert ok is False and not_yet(out, "each of the 4 should read 'verbose'"), out


# --- 15.2: the premise, and answers that are not right -----------------------------------

def test_ex15_2_the_bug_still_raises():
    # What the answer cell's commented-out code does: the check's premise. (A lambda in a
    # notebook's __main__ gives PicklingError; this one is local to the test, which 3.13
    # reports as AttributeError: Can't get local object.)
    with SPAWN.Pool(1) as pool:
        with pytest.raises((pickle.PicklingError, AttributeError), match="pickle|local object"):
            pool.map(lambda x: x * x, range(5))


def test_ex15_2_no_pool_at_all(capsys):
    with poolscope.record() as trace:
        squares = [x * x for x in range(5)]
    ok, out = run(nb15.ex15_2, capsys, squares, trace)
    assert ok is False and not_yet(out, "keep the line with spawn.Pool(2)"), out


def test_ex15_2_wrong_values_from_the_pool(capsys):
    _, trace = spawned_map_of_square()
    ok, out = run(nb15.ex15_2, capsys, [0, 2, 4, 6, 8], trace)
    assert ok is False and not_yet(out, "squares = pool.map(square, range(5))"), out


# --- 15.3 and 15.4: answers that are not of the right kind -----------------------------------

@pytest.mark.parametrize("answers, hint", [
    ((0, "2"), "threadpool_full should be a number"),
    ((0.5, 2), "pool_full should be a whole number"),
    ((1, 2), "count the tasks running when the block ended"),
])
def test_ex15_3_not_a_count(capsys, answers, hint):
    ok, out = run(nb15.ex15_3, capsys, *answers)
    assert ok is False and not_yet(out, hint), out


@pytest.mark.parametrize("choice, hint", [
    ({"a": ..., "b": ..., "c": ...}, "replace each ... with a pool's name"),
    ({"a": "Pool", "b": "ThreadPoolExecutor"}, "keep the dict of the answer cell"),
    (["Pool", "ThreadPoolExecutor", "ThreadPool"], "keep the dict of the answer cell"),
    ({"a": "processes", "b": "ThreadPoolExecutor", "c": "ThreadPool"}, "as a string"),
    ({"a": ThreadPool, "b": "ThreadPoolExecutor", "c": "ThreadPool"}, "as a string"),
])
def test_ex15_4_malformed(capsys, choice, hint):
    ok, out = run(nb15.ex15_4, capsys, choice)
    assert ok is False and not_yet(out, hint), out


@pytest.mark.parametrize("job", ["a", "b", "c"])
def test_ex15_4_feedback_names_the_job_not_the_answer(capsys, job):
    for answer in {"Pool", "ThreadPool", "ThreadPoolExecutor"} - {RIGHT_15_4[job]}:
        ok, out = run(nb15.ex15_4, capsys, {**RIGHT_15_4, job: answer})
        assert ok is False and f"job {job}: not the best fit" in out
        assert RIGHT_15_4[job] not in out.replace(answer, "")


# --- every check: the stub, garbage, nasty answers, quiet ---------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE)


@pytest.mark.parametrize("junk", NASTY, ids=NASTY_IDS)
def test_nasty_answers_never_raise_beside_right_ones(capsys, junk):
    nasty_answers_never_raise(capsys, nb15.ex15_3, junk, RIGHT_15_3)


def test_the_stubs_as_the_notebook_leaves_them(capsys):
    # 15.1's and 15.2's stubs record an empty trace; 15.4's is a dict of ...
    assert run(nb15.ex15_1, capsys, ..., empty_trace())[0] is False
    assert run(nb15.ex15_2, capsys, ..., empty_trace())[0] is False
    ok, out = run(nb15.ex15_4, capsys, {"a": ..., "b": ..., "c": ...})
    assert ok is False and "not solved yet" in out


def test_quiet_prints_nothing(capsys):
    assert nb15.ex15_3(0, 2, quiet=True) is True
    assert nb15.ex15_3(2, 2, quiet=True) is False
    assert nb15.ex15_4(RIGHT_15_4, quiet=True) is True
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


def test_a_spawned_worker_sees_state_as_imported(monkeypatch):
    # The notebook's claim: threads share this process's modules, a spawned worker
    # imports its own. (fork copies the caller: the notebook shows it in a subprocess.)
    monkeypatch.setattr(cw, "STATE", "changed by the caller")
    with ThreadPool(1) as pool:
        assert pool.apply(state) == "changed by the caller"
    with SPAWN.Pool(1) as pool:
        assert pool.apply(state) == "as imported"


def test_set_state_sets_state_here(monkeypatch):
    monkeypatch.setattr(cw, "STATE", "as imported")
    set_state("quiet")
    assert state() == "quiet"
    set_state()
    assert "got 0 arguments" in state()


def test_side_by_side_draws_a_panel_per_trace():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    traces = {}
    for name in ("one", "two"):
        with poolscope.record() as traces[name]:
            with ThreadPool(2) as pool:
                pool.map(abs, range(4))
    axes = side_by_side(traces)
    assert [ax.get_title() for ax in axes] == ["one", "two"]
    left, right = axes[0].get_xlim()
    assert right > left
    plt.close("all")
    with pytest.raises(ValueError, match="traces must map"):
        side_by_side({})
    _, spare = plt.subplots(1, 3)
    with pytest.raises(ValueError, match="2 traces need 2 axes, not 3"):
        side_by_side(traces, axes=spare)
    plt.close("all")

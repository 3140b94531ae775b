"""One behaviour suite, run against the plain stdlib ProcessPoolExecutor and the recorded one.

Each test states a behaviour of ``concurrent.futures.ProcessPoolExecutor`` (CPython's
``Lib/concurrent/futures/process.py`` and the docs); the ``executor_factory`` fixture
runs it with nothing patched and inside ``poolscope.record()``, where it also checks
that the recording saw every executor and that the trace is consistent. Most tests use
the fork start method (fast); ``max_tasks_per_child`` needs another one (spawn). Task
functions live in ``proc_tasks.py`` so that spawned workers can import them.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import time
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import proc_tasks as tasks
import pytest
from helpers import plain_or_recorded, wait_until

from poolscope import _procexecutor

# Forking a multi-threaded process (pytest's, with pools about) warns on 3.12+.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*fork\\(\\) may lead to deadlocks:DeprecationWarning")

fork = multiprocessing.get_context("fork")
spawn = multiprocessing.get_context("spawn")


@pytest.fixture(params=["plain", "recorded"])
def executor_factory(request):
    def construct(*args, **kwargs):
        kwargs.setdefault("mp_context", fork)
        return ProcessPoolExecutor(*args, **kwargs)

    with plain_or_recorded(request.param, construct, _procexecutor.RecordedProcessExecutor,
                           "ProcessPoolExecutor", shutdown) as make:
        yield make


def shutdown(ex):
    ex.shutdown(wait=True, cancel_futures=True)


def test_submit_and_map_give_results_in_input_order(executor_factory):
    ex = executor_factory(2)
    f = ex.submit(tasks.slow_square, 3, delay=0.01)
    assert isinstance(f, Future) and f.result(10) == 9 and f.exception() is None
    assert type(f).__name__ == "Future" and "state=finished returned int" in repr(f)
    assert list(ex.map(tasks.square, range(7))) == [x * x for x in range(7)]
    assert list(ex.map(tasks.square, range(7), chunksize=3)) == [x * x for x in range(7)]
    assert list(ex.map(pow, [2, 3], [3, 2])) == [8, 9]
    assert list(ex.map(abs, [])) == []
    results = ex.map(tasks.sleep_return, [0.2, 0.01])
    assert not isinstance(results, list) and list(results) == [0.2, 0.01]


def test_map_refuses_a_chunksize_below_one(executor_factory):
    ex = executor_factory(1)
    with pytest.raises(ValueError, match=r"chunksize must be >= 1\."):
        ex.map(abs, [1], chunksize=0)
    assert ex.submit(abs, -1).result(10) == 1


def test_an_exception_comes_back_with_its_remote_traceback(executor_factory):
    ex = executor_factory(2)
    with pytest.raises(tasks.CustomError) as info:
        ex.submit(tasks.raise_custom, "a", 1).result(10)
    assert info.value.args == ("a", 1)
    cause = info.value.__cause__
    assert type(cause).__name__ == "_RemoteTraceback"
    assert "in raise_custom" in str(cause) and "CustomError: ('a', 1)" in str(cause)
    # map: the chunks before the failing one come back, then its exception (the whole
    # chunk [2, 3] failed: item 2 is never yielded).
    results = ex.map(tasks.fail_on, range(6), chunksize=2)
    assert [next(results) for _ in range(2)] == [0, 1]
    with pytest.raises(ValueError, match="bad item 3") as info:
        next(results)
    assert type(info.value.__cause__).__name__ == "_RemoteTraceback"
    # A worker survives even SystemExit: it comes back as the task's exception.
    with pytest.raises(SystemExit):
        ex.submit(tasks.exit_on, 1).result(10)
    assert ex.submit(abs, -2).result(10) == 2


def test_map_times_out(executor_factory):
    ex = executor_factory(1)
    assert ex.submit(abs, -1).result(30) == 1  # the worker is up: its start is not timed
    # The timeout counts from the map() call; the first item comes well within it.
    results = ex.map(tasks.sleep_return, [0.01, 2.0], timeout=1.0)
    assert next(results) == 0.01
    with pytest.raises(TimeoutError):
        next(results)


def test_cancel_works_on_pending_futures_only(executor_factory):
    ex = executor_factory(1)
    first = ex.submit(tasks.sleep_return, 0.8)  # still running when we cancel, under load too
    # The call queue holds max_workers + 1 items; later ones are still pending.
    rest = [ex.submit(abs, -i) for i in range(1, 5)]
    wait_until(first.running)
    assert not first.cancel()
    assert rest[-1].cancel() and rest[-1].cancelled() and rest[-1].done()
    with pytest.raises(CancelledError):
        rest[-1].result(0)
    assert first.result(10) == 0.8 and [f.result(10) for f in rest[:2]] == [1, 2]


def test_shutdown_cancel_futures_and_after_shutdown(executor_factory):
    ex = executor_factory(1)
    first = ex.submit(tasks.sleep_return, 0.8)  # still running at shutdown(), under load too
    later = [ex.submit(abs, -i) for i in range(1, 6)]
    wait_until(first.running)
    ex.shutdown(wait=True, cancel_futures=True)
    assert first.result(0) == 0.8
    assert later[-1].cancelled()  # pending when shutdown() was called
    assert all(f.done() for f in later)
    with pytest.raises(RuntimeError, match="cannot schedule new futures after shutdown"):
        ex.submit(abs, 1)
    ex.shutdown()  # again: harmless


def test_shutdown_without_waiting_still_finishes_the_work(executor_factory):
    ex = executor_factory(2)
    futures = [ex.submit(tasks.slow_square, i, 0.05) for i in range(4)]
    ex.shutdown(wait=False)
    assert [f.result(10) for f in futures] == [0, 1, 4, 9]


def test_with_waits_for_every_task(executor_factory):
    with executor_factory(2) as ex:
        futures = [ex.submit(tasks.slow_square, i, 0.05) for i in range(3)]
    assert all(f.done() for f in futures) and [f.result(0) for f in futures] == [0, 1, 4]
    with pytest.raises(RuntimeError):
        ex.submit(abs, 1)


def test_pickling_errors_fail_the_task_not_the_executor(executor_factory):
    ex = executor_factory(1)
    unpicklable = lambda: 1  # noqa: E731 (a local lambda cannot be pickled)
    sent = ex.submit(unpicklable)
    assert isinstance(sent.exception(10), (pickle.PicklingError, AttributeError, TypeError))
    returned = ex.submit(tasks.unpicklable_result, 1)
    assert isinstance(returned.exception(10), (pickle.PicklingError, AttributeError, TypeError))
    assert ex.submit(abs, -3).result(10) == 3  # the executor works on


def test_an_initializer_runs_in_every_worker(executor_factory):
    ex = executor_factory(2, initializer=tasks.init, initargs=(7,))
    assert list(ex.map(tasks.initialised, range(4))) == [7] * 4


def test_a_failing_initializer_breaks_the_executor(executor_factory):
    ex = executor_factory(1, initializer=tasks.fail_init_value)
    with pytest.raises(BrokenProcessPool):
        ex.submit(abs, 1).result(10)
    with pytest.raises(BrokenProcessPool):
        ex.submit(abs, 1)


def test_a_killed_worker_breaks_the_executor(executor_factory, tmp_path):
    ex = executor_factory(1)
    path = tmp_path / "pid"
    running = ex.submit(tasks.report_pid, str(path), 10)
    wait_until(lambda: path.exists() and path.read_text())
    os.kill(int(path.read_text()), signal.SIGKILL)
    with pytest.raises(BrokenProcessPool):
        running.result(10)
    with pytest.raises(BrokenProcessPool):
        ex.submit(abs, 1)


def test_max_tasks_per_child_replaces_the_worker(executor_factory):
    with pytest.raises(ValueError, match="incompatible with the 'fork'"):
        executor_factory(1, max_tasks_per_child=2)
    ex = executor_factory(1, mp_context=spawn, max_tasks_per_child=2)
    pids = [ex.submit(os.getpid).result(30) for _ in range(4)]
    assert pids[0] == pids[1] != pids[2] == pids[3]


def test_a_spawned_executor_works_the_same(executor_factory):
    with executor_factory(2, mp_context=spawn) as ex:
        assert list(ex.map(tasks.square, range(5), chunksize=2)) == [0, 1, 4, 9, 16]
        with pytest.raises(ValueError, match="bad item 3"):
            ex.submit(tasks.fail_on, 3).result(30)


def test_time_is_not_asserted_but_results_arrive(executor_factory):
    # Many small tasks in chunks: every result, in order (no duration asserted).
    ex = executor_factory(2)
    start = time.monotonic()
    assert sum(ex.map(tasks.square, range(500), chunksize=50)) == sum(x * x for x in range(500))
    assert time.monotonic() >= start

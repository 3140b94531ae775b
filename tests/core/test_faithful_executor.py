"""One behaviour suite, run against the plain stdlib ThreadPoolExecutor and the recorded one.

Each test states a behaviour of ``concurrent.futures.ThreadPoolExecutor`` (CPython's
``Lib/concurrent/futures/thread.py`` and the docs); the ``executor_factory`` fixture
runs it with nothing patched and inside ``poolscope.record()``, where it also checks
that the recording saw every executor and that the trace is consistent.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
from concurrent.futures import (
    FIRST_COMPLETED,
    CancelledError,
    Future,
    ThreadPoolExecutor,
    as_completed,
    wait,
)
from concurrent.futures.thread import BrokenThreadPool
from functools import partial

import proc_tasks as tasks
import pytest
from helpers import broken_input, plain_or_recorded, raising_task, wait_until

from poolscope import _executor


@pytest.fixture(params=["plain", "recorded"])
def executor_factory(request):
    with plain_or_recorded(request.param, ThreadPoolExecutor, _executor.RecordedExecutor,
                           "ThreadPoolExecutor", shutdown) as make:
        yield make


def shutdown(ex):
    ex.shutdown(wait=True, cancel_futures=True)


def test_submit_returns_a_future_with_the_result(executor_factory):
    ex = executor_factory(2)
    f = ex.submit(tasks.slow_square, 3, delay=0.01)
    assert isinstance(f, Future) and f.result(5) == 9
    assert f.done() and not f.cancelled() and f.exception() is None
    assert re.fullmatch(r"<Future at 0x[0-9a-f]+ state=finished returned int>", repr(f))


def test_map_yields_results_in_input_order(executor_factory):
    ex = executor_factory(3)
    results = ex.map(tasks.slow_square, [5, 1, 4], [0.1, 0.01, 0.05])
    assert not isinstance(results, list)  # an iterator: the items were submitted already
    assert list(results) == [25, 1, 16]
    assert list(ex.map(pow, [2, 3], [3, 2])) == [8, 9]
    assert list(ex.map(abs, [])) == []


def test_map_raises_the_first_failure_in_input_order(executor_factory):
    ex = executor_factory(2)
    it = ex.map(partial(tasks.fail_on, bad=1), range(3))
    assert next(it) == 0
    with pytest.raises(ValueError, match="bad item 1"):
        next(it)
    with pytest.raises(StopIteration):  # the generator ended at the exception
        next(it)


def test_map_with_a_failing_iterable_raises_at_the_call(executor_factory):
    ex = executor_factory(2)
    with pytest.raises(RuntimeError, match="input broke"):
        ex.map(abs, broken_input(1))


def test_map_timeout_raises_timeout_error_and_cancels_the_rest(executor_factory):
    ex = executor_factory(1)
    release = threading.Event()
    ran = []
    it = ex.map(lambda x: ran.append(x) or release.wait(5), range(3), timeout=0.05)
    with pytest.raises(TimeoutError):
        next(it)
    release.set()
    ex.shutdown(wait=True)
    assert ran == [0]  # item 0 was running; items 1 and 2 were cancelled


def test_the_same_exception_object_comes_back(executor_factory):
    ex = executor_factory(2)
    raised = []
    f = ex.submit(raising_task(raised))
    with pytest.raises(KeyError) as info:
        f.result(5)
    assert info.value is raised[0] and f.exception() is raised[0]


def test_even_system_exit_only_fails_the_future(executor_factory):
    ex = executor_factory(1)
    f = ex.submit(sys.exit, 3)
    assert isinstance(f.exception(5), SystemExit)
    assert ex.submit(abs, -2).result(5) == 2  # the worker thread survived


def test_result_timeout_is_the_builtin_timeout_error(executor_factory):
    ex = executor_factory(1)
    f = ex.submit(time.sleep, 0.3)
    with pytest.raises(TimeoutError):
        f.result(timeout=0.01)
    with pytest.raises(TimeoutError):
        f.exception(timeout=0.01)
    assert f.result(5) is None


def test_done_callbacks_run_in_the_worker_or_at_once_in_the_caller(executor_factory):
    ex = executor_factory(1)
    threads = []
    release = threading.Event()
    f = ex.submit(release.wait, 5)
    f.add_done_callback(lambda fut: threads.append(threading.current_thread().name))
    release.set()
    f.result(5)
    wait_until(lambda: threads)
    f.add_done_callback(lambda fut: threads.append(threading.current_thread().name))
    assert threads[0].startswith("ThreadPoolExecutor-") and threads[1] == "MainThread"


def test_a_failing_callback_is_logged_and_the_rest_still_run(executor_factory, caplog):
    ex = executor_factory(1)
    ran = []
    f = ex.submit(abs, -1)
    f.result(5)
    with caplog.at_level(logging.ERROR, logger="concurrent.futures"):
        f.add_done_callback(lambda fut: 1 / 0)
        f.add_done_callback(lambda fut: ran.append(fut.result()))
    assert ran == [1]
    assert "exception calling callback for <Future" in caplog.text
    assert "ZeroDivisionError" in caplog.text


def test_threads_start_lazily_with_stdlib_names(executor_factory):
    ex = executor_factory(3)
    assert len(ex._threads) == 0
    release = threading.Event()
    futures = [ex.submit(release.wait, 5) for _ in range(2)]
    assert len(ex._threads) == 2  # one per submit while none is idle
    release.set()
    wait(futures, 5)
    names = sorted(t.name for t in ex._threads)
    assert all(re.fullmatch(r"ThreadPoolExecutor-\d+_[01]", n) for n in names), names
    prefixed = executor_factory(1, thread_name_prefix="io")
    assert prefixed.submit(lambda: threading.current_thread().name).result(5) == "io_0"
    assert not any(t.daemon for t in ex._threads)


def test_shutdown_waits_and_stops_submissions(executor_factory):
    ex = executor_factory(2)
    futures = [ex.submit(tasks.slow_square, x, 0.05) for x in range(4)]
    ex.shutdown(wait=True)
    assert all(f.done() for f in futures)
    with pytest.raises(RuntimeError, match="cannot schedule new futures after shutdown"):
        ex.submit(abs, 1)
    with pytest.raises(RuntimeError, match="cannot schedule new futures after shutdown"):
        ex.map(abs, [1])
    ex.shutdown()  # a second shutdown is fine


def test_shutdown_without_waiting_lets_queued_tasks_run(executor_factory):
    ex = executor_factory(1)
    release = threading.Event()
    first = ex.submit(release.wait, 5)
    queued = ex.submit(abs, -7)
    ex.shutdown(wait=False)
    assert not first.done()
    release.set()
    assert queued.result(5) == 7


def test_shutdown_cancel_futures_cancels_only_the_queued(executor_factory):
    ex = executor_factory(1)
    release = threading.Event()
    running = ex.submit(release.wait, 5)
    wait_until(running.running)
    queued = [ex.submit(abs, -x) for x in range(3)]
    stopper = threading.Thread(target=ex.shutdown, kwargs={"cancel_futures": True})
    stopper.start()
    wait_until(lambda: all(f.cancelled() for f in queued))
    assert stopper.is_alive()  # shutdown(wait=True) waits for the running task
    release.set()
    stopper.join(5)
    assert running.result(0) is True
    assert all(f.cancelled() for f in queued)
    with pytest.raises(CancelledError):
        queued[0].result(0)


def test_the_with_block_waits_for_every_task(executor_factory):
    with executor_factory(2) as ex:
        futures = [ex.submit(tasks.slow_square, x, 0.05) for x in range(4)]
    assert all(f.done() for f in futures) and [f.result() for f in futures] == [0, 1, 4, 9]
    assert ex._shutdown


def test_cancel_works_only_on_a_queued_task(executor_factory):
    ex = executor_factory(1)
    release = threading.Event()
    running = ex.submit(release.wait, 5)
    queued = ex.submit(abs, -1)
    wait_until(running.running)
    assert running.cancel() is False and queued.cancel() is True
    assert queued.cancel() is True and queued.cancelled()  # again: still True
    release.set()
    assert running.result(5) is True
    with pytest.raises(CancelledError):
        queued.result(5)


def test_as_completed_and_wait(executor_factory):
    ex = executor_factory(2)
    release = threading.Event()
    slow = ex.submit(release.wait, 5)
    fast = ex.submit(abs, -1)
    assert next(as_completed([slow, fast], timeout=5)) is fast
    done, pending = wait([slow, fast], timeout=5, return_when=FIRST_COMPLETED)
    assert done == {fast} and pending == {slow}
    release.set()
    done, pending = wait([slow, fast], timeout=5)
    assert done == {slow, fast} and not pending


def test_initializer_runs_once_per_thread(executor_factory):
    calls = []
    ex = executor_factory(2, initializer=calls.append, initargs=("init",))
    release = threading.Event()
    futures = [ex.submit(release.wait, 5) for _ in range(2)]
    release.set()
    wait(futures, 5)
    ex.shutdown()
    assert calls == ["init"] * 2


def test_a_failing_initializer_breaks_the_executor(executor_factory, caplog):
    ex = executor_factory(1, initializer=tasks.fail_init)
    with caplog.at_level(logging.CRITICAL, logger="concurrent.futures"):
        f = ex.submit(abs, 1)
        with pytest.raises(BrokenThreadPool):
            f.result(5)
    assert "Exception in initializer" in caplog.text
    with pytest.raises(BrokenThreadPool, match="initializer failed"):
        ex.submit(abs, 1)


def test_constructor_errors_and_default_size(executor_factory):
    with pytest.raises(ValueError, match="max_workers must be greater than 0"):
        executor_factory(0)
    with pytest.raises(TypeError, match="initializer must be a callable"):
        executor_factory(1, initializer=5)
    cpus = os.process_cpu_count() if sys.version_info >= (3, 13) else os.cpu_count()
    assert executor_factory()._max_workers == min(32, (cpus or 1) + 4)


def test_repr_is_the_stdlibs(executor_factory):
    ex = executor_factory(1)
    assert re.fullmatch(r"<concurrent\.futures\.thread\.ThreadPoolExecutor object at "
                        r"0x[0-9a-f]+>", repr(ex))
    assert isinstance(ex, ThreadPoolExecutor)


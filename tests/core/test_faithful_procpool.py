"""One behaviour suite, run against the plain stdlib process Pool and the recorded one,
with the fork and the spawn start methods.

Each test states a behaviour of ``multiprocessing.pool.Pool`` (CPython's
``Lib/multiprocessing/pool.py`` and the docs); the ``pool_factory`` fixture runs it with
nothing patched and inside ``poolscope.record()``, where it also checks that the
recording saw every pool and that the trace is consistent. Task functions live in
``proc_tasks.py`` so that spawned workers can import them.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import re
import signal
import sys
import threading
from multiprocessing.pool import Pool, RemoteTraceback

import proc_tasks as tasks
import pytest
from helpers import (
    broken_input,
    check_close_stops_submissions,
    plain_or_recorded,
    terminate,
    wait_until,
)

from poolscope import _pool

# Forking a multi-threaded process (pytest's, with pools about) warns on 3.12+.
pytestmark = pytest.mark.filterwarnings("ignore:.*fork\\(\\) may lead to deadlocks:DeprecationWarning")

MODES = ["plain-fork", "recorded-fork", "plain-spawn", "recorded-spawn"]
# Tests whose behaviour does not depend on the start method run with fork only (spawn
# costs ~0.1 s a pool).
fork_only = pytest.mark.parametrize("pool_factory", MODES[:2], indirect=True)


@pytest.fixture(params=MODES)
def pool_factory(request):
    mode, method = request.param.split("-")
    ctx = multiprocessing.get_context(method)
    with plain_or_recorded(mode, ctx.Pool, _pool.RecordedPool, "Pool", terminate) as make:
        make.method = method  # type: ignore[attr-defined]
        yield make


def test_results_keep_their_order(pool_factory):
    pool = pool_factory(2)
    assert pool.map(tasks.square, range(10), chunksize=3) == [x * x for x in range(10)]
    assert list(pool.imap(tasks.square, range(5))) == [0, 1, 4, 9, 16]
    assert pool.starmap(pow, [(2, 3), (3, 2)]) == [8, 9]
    assert pool.map_async(abs, []).get(5) == []
    # imap_unordered follows completion: the short task comes back first (once both
    # workers are up: a spawned one can take a while under load).
    wait_until(lambda: len(set(pool.map(tasks.pid_after, [0.1, 0.1], chunksize=1))) == 2)
    assert list(pool.imap_unordered(tasks.sleep_return, [0.3, 0.05])) == [0.05, 0.3]


def test_an_exception_comes_back_with_type_args_and_remote_traceback(pool_factory):
    pool = pool_factory(2)
    with pytest.raises(tasks.CustomError) as info:
        pool.apply_async(tasks.raise_custom, ("a", 1)).get(5)
    assert info.value.args == ("a", 1)
    cause = info.value.__cause__
    assert isinstance(cause, RemoteTraceback)
    assert "in raise_custom" in str(cause) and "CustomError: ('a', 1)" in str(cause)
    with pytest.raises(ValueError, match="bad item 3") as info:
        pool.map(tasks.fail_on, range(8), chunksize=2)
    assert isinstance(info.value.__cause__, RemoteTraceback)


@fork_only
def test_apply_blocks_and_apply_async_returns_an_async_result(pool_factory):
    pool = pool_factory(2)
    assert pool.apply(tasks.square, (3,)) == 9
    result = pool.apply_async(tasks.slow_square, (4,), {"delay": 0.01})
    assert isinstance(result, multiprocessing.pool.AsyncResult)
    assert result.get(5) == 16 and result.ready() and result.successful()


@fork_only
def test_get_timeout_raises_multiprocessing_timeout_error(pool_factory):
    pool = pool_factory(1)
    result = pool.apply_async(tasks.sleep_return, (0.3,))
    with pytest.raises(multiprocessing.TimeoutError):
        result.get(timeout=0.01)
    with pytest.raises(ValueError, match="not ready"):
        result.successful()
    assert result.wait(0.01) is None
    assert result.get(5) == 0.3


def test_callbacks_run_in_the_result_handler_thread(pool_factory):
    pool = pool_factory(2)
    seen = {}
    done = threading.Event()
    pool.apply_async(tasks.square, (2,), callback=lambda v: seen.__setitem__(
        "ok", (threading.current_thread().name, v)))
    pool.map_async(tasks.fail_on, [3], error_callback=lambda e: (
        seen.__setitem__("error", (threading.current_thread().name, str(e))), done.set()))
    assert done.wait(5)
    pool.close()
    pool.join()
    assert seen["ok"][0].endswith("(_handle_results)") and seen["ok"][1] == 4
    assert seen["error"][0].endswith("(_handle_results)") and seen["error"][1] == "bad item 3"


def test_workers_are_daemon_processes_named_like_the_stdlib(pool_factory):
    pool = pool_factory(2)
    names = set(pool.map(tasks.process_name, range(8), chunksize=1))
    prefix = "Fork" if pool_factory.method == "fork" else "Spawn"
    assert all(re.fullmatch(prefix + r"PoolWorker-\d+", n) for n in names), names
    assert {p.name for p in pool._pool} >= names
    assert len(pool._pool) == 2 and all(p.daemon for p in pool._pool)


def test_a_lambda_cannot_be_sent_to_a_worker(pool_factory):
    pool = pool_factory(1)
    # 3.11/3.12 "Can't pickle local object", 3.13 "Can't get local object".
    with pytest.raises(AttributeError, match="local object 'test_a_lambda_cannot"):
        pool.apply_async(lambda: 1).get(5)
    with pytest.raises(AttributeError, match="local object"):
        pool.map(lambda x: x, [1, 2])
    with pytest.raises(pickle.PicklingError, match="Can't pickle <function <lambda>"):
        pool.apply(MODULE_LAMBDA, (1,))
    assert pool.apply(tasks.square, (5,)) == 25  # the pool goes on working


MODULE_LAMBDA = lambda x: x  # noqa: E731 (the point: a lambda, even at module level)


def test_a_result_that_cannot_be_pickled_is_a_maybe_encoding_error(pool_factory):
    pool = pool_factory(1)
    with pytest.raises(multiprocessing.pool.MaybeEncodingError,
                       match="Error sending result: '<function unpicklable_result"):
        pool.apply_async(tasks.unpicklable_result, (1,)).get(5)
    assert pool.apply(tasks.square, (5,)) == 25


@fork_only
def test_close_stops_submissions_and_join_needs_close(pool_factory):
    check_close_stops_submissions(pool_factory(2))


def test_terminate_kills_a_running_task(pool_factory, tmp_path):
    pool = pool_factory(1)
    path = tmp_path / "pid"
    running = pool.apply_async(tasks.report_pid, (str(path), 30))
    queued = pool.apply_async(tasks.square, (2,))
    wait_until(lambda: path.exists() and path.read_text())
    workers = list(pool._pool)
    pool.terminate()
    pool.join()
    # Killed by SIGTERM, 30 s before its task would have ended.
    assert [w.exitcode for w in workers] == [-signal.SIGTERM]
    assert int(path.read_text()) == workers[0].pid
    assert not running.ready() and not queued.ready()


@fork_only
def test_the_context_manager_terminates(pool_factory):
    with pool_factory(2) as pool:
        result = pool.apply_async(tasks.sleep_return, (30,))
        workers = list(pool._pool)
    assert pool._state == "TERMINATE"
    pool.join()
    assert not result.ready() and all(w.exitcode is not None for w in workers)


def test_initializer_runs_in_each_worker(pool_factory):
    pool = pool_factory(2, initializer=tasks.init, initargs=("ready",))
    assert pool.map(tasks.initialised, range(4), chunksize=1) == ["ready"] * 4


@fork_only
def test_maxtasksperchild_replaces_workers(pool_factory):
    pool = pool_factory(1, maxtasksperchild=2)
    names = [pool.apply(tasks.process_name) for _ in range(4)]
    assert names[0] == names[1] != names[2] == names[3]


@fork_only
def test_an_input_iterable_that_raises(pool_factory):
    pool = pool_factory(2)
    it = pool.imap(abs, broken_input(-1))
    assert next(it) == 1
    with pytest.raises(RuntimeError, match="input broke"):
        next(it)


@fork_only
def test_imap_with_chunks_ends_at_an_exception(pool_factory):
    pool = pool_factory(2)
    it = pool.imap(tasks.fail_on, range(10), chunksize=5)
    with pytest.raises(ValueError, match="bad item 3"):
        next(it)
    with pytest.raises(StopIteration):
        next(it)


@fork_only
def test_a_task_raising_system_exit_ends_its_worker_process(pool_factory):
    pool = pool_factory(1)
    first = pool.apply(tasks.pid_after, (0,))
    result = pool.apply_async(tasks.exit_on, (1,))
    assert result.wait(0.3) is None and not result.ready()  # its result never arrives
    assert pool.apply(tasks.pid_after, (0,)) != first  # a new worker process took over


# Pool.__del__ of a pool whose __init__ raised early reports an AttributeError (stdlib).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@fork_only
def test_constructor_errors_are_the_stdlibs(pool_factory):
    with pytest.raises(ValueError, match="Number of processes must be at least 1"):
        pool_factory(0)
    with pytest.raises(ValueError, match="maxtasksperchild must be a positive int or None"):
        pool_factory(1, maxtasksperchild=0)
    with pytest.raises(TypeError, match="initializer must be a callable"):
        pool_factory(1, initializer=5)


@fork_only
def test_default_size_is_the_cpu_count(pool_factory):
    pool = pool_factory()
    cpus = os.process_cpu_count() if sys.version_info >= (3, 13) else os.cpu_count()
    assert len(pool._pool) == (cpus or 1)


@fork_only
def test_repr_and_pickling_are_the_stdlibs(pool_factory):
    pool = pool_factory(2)
    assert repr(pool) == "<multiprocessing.pool.Pool state=RUN pool_size=2>"
    assert isinstance(pool, Pool)
    with pytest.raises(NotImplementedError, match="cannot be passed between processes"):
        pickle.dumps(pool)

"""One behaviour suite, run against the plain stdlib ThreadPool and the recorded one.

Each test states a fact of ../shared/threadpool-facts.md; the ``pool_factory`` fixture
runs it twice: once with nothing patched, once inside ``poolscope.record()``, where it
also checks that the recording saw the pool and that the trace is consistent.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.dummy
import threading
import time
import warnings
from functools import partial
from multiprocessing.pool import ThreadPool

import proc_tasks as tasks
import pytest
from helpers import (
    broken_input,
    check_close_stops_submissions,
    plain_or_recorded,
    raising_task,
    terminate,
)

from poolscope import _pool


@pytest.fixture(params=["plain", "recorded"])
def pool_factory(request):
    # Two tests make a pool of their own as well: the count of pools is not checked.
    with plain_or_recorded(request.param, ThreadPool, _pool.RecordedPool, "ThreadPool",
                           terminate, every_pool=False) as make:
        yield make


def test_map_returns_results_in_input_order(pool_factory):
    pool = pool_factory(4)
    assert pool.map(tasks.slow_square, [5, 1, 4, 2, 3]) == [25, 1, 16, 4, 9]


def test_imap_keeps_input_order_and_unordered_follows_completion(pool_factory):
    pool = pool_factory(3)
    delays = [0.3, 0.1, 0.2]
    assert list(pool.imap(time.sleep, delays)) == [None] * 3
    order = list(pool.imap_unordered(lambda d: (time.sleep(d), d)[1], delays))
    assert order == [0.1, 0.2, 0.3]


def test_starmap_unpacks_and_map_with_two_arguments_fails(pool_factory):
    pool = pool_factory(2)
    assert pool.starmap(pow, [(2, 3), (3, 2)]) == [8, 9]
    assert pool.starmap_async(pow, [(2, 2)]).get(5) == [4]
    with pytest.raises(TypeError):
        pool.map(pow, [(2, 3)])


def test_apply_blocks_and_apply_async_returns_an_async_result(pool_factory):
    pool = pool_factory(2)
    assert pool.apply(tasks.slow_square, (3,)) == 9
    result = pool.apply_async(tasks.slow_square, (4,), {"delay": 0.01})
    assert isinstance(result, multiprocessing.pool.AsyncResult)
    assert result.get(5) == 16 and result.ready() and result.successful()


def test_the_same_exception_object_is_raised_by_get(pool_factory):
    pool = pool_factory(2)
    raised = []
    with pytest.raises(KeyError) as info:
        pool.apply_async(raising_task(raised)).get(5)
    assert info.value is raised[0]


def test_get_timeout_raises_multiprocessing_timeout_error(pool_factory):
    pool = pool_factory(1)
    result = pool.apply_async(time.sleep, (0.3,))
    with pytest.raises(multiprocessing.TimeoutError):
        result.get(timeout=0.01)
    assert not issubclass(multiprocessing.TimeoutError, TimeoutError)
    with pytest.raises(ValueError, match="not ready"):
        result.successful()
    assert result.wait(0.01) is None
    assert result.get(5) is None


def test_imap_next_timeout_and_stop(pool_factory):
    pool = pool_factory(1)
    it = pool.imap(time.sleep, [0.3])
    with pytest.raises(multiprocessing.TimeoutError):
        it.next(timeout=0.01)
    assert it.next(timeout=5) is None
    with pytest.raises(StopIteration):
        next(it)


def noting(ran, *bad):
    """A task that notes each item it gets in ``ran`` and fails on the ``bad`` ones."""
    def task(x):
        ran.append(x)
        if x in bad:
            raise ValueError(f"bad item {x}")
        return x

    return task


def test_map_raises_first_exception_after_all_chunks(pool_factory):
    pool = pool_factory(2)
    ran = []
    with pytest.raises(ValueError, match="bad item"):
        pool.map(noting(ran, 1, 6), range(8), chunksize=1)
    assert sorted(ran) == list(range(8))


def test_an_exception_skips_the_rest_of_its_chunk(pool_factory):
    pool = pool_factory(2)
    ran = []
    with pytest.raises(ValueError, match="bad item 2"):
        pool.map(noting(ran, 2), range(10), chunksize=5)
    assert sorted(ran) == [0, 1, 2, 5, 6, 7, 8, 9]


def test_imap_with_chunks_ends_at_an_exception(pool_factory):
    pool = pool_factory(2)
    it = pool.imap(partial(tasks.fail_on, bad=2), range(10), chunksize=5)
    with pytest.raises(ValueError, match="bad item 2"):
        next(it)
    with pytest.raises(StopIteration):
        next(it)


def test_imap_without_chunks_raises_in_place_and_continues(pool_factory):
    pool = pool_factory(2)
    it = pool.imap(partial(tasks.fail_on, bad=1), range(3))
    assert next(it) == 0
    with pytest.raises(ValueError, match="bad item 1"):
        next(it)
    assert next(it) == 2


def test_an_input_iterable_that_raises(pool_factory):
    pool = pool_factory(2)
    it = pool.imap(abs, broken_input(1))
    assert next(it) == 1
    with pytest.raises(RuntimeError, match="input broke"):
        next(it)


def test_map_lists_an_iterable_without_len_and_handles_empty(pool_factory):
    pool = pool_factory(2)
    assert pool.map(abs, (x for x in [-1, -2])) == [1, 2]
    assert pool.map(abs, []) == []
    assert pool.map_async(abs, []).get(5) == []


def test_callbacks_run_in_the_result_handler_thread(pool_factory):
    pool = pool_factory(2)
    threads = {}
    done = threading.Event()
    pool.apply_async(abs, (-1,), callback=lambda v: threads.__setitem__("ok", threading.current_thread().name))
    pool.map_async(partial(tasks.fail_on, bad=0), [0], error_callback=lambda e: (
        threads.__setitem__("error", (threading.current_thread().name, str(e))), done.set()))
    assert done.wait(5)
    pool.close()
    pool.join()
    assert threads["ok"].endswith("(_handle_results)")
    assert threads["error"][0].endswith("(_handle_results)")
    assert threads["error"][1] == "bad item 0"


def test_worker_threads_are_daemons_named_like_the_stdlib(pool_factory):
    pool = pool_factory(3)
    names = pool.map(lambda _: threading.current_thread().name, range(30), chunksize=1)
    assert all(n.startswith("Thread-") and n.endswith(" (worker)") for n in names)
    assert all(w.daemon for w in pool._pool) and len(pool._pool) == 3


def test_initializer_runs_once_per_worker(pool_factory):
    calls = []
    pool = pool_factory(3, initializer=calls.append, initargs=("init",))
    pool.map(abs, range(10))
    pool.close()
    pool.join()
    assert calls == ["init"] * 3


def test_close_stops_submissions_and_join_needs_close(pool_factory):
    check_close_stops_submissions(pool_factory(2))


def test_terminate_does_not_stop_a_running_thread(pool_factory):
    pool = pool_factory(1)
    finished = threading.Event()

    def task():
        time.sleep(0.2)
        finished.set()
        return "late"

    running = pool.apply_async(task)
    queued = pool.apply_async(abs, (-1,))
    time.sleep(0.05)
    start = time.monotonic()
    pool.terminate()
    assert time.monotonic() - start < 0.15  # returns long before the task ends
    assert not finished.is_set()
    pool.join()  # waits for the running task
    assert finished.is_set()
    assert not running.ready() and not queued.ready()


def test_the_context_manager_terminates(pool_factory):
    with pool_factory(2) as pool:
        result = pool.apply_async(time.sleep, (0.2,))
        queued = [pool.apply_async(time.sleep, (0.1,)) for _ in range(4)]
    assert pool._state == "TERMINATE"
    pool.join()  # waits for the (at most two) tasks that were running
    assert not result.ready()
    assert not any(r.ready() for r in queued)  # dropped, or run with results discarded


# Pool.__del__ of a pool whose __init__ raised early reports an AttributeError (stdlib).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_constructor_errors_are_the_stdlibs(pool_factory):
    with pytest.raises(ValueError, match="Number of processes must be at least 1"):
        pool_factory(0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'maxtasksperchild'"):
        pool_factory(1, maxtasksperchild=2)


def test_not_callable_task_fails_at_get(pool_factory):
    pool = pool_factory(1)
    result = pool.apply_async(5)
    with pytest.raises(TypeError, match="'int' object is not callable"):
        result.get(5)


def test_chunksize_errors(pool_factory):
    pool = pool_factory(1)
    with pytest.raises(ValueError, match="Chunksize must be 1\\+, not 0"):
        pool.imap(abs, [1], chunksize=0)
    with pytest.raises(ValueError, match="Chunksize must be 1\\+, not -1"):
        pool.imap_unordered(abs, [1], chunksize=-1)


def test_imap_with_chunks_returns_a_generator(pool_factory):
    pool = pool_factory(2)
    it = pool.imap(abs, range(-5, 0), chunksize=2)
    assert not hasattr(it, "next")
    assert list(it) == [5, 4, 3, 2, 1]
    assert hasattr(pool.imap(abs, [1]), "next")


def test_dummy_pool_is_a_thread_pool(pool_factory):
    pool = multiprocessing.dummy.Pool(2)
    try:
        assert isinstance(pool, ThreadPool)
        assert pool.map(abs, [-3]) == [3]
    finally:
        pool.terminate()
        pool.join()


def test_repr_and_resource_warning_are_the_stdlibs(pool_factory):
    pool = pool_factory(2)
    assert repr(pool) == "<multiprocessing.pool.ThreadPool state=RUN pool_size=2>"
    pool2 = ThreadPool(1)  # not kept anywhere: collected while running
    gc.collect()  # earlier tests' garbage (an unclosed socket, say) warns now, not below
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = repr(pool2)
        del pool2
        gc.collect()
    messages = [str(w.message) for w in caught if w.category is ResourceWarning
                and "multiprocessing pool" in str(w.message)]
    assert messages == [f"unclosed running multiprocessing pool {text}"]


def test_pool_is_not_picklable(pool_factory):
    import pickle

    pool = pool_factory(1)
    with pytest.raises(NotImplementedError, match="cannot be passed between processes"):
        pickle.dumps(pool)

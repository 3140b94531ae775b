"""What a recording contains, and the rules of record() blocks."""

from __future__ import annotations

import multiprocessing.dummy
import threading
import time
from functools import partial
from multiprocessing import TimeoutError as PoolTimeoutError
from multiprocessing.pool import ThreadPool

import pytest
from helpers import (
    EVERY_METHOD_COUNTS,
    broken_input,
    call_every_method,
    kinds,
    patched_only_while_recording,
)
from invariants import check_invariants
from proc_tasks import fail_on

import poolscope
from poolscope import _pool, trace as T
from poolscope.recording import active_recordings, recorded_pool


def test_every_item_of_every_call_is_recorded_once():
    with poolscope.record() as trace:
        with ThreadPool(3) as pool:
            call_every_method(pool)
    check_invariants(trace)
    counts = {}
    for t in trace.tasks:
        counts[t.call] = counts.get(t.call, 0) + 1
        assert t.outcome == T.FINISHED and t.worker.endswith("(worker)") and t.caller == "MainThread"
    assert counts == EVERY_METHOD_COUNTS
    assert [t.index for t in trace.tasks if t.call == "map"] == list(range(7))
    assert [t.chunk for t in trace.tasks if t.call == "map_async"] == [0, 0, 1, 1, 2]
    assert [t.call_id for t in trace.tasks] == sorted(t.call_id for t in trace.tasks)


def test_chunk_items_are_timed_one_by_one():
    with poolscope.record() as trace:
        with ThreadPool(1) as pool:
            pool.map(time.sleep, [0.05, 0.1, 0.05], chunksize=3)
    a, b, c = trace.tasks
    assert a.finished == b.started and b.finished == c.started  # one clock read per item
    assert b.duration > a.duration and b.duration > c.duration
    assert {t.lane for t in trace.tasks} == {0} and {t.chunk for t in trace.tasks} == {0}


def test_failed_task_and_the_rest_of_its_chunk():
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            with pytest.raises(ValueError):
                pool.map(partial(fail_on, bad=2), range(10), chunksize=5)
    by_index = {t.index: t for t in trace.tasks}
    assert by_index[2].outcome == T.FAILED and by_index[2].error == "ValueError: bad item 2"
    assert [by_index[i].outcome for i in (3, 4)] == [T.NEVER_STARTED] * 2
    assert {by_index[i].note for i in (3, 4)} == {T.CHUNK_FAILED}
    assert all(by_index[i].outcome == T.FINISHED for i in (0, 1, 5, 6, 7, 8, 9))
    assert [e.status for e in trace.events if e.kind == "map"] == ["raised"]


def test_terminate_mid_run_abandons_running_and_drops_queued():
    release = threading.Event()

    def task(x):
        release.wait(5)
        return x

    with poolscope.record() as trace:
        pool = ThreadPool(2)
        results = [pool.apply_async(task, (i,)) for i in range(5)]
        while trace.count(T.RUNNING) < 2:
            time.sleep(0.005)
        pool.terminate()
        release.set()
        pool.join()  # the running tasks finish; their results are discarded
    assert not any(r.ready() for r in results)
    outcomes = [t.outcome for t in trace.tasks]
    assert outcomes.count(T.ABANDONED) == 2 and outcomes.count(T.NEVER_STARTED) == 3
    terminate = next(e for e in trace.events if e.kind == "terminate")
    for t in trace.tasks:
        if t.outcome == T.ABANDONED:
            assert t.started < terminate.start < t.finished  # its real finish, recorded
        else:
            assert t.note == T.TERMINATED and t.started is None
    assert kinds(trace, pool=0)[:1] == ["created"] and "join" in kinds(trace)


def test_caller_waits_callbacks_and_timeouts_are_events():
    with poolscope.record() as trace:
        with ThreadPool(1) as pool:
            r = pool.apply_async(time.sleep, (0.1,), callback=lambda v: None)
            with pytest.raises(PoolTimeoutError):
                r.get(timeout=0.01)
            r.wait()
            pool.map_async(abs, ["x"], error_callback=lambda e: None).wait()
            time.sleep(0.05)  # let the error callback run
            pool.close()
            pool.join()
    statuses = [(e.kind, e.status) for e in trace.events if e.kind in ("get", "wait")]
    assert statuses == [("get", "timeout"), ("wait", "ok"), ("wait", "ok")]
    callbacks = [e for e in trace.events if e.kind.endswith("callback")]
    assert [e.kind for e in callbacks] == ["callback", "error_callback"]
    assert all(e.thread.endswith("(_handle_results)") for e in callbacks)
    order = kinds(trace)
    assert order.index("close") < order.index("join") < order.index("exit")


def test_with_block_is_recorded_as_exit_then_terminate():
    with poolscope.record() as trace:
        with ThreadPool(1) as pool:
            pool.apply_async(abs, (1,))
        pool.join()
    assert kinds(trace)[-3:] == ["exit", "terminate", "join"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_initializer_and_a_dying_worker():  # the worker's SystemExit is printed, as in the stdlib
    def task(x):
        if x == 1:
            raise SystemExit("bye")
        return x

    with poolscope.record() as trace:
        pool = ThreadPool(1, initializer=time.sleep, initargs=(0.01,))
        r = pool.map_async(task, range(3), chunksize=1)
        assert r.wait(0.5) is None and not r.ready()  # the result of item 1 never arrives
        pool.terminate()
        pool.join()
    ok, died, never = trace.tasks
    assert ok.outcome == T.FINISHED
    assert died.outcome == T.FAILED and died.error == "SystemExit: bye"
    # The worker died; a ThreadPool replaces workers only when its cache changes, so
    # nothing ran item 2 before terminate() dropped it.
    assert died.note == "its worker thread died (BaseException)"
    assert never.outcome == T.NEVER_STARTED and never.note == T.TERMINATED
    assert trace.workers[0].exited is not None
    assert kinds(trace).count("initializer") == 1


def test_input_error_and_imap_length():
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            it = pool.imap(abs, broken_input(0, 1, 2))
            assert [next(it) for _ in range(3)] == [0, 1, 2]
            with pytest.raises(RuntimeError):
                next(it)
    assert [t.index for t in trace.tasks] == [0, 1, 2]
    assert "input error" in kinds(trace)


def test_live_trace_shows_running_tasks_then_freezes():
    release = threading.Event()
    with poolscope.record() as trace:
        assert trace.live
        with ThreadPool(2) as pool:
            r = pool.map_async(release.wait, [5, 5, 5], chunksize=1)
            while trace.count(T.RUNNING) < 2:
                time.sleep(0.005)
            assert trace.count(T.NEVER_STARTED) == 1
            assert trace.tasks[0].finished is None
            release.set()
            r.get(5)
        seen = len(trace.tasks)
    assert not trace.live and seen == 3 == trace.count(T.FINISHED)


def test_pool_created_before_the_block_is_not_recorded():
    pool = ThreadPool(1)
    try:
        with poolscope.record() as trace:
            assert pool.map(abs, [-1]) == [1]
        assert trace.tasks == [] and type(pool) is ThreadPool
    finally:
        pool.terminate()
        pool.join()


def test_pool_used_after_the_block_works_and_the_trace_stays_frozen():
    with poolscope.record() as trace:
        pool = ThreadPool(2)
        pool.map(abs, [1, 2])
    try:
        assert pool.map(abs, [-3, -4]) == [3, 4]
        assert list(pool.imap(abs, [-5])) == [5]
        assert pool.apply_async(abs, (-6,)).get(5) == 6
        assert len(trace.tasks) == 2
        assert pool._poolscope.on is False  # the workers log nothing more
    finally:
        pool.close()
        pool.join()
    assert len(trace.tasks) == 2


def test_nothing_is_patched_outside_a_recording():
    patched_only_while_recording(ThreadPool)
    assert active_recordings() == 0
    pool = ThreadPool(1)
    try:
        assert type(pool) is ThreadPool
    finally:
        pool.terminate()
        pool.join()


def test_nested_recordings_see_the_pools_created_while_they_were_active():
    with poolscope.record() as outer:
        with ThreadPool(1) as p1:
            p1.map(abs, [1])
        with poolscope.record() as inner:
            with ThreadPool(1) as p2:
                p2.map(abs, [1, 2])
    assert len(outer.pools) == 2 and len(outer.tasks) == 3
    assert len(inner.pools) == 1 and len(inner.tasks) == 2
    assert inner.tasks[0].submitted < outer.tasks[1].submitted  # each timed from its start


def test_concurrent_recordings_in_two_threads():
    traces = {}
    barrier = threading.Barrier(2)

    def run(name):
        with poolscope.record() as trace:
            barrier.wait()
            with ThreadPool(2) as pool:
                pool.map(abs, range(4))
            barrier.wait()
        traces[name] = trace

    threads = [threading.Thread(target=run, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Both pools were created while both recordings were active: each sees both.
    assert len(traces["a"].pools) == len(traces["b"].pools) == 2
    assert len(traces["a"].tasks) == 8
    assert active_recordings() == 0


def test_dummy_pool_and_subclasses_are_recorded():
    class MyPool(ThreadPool):
        def __init__(self, n):
            self.note = "mine"
            super().__init__(n)

    with poolscope.record() as trace:
        with multiprocessing.dummy.Pool(1) as p1:
            p1.map(abs, [1])
        with MyPool(1) as p2:
            assert p2.note == "mine" and isinstance(p2, MyPool)
            p2.map(abs, [1])
    assert len(trace.pools) == 2 and len(trace.tasks) == 2


def test_a_subclass_overriding_a_reimplemented_method_is_left_alone():
    class Custom(ThreadPool):
        def map(self, func, iterable, chunksize=None):
            return ["custom"]

    with poolscope.record() as trace:
        with pytest.warns(UserWarning, match="Custom overrides a pool method"):
            pool = Custom(1)
        with pool:
            assert pool.map(abs, [1]) == ["custom"]
    assert trace.tasks == [] and not isinstance(pool, _pool.RecordedPool)


def test_misuse_of_record_gets_clear_errors():
    rec = poolscope.record()
    with pytest.raises(RuntimeError, match="not recording; nothing to stop"):
        rec.stop()
    with rec:
        with pytest.raises(RuntimeError, match="can be started only once"):
            rec.start()
    with pytest.raises(RuntimeError, match="this recording is stopped"):
        with rec:
            pass
    with pytest.raises(TypeError, match="clock must be a callable"):
        poolscope.record(clock=5)
    assert "stopped" in repr(rec)


def test_injected_clock_times_everything():
    ticks = iter(range(0, 10**12, 10**6))  # 1 ms per read, whatever the real time
    lock = threading.Lock()

    def clock():
        with lock:
            return next(ticks)

    with poolscope.record(clock=clock) as trace:
        with ThreadPool(1) as pool:
            pool.map(abs, range(3), chunksize=3)
    times = [(t.started, t.finished) for t in trace.tasks]
    assert all(round(s * 1000, 6) == int(s * 1000 + 0.5) for s, _ in times)
    assert [round(f - s, 6) for s, f in times] == [0.001] * 3


def test_recorded_pool_belongs_to_one_recording_only():
    with poolscope.record() as mine:
        other = poolscope.record()
        other.start()
        try:
            pool = recorded_pool(other, 1)
            with pool:
                pool.map(abs, [1])
        finally:
            other.stop()
    assert len(other.trace.tasks) == 1 and mine.tasks == []
    with pytest.raises(RuntimeError, match="needs a recording that has been started"):
        recorded_pool(poolscope.record(), 1)


def test_summary_of_a_recorded_run():
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            pool.map(time.sleep, [0.05] * 4, chunksize=1)
    s = trace.summary()
    assert s.tasks == s.completed == 4 and s.workers == 2
    assert s.ideal_makespan == pytest.approx(0.1, abs=0.02)
    assert s.makespan >= s.ideal_makespan - 0.01
    assert 0 < s.utilisation <= 1 and s.max_wait >= s.mean_wait >= 0


def test_fast_items_are_grouped_slow_ones_timed_alone():
    def task(x):
        if x == 150:
            time.sleep(0.05)
        return x

    with poolscope.record() as trace:
        with ThreadPool(1) as pool:
            assert pool.map(task, range(300), chunksize=300) == list(range(300))
    check_invariants(trace)
    tasks = trace.tasks
    assert tasks[0].measured  # the first item is always timed alone
    assert sum(not t.measured for t in tasks) > 200  # trivial items: grouped
    slow = max(tasks, key=lambda t: t.duration)
    # A slow item is either timed alone, or its group is no longer than the item.
    assert slow.index == 150 or not slow.measured
    assert tasks[-1].finished == pytest.approx(trace.events[-1].start, abs=0.05)


def test_a_failure_inside_a_group():
    with poolscope.record() as trace:
        with ThreadPool(1) as pool:
            with pytest.raises(ValueError):
                pool.map(partial(fail_on, bad=200), range(300), chunksize=300)
    outcomes = [t.outcome for t in trace.tasks]
    assert outcomes == [T.FINISHED] * 200 + [T.FAILED] + [T.NEVER_STARTED] * 99
    check_invariants(trace)


def test_a_private_recording_sees_only_its_own_pools():
    rec = poolscope.Recording(private=True)
    rec.start()
    try:
        init = ThreadPool.__init__
        with ThreadPool(1) as other:  # made meanwhile, elsewhere: not recorded
            other.map(abs, [1])
        assert type(other) is ThreadPool and ThreadPool.__init__ is init
        with recorded_pool(rec, 1) as mine:
            mine.map(abs, [1, 2])
    finally:
        rec.stop()
    assert len(rec.trace.pools) == 1 and len(rec.trace.tasks) == 2

"""What a recording of a ThreadPoolExecutor contains, and the rules of record() blocks."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from multiprocessing.pool import ThreadPool

import pytest
from helpers import kinds, patched_only_while_recording, wait_until
from invariants import check_invariants
from proc_tasks import fail_every_hundredth

import poolscope
from poolscope import Trace, _executor, trace as T


def test_every_submit_and_map_item_is_recorded_once():
    with poolscope.record() as trace:
        with ThreadPoolExecutor(3) as ex:
            futures = [ex.submit(abs, -x) for x in range(4)]
            assert list(ex.map(abs, range(-5, 0))) == [5, 4, 3, 2, 1]
            assert list(ex.map(pow, [2, 3], [2, 2])) == [4, 9]
            wait(futures)
    check_invariants(trace)
    assert Counter(t.call for t in trace.tasks) == {"submit": 4, "map": 7}
    assert [t.index for t in trace.tasks if t.call == "submit"] == [0] * 4
    assert [t.index for t in trace.tasks if t.call == "map"] == [0, 1, 2, 3, 4, 0, 1]
    assert [t.call_id for t in trace.tasks] == [0, 1, 2, 3] + [4] * 5 + [5] * 2
    assert all(t.outcome == T.FINISHED and t.caller == "MainThread" and t.chunk is None
               for t in trace.tasks)
    names = {w.lane: w.name for w in trace.workers}
    assert {t.worker for t in trace.tasks} <= set(names.values())
    assert all(names[t.lane] == t.worker for t in trace.tasks)
    prefix = names[0].rsplit("_", 1)[0]
    assert prefix.startswith("ThreadPoolExecutor-")
    assert names == {n: f"{prefix}_{n}" for n in range(len(names))}  # lane = thread number
    assert trace.pools[0].kind == "ThreadPoolExecutor" and trace.pools[0].size == 3
    submits = [e for e in trace.events if e.kind in ("submit", "map")]
    assert [e.kind for e in submits] == ["submit"] * 4 + ["map"] * 2
    assert all(e.start == e.end and e.status == "ok" for e in submits)  # instants


def test_threads_are_lanes_started_lazily():
    release = threading.Event()
    with poolscope.record() as trace:
        with ThreadPoolExecutor(4) as ex:
            first = ex.submit(release.wait, 5)
            wait_until(lambda: trace.count(T.RUNNING) == 1)
            assert len(trace.workers) == 1  # one thread so far
            second = ex.submit(release.wait, 5)
            wait_until(lambda: trace.count(T.RUNNING) == 2)
            release.set()
            wait([first, second])
    check_invariants(trace)
    a, b = trace.tasks
    assert (a.lane, b.lane) == (0, 1) and len(trace.workers) == 2
    w0, w1 = trace.workers
    assert w0.started <= a.started and a.submitted <= w0.started  # started by the submit
    assert b.submitted <= w1.started <= b.started
    assert w0.exited is not None and w1.exited is not None  # the with block joined them


def test_ten_thousand_submits_one_percent_failing():
    with poolscope.record() as trace:
        with ThreadPoolExecutor(8) as ex:
            futures = [ex.submit(fail_every_hundredth, x) for x in range(10_000)]
            items = ex.map(fail_every_hundredth, range(1000))
            ex.shutdown(wait=True)  # every task has run: none is left to cancel
            with pytest.raises(ValueError, match="item 0"):
                next(items)
    tasks = trace.tasks
    assert len(tasks) == 11_000
    check_invariants(trace)
    submits = [t for t in tasks if t.call == "submit"]
    assert Counter(t.outcome for t in submits) == {T.FINISHED: 9_900, T.FAILED: 100}
    assert len({t.call_id for t in submits}) == 10_000
    failed = sorted(t.call_id for t in submits if t.outcome == T.FAILED)
    assert failed == list(range(0, 10_000, 100))  # call_id = submission order = x
    assert all(t.error == f"ValueError: item {t.call_id}" for t in submits if t.error)
    mapped = [t for t in tasks if t.call == "map"]
    assert [t.index for t in mapped] == list(range(1000))
    assert {t.error for t in mapped if t.outcome == T.FAILED} == {
        f"ValueError: item {x}" for x in range(0, 1000, 100)}
    assert {t.lane for t in tasks} <= set(range(8))
    assert [f.exception() is not None for f in futures] == [x % 100 == 0 for x in range(10_000)]


def test_cancelled_tasks_say_by_what():
    release = threading.Event()
    with poolscope.record() as trace:
        ex = ThreadPoolExecutor(1)
        running = ex.submit(release.wait, 5)
        wait_until(running.running)
        by_cancel = ex.submit(abs, -1)
        assert by_cancel.cancel()
        by_cancel.cancel()  # again: logged once
        items = ex.map(abs, [-1, -2, -3], timeout=0.01)
        with pytest.raises(TimeoutError):  # the map iterator ends early: its futures
            next(items)                    # are cancelled
        queued = [ex.submit(abs, -x) for x in range(3)]
        stopper = threading.Thread(target=ex.shutdown, kwargs={"cancel_futures": True},
                                   name="stopper")
        stopper.start()
        wait_until(lambda: all(f.cancelled() for f in queued))
        release.set()
        stopper.join(5)
    check_invariants(trace)
    got = [(t.call, t.outcome, t.note) for t in trace.tasks]
    assert got == [
        ("submit", T.FINISHED, None),
        ("submit", T.NEVER_STARTED, T.CANCELLED),
        ("map", T.NEVER_STARTED, T.CANCELLED_BY_MAP),
        ("map", T.NEVER_STARTED, T.CANCELLED_BY_MAP),
        ("map", T.NEVER_STARTED, T.CANCELLED_BY_MAP),
    ] + [("submit", T.NEVER_STARTED, T.CANCELLED_BY_SHUTDOWN)] * 3
    assert all(f.cancelled() for f in queued)
    cancels = [e for e in trace.events if e.kind == "cancel"]
    assert len(cancels) == 1 + 3 + 3 and all(e.status == "ok" for e in cancels)
    shutdown = next(e for e in trace.events if e.kind == "shutdown")
    assert shutdown.thread == "stopper"
    assert all(shutdown.start <= e.start <= shutdown.end and e.thread == "stopper"
               for e in cancels[-3:])
    assert shutdown.end >= trace.tasks[0].finished  # it waited for the running task


def test_still_queued_tasks_at_the_end_of_the_recording():
    release = threading.Event()
    ex = None
    try:
        with poolscope.record() as trace:
            ex = ThreadPoolExecutor(1)
            ex.submit(release.wait, 5)
            ex.submit(abs, -1)
            wait_until(lambda: trace.count(T.RUNNING) == 1)
    finally:
        release.set()
        if ex is not None:
            ex.shutdown()
    assert [(t.outcome, t.note) for t in trace.tasks] == [
        (T.RUNNING, None), (T.NEVER_STARTED, T.QUEUED)]


def test_waits_callbacks_shutdown_and_exit_are_events():
    threads = []
    with poolscope.record() as trace:
        with ThreadPoolExecutor(1) as ex:
            f = ex.submit(time.sleep, 0.1)
            f.add_done_callback(lambda fut: threads.append(threading.current_thread().name))
            with pytest.raises(TimeoutError):
                f.result(timeout=0.01)
            f.result()
            bad = ex.submit(int, "x")
            assert isinstance(bad.exception(), ValueError)
            with pytest.raises(ValueError):
                bad.result()
            bad.add_done_callback(lambda fut: None)  # done already: runs at once, here
    statuses = [(e.kind, e.status) for e in trace.events if e.kind in ("result", "exception")]
    assert statuses == [("result", "timeout"), ("result", "ok"), ("exception", "ok"),
                        ("result", "raised")]
    callbacks = [e for e in trace.events if e.kind == "callback"]
    assert [e.thread for e in callbacks] == [threads[0], "MainThread"]
    assert threads[0].startswith("ThreadPoolExecutor-") and callbacks[0].call_id == 0
    order = kinds(trace)
    assert order[-2:] == ["exit", "shutdown"]  # exit calls shutdown(wait=True)
    exit_, shutdown = [e for e in trace.events if e.kind in ("exit", "shutdown")]
    assert exit_.start <= shutdown.start <= shutdown.end <= exit_.end
    assert shutdown.status == exit_.status == "ok"


def test_a_failing_initializer_and_the_tasks_it_dropped(caplog):
    def init():
        time.sleep(0.05)  # so that the second task is still queued when it fails
        raise RuntimeError("init failed")

    with poolscope.record() as trace:
        with ThreadPoolExecutor(1, initializer=init) as ex:
            futures = [ex.submit(abs, -x) for x in range(2)]
            wait(futures)
    assert [(t.outcome, t.note) for t in trace.tasks] == [(T.NEVER_STARTED, T.BROKEN)] * 2
    worker = trace.workers[0]
    assert worker.init_error == "RuntimeError: init failed"
    assert worker.init_started < worker.init_finished
    assert kinds(trace).count("initializer") == 1


def test_an_executor_created_before_the_block_is_not_recorded():
    with ThreadPoolExecutor(1) as ex:
        with poolscope.record() as trace:
            assert ex.submit(abs, -1).result() == 1
        assert trace.tasks == [] and type(ex) is ThreadPoolExecutor


def test_an_executor_used_after_the_block_works_unrecorded():
    with poolscope.record() as trace:
        ex = ThreadPoolExecutor(2)
        ex.submit(abs, -1).result()
    try:
        assert ex.submit(abs, -2).result(5) == 2
        assert list(ex.map(abs, [-3, -4])) == [3, 4]
        f = ex.submit(abs, -5)
        f.add_done_callback(lambda fut: None)
        assert f.result(5) == 5 and not f.cancel()
    finally:
        ex.shutdown()
    assert len(trace.tasks) == 1 and ex._poolscope.on is False


def test_nothing_is_patched_outside_a_recording():
    patched_only_while_recording(ThreadPoolExecutor)
    with ThreadPoolExecutor(1) as ex:
        assert type(ex) is ThreadPoolExecutor
        assert type(ex.submit(abs, 1)).__module__ == "concurrent.futures._base"


def test_nested_recordings_and_mixed_pools():
    with poolscope.record() as outer:
        with ThreadPool(1) as pool:
            pool.map(abs, [1])
        with poolscope.record() as inner:
            with ThreadPoolExecutor(1) as ex:
                ex.submit(abs, 1).result()
    assert [p.kind for p in outer.pools] == ["ThreadPool", "ThreadPoolExecutor"]
    assert [t.call for t in outer.tasks] == ["map", "submit"]
    assert [t.call_id for t in outer.tasks] == [0, 1]  # one numbering across pool kinds
    assert [t.call for t in inner.tasks] == ["submit"] and len(inner.pools) == 1


def test_subclasses_are_recorded_unless_they_override_a_reimplemented_method():
    class Mine(ThreadPoolExecutor):
        def __init__(self):
            self.note = "mine"
            super().__init__(1)

    class Custom(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            return super().submit(fn, *args, **kwargs)

    with poolscope.record() as trace:
        with Mine() as mine:
            assert mine.note == "mine" and mine.submit(abs, -1).result() == 1
        with pytest.warns(UserWarning, match="Custom overrides an executor method"):
            custom = Custom(1)
        with custom:
            custom.submit(abs, 1).result()
    assert isinstance(mine, _executor.RecordedExecutor)
    assert not isinstance(custom, _executor.RecordedExecutor)
    assert len(trace.pools) == 1 and len(trace.tasks) == 1


def test_renderers_and_json_handle_an_executor_trace():
    with poolscope.record() as trace:
        with ThreadPoolExecutor(2) as ex:
            futures = [ex.submit(time.sleep, 0.2) for _ in range(2)]
            assert ex.submit(abs, 1).cancel()  # queued behind them: cancelled
            futures[0].result()
    text = trace.text()
    lines = text.splitlines()
    # One char per 0.1 s, showing the call number: two 0.2 s tasks side by side.
    assert re.fullmatch(r"worker 0  00+", lines[2]) and re.fullmatch(r"worker 1  11+", lines[3])
    assert lines[4].startswith("caller    ==")  # blocked in result(), then shutdown()
    assert lines[5].startswith("pool") and lines[5].endswith("S")
    assert "never started: call 2 (submit) item 0 (cancelled by future.cancel())" in text
    assert "S shutdown()" in text
    doc = trace.to_chrome_trace()
    names = [e["args"]["name"] for e in doc["traceEvents"] if e["name"] == "process_name"]
    assert names == ["ThreadPoolExecutor 0 (2 workers)"]
    loaded = Trace.from_json(trace.to_json())
    assert loaded.data() == trace.data()
    assert json.loads(trace.to_json())["version"] == 2
    assert trace.summary().completed == 2

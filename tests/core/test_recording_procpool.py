"""What a recording of a process Pool contains (fork and spawn), and the rules of
record() blocks for it. Task functions live in proc_tasks.py (spawn imports them)."""

from __future__ import annotations

import json
import multiprocessing
import re
import signal
import time
from collections import Counter
from multiprocessing.pool import Pool, ThreadPool

import proc_tasks as tasks
import pytest
from helpers import (
    EVERY_METHOD_COUNTS,
    broken_input,
    call_every_method,
    chunk_outcomes,
    kinds,
    patched_only_while_recording,
    wait_until,
)
from invariants import check_invariants

import poolscope
from poolscope import Trace, _pool, trace as T
from poolscope._build import PROCESS_DIED

pytestmark = pytest.mark.filterwarnings("ignore:.*fork\\(\\) may lead to deadlocks:DeprecationWarning")

fork = multiprocessing.get_context("fork")
spawn = multiprocessing.get_context("spawn")


@pytest.mark.parametrize("ctx", [fork, spawn], ids=["fork", "spawn"])
def test_every_item_of_every_call_is_recorded_once_on_one_clock(ctx):
    with poolscope.record() as trace:
        with ctx.Pool(2) as pool:
            call_every_method(pool)
            pool.close()
            pool.join()
    check_invariants(trace)
    counts = Counter(t.call for t in trace.tasks)
    assert counts == EVERY_METHOD_COUNTS
    assert all(t.outcome == T.FINISHED for t in trace.tasks)
    assert [t.chunk for t in trace.tasks if t.call == "map_async"] == [0, 0, 1, 1, 2]
    prefix = "Fork" if ctx is fork else "Spawn"
    names = {w.lane: w.name for w in trace.workers}
    assert sorted(names) == [0, 1]
    assert all(re.fullmatch(prefix + r"PoolWorker-\d+", n) for n in names.values())
    assert all(names[t.lane] == t.worker for t in trace.tasks)
    assert trace.pools[0].kind == "Pool" and trace.pools[0].size == 2
    # Worker processes read the same clock as the parent: every task ran between its
    # submission and the end of the call that waited for it, after its worker started.
    waits = {e.call_id: e for e in trace.events if e.kind in ("apply", "map", "starmap")}
    created = trace.pools[0].created
    for t in trace.tasks:
        worker = trace.workers[t.lane]
        assert created <= worker.started <= t.started
        if t.call_id in waits:
            assert t.finished <= waits[t.call_id].end
    assert all(w.exited is not None for w in trace.workers)  # close + join: they ended


def test_thousands_of_items_with_chunks_and_failures():
    with poolscope.record() as trace:
        with fork.Pool(2) as pool:
            r1 = pool.map_async(tasks.fail_every_hundredth, range(3000), chunksize=7)
            r2 = pool.starmap_async(tasks.star_fail_every_hundredth,
                                    [(x,) for x in range(1000)], chunksize=50)
            r3 = [pool.apply_async(tasks.fail_every_hundredth, (x,)) for x in range(300)]
            got = []
            it = pool.imap(tasks.fail_every_hundredth, range(1000))
            for _ in range(1000):
                try:
                    got.append(next(it))
                except ValueError:
                    pass
            for r in [r1, r2, *r3]:
                r.wait(30)
    tasks_ = trace.tasks
    assert len(tasks_) == 3000 + 1000 + 300 + 1000
    check_invariants(trace)
    by_call = {call: Counter(t.outcome for t in tasks_ if t.call == call)
               for call in ("map_async", "starmap_async", "imap")}
    assert by_call["map_async"] == chunk_outcomes(3000, 7)
    assert by_call["starmap_async"] == chunk_outcomes(1000, 50)
    assert by_call["imap"] == chunk_outcomes(1000, 1)
    applies = [t for t in tasks_ if t.call == "apply_async"]
    assert Counter(t.outcome for t in applies) == chunk_outcomes(300, 1)
    failed = [t for t in tasks_ if t.outcome == T.FAILED and t.call != "apply_async"]
    assert all(t.error == f"ValueError: item {t.index}" for t in failed)
    skipped = [t for t in tasks_ if t.outcome == T.NEVER_STARTED]
    assert {t.note for t in skipped} == {T.CHUNK_FAILED}
    assert {t.lane for t in tasks_ if t.lane is not None} == {0, 1}
    assert len(got) == 990


def test_terminate_kills_the_running_and_drops_the_queued(tmp_path):
    with poolscope.record() as trace:
        pool = fork.Pool(2)
        running = [pool.apply_async(tasks.report_pid, (str(tmp_path / f"{n}"), 30))
                   for n in range(2)]
        queued = [pool.apply_async(tasks.square, (n,)) for n in range(3)]
        wait_until(lambda: trace.count(T.RUNNING) == 2)
        workers = list(pool._pool)
        pool.terminate()
        pool.join()
    assert [w.exitcode for w in workers] == [-signal.SIGTERM] * 2
    assert not any(r.ready() for r in running + queued)
    check_invariants(trace)
    terminate = next(e for e in trace.events if e.kind == "terminate")
    outcomes = [(t.outcome, t.note) for t in trace.tasks]
    assert outcomes == [(T.KILLED, None)] * 2 + [(T.NEVER_STARTED, T.TERMINATED)] * 3
    for t in trace.tasks[:2]:
        assert t.started < terminate.start and t.finished == terminate.end
    assert all(w.exited is None for w in trace.workers)  # killed: no exit recorded
    text = trace.text()
    assert "K killed by terminate()" in text and "killed: call 0 (apply_async) item 0" in text


def test_a_killed_chunk():
    with poolscope.record() as trace:
        with fork.Pool(1) as pool:
            pool.map_async(tasks.sleep_return, [30] * 4, chunksize=2)
            wait_until(lambda: trace.count(T.RUNNING) == 1)
    got = [(t.index, t.outcome, t.note, t.started is None) for t in trace.tasks]
    assert got == [(0, T.KILLED, None, False),  # the chunk's start: shown on item 0
                   (1, T.KILLED, T.KILLED_WITH_CHUNK, True),
                   (2, T.NEVER_STARTED, T.TERMINATED, True),
                   (3, T.NEVER_STARTED, T.TERMINATED, True)]
    assert kinds(trace)[-2:] == ["exit", "terminate"]
    check_invariants(trace)


def test_tasks_that_cannot_be_pickled_either_way():
    with poolscope.record() as trace:
        with fork.Pool(1) as pool:
            with pytest.raises(AttributeError):
                pool.apply_async(lambda: 1).get(5)
            with pytest.raises(AttributeError):
                pool.map(lambda x: x, range(5), chunksize=2)
            with pytest.raises(multiprocessing.pool.MaybeEncodingError):
                pool.apply(tasks.unpicklable_result, (1,))
    check_invariants(trace)
    unsent = trace.tasks[:6]
    assert all(t.outcome == T.FAILED and t.started is None and t.note == T.NOT_SENT
               for t in unsent)
    assert all(re.match(r"AttributeError: Can't (pickle|get) local object", t.error)
               for t in unsent)
    assert [t.chunk for t in unsent] == [None, 0, 0, 1, 1, 2]
    back = trace.tasks[6]
    assert back.outcome == T.FAILED and back.started is not None
    assert back.error.startswith("MaybeEncodingError: Error sending result")
    assert back.note == T.RESULT_NOT_SENT


def test_a_worker_process_that_dies_is_replaced():
    with poolscope.record() as trace:
        with fork.Pool(1) as pool:
            result = pool.map_async(tasks.exit_on, [0, 1, 2], chunksize=1)
            wait_until(lambda: trace.count(T.FINISHED) == 2)
            assert not result.ready()  # item 1's result never arrives
    ok, died, after = trace.tasks
    assert died.outcome == T.FAILED and died.error == "SystemExit: bye"
    assert died.note == PROCESS_DIED
    assert (ok.lane, died.lane, after.lane) == (0, 0, 1)  # a new process, a new lane
    assert trace.workers[0].name != trace.workers[1].name
    check_invariants(trace)


def test_initializers_and_worker_lifetimes():
    with poolscope.record() as trace:
        with fork.Pool(2, initializer=tasks.init, initargs=(1,), maxtasksperchild=2) as pool:
            assert [pool.apply(tasks.initialised) for _ in range(6)] == [1] * 6
            pool.close()
            pool.join()
    per_lane = Counter(t.lane for t in trace.tasks)
    assert max(per_lane.values()) <= 2 and len(trace.workers) >= 3
    assert kinds(trace).count("initializer") == len(trace.workers)
    for w in trace.workers:
        assert w.started <= w.init_started <= w.init_finished <= w.exited
        assert w.init_error is None
    check_invariants(trace)


def test_a_failing_initializer_is_recorded(capfd):
    err = []
    with poolscope.record() as trace:
        with fork.Pool(1, initializer=tasks.fail_init) as pool:
            wait_until(lambda: any(w.init_error for w in trace.workers))
            # The worker still dies as in the stdlib, printing its traceback.
            wait_until(lambda: err.append(capfd.readouterr().err) or
                       "RuntimeError: init failed" in "".join(err))
            assert pool._state == "RUN"
    assert trace.workers[0].init_error == "RuntimeError: init failed"


def test_an_input_iterable_that_raises():
    with poolscope.record() as trace:
        with fork.Pool(2) as pool:
            it = pool.imap(abs, broken_input(0, 1, 2))
            assert [next(it) for _ in range(3)] == [0, 1, 2]
            with pytest.raises(RuntimeError):
                next(it)
    assert [t.index for t in trace.tasks] == [0, 1, 2]
    error = next(e for e in trace.events if e.kind == "input error")
    assert error.thread.endswith("(_handle_tasks)") and error.status == "raised"


def test_every_way_to_make_a_process_pool_is_recorded_and_thread_pools_once():
    with poolscope.record() as trace:
        with multiprocessing.Pool(1) as p1:
            p1.apply(abs, (1,))
        with fork.Pool(1) as p2:
            p2.apply(abs, (1,))
        with Pool(1, context=fork) as p3:
            p3.apply(abs, (1,))
        with ThreadPool(1) as p4:  # ThreadPool.__init__ calls the patched Pool.__init__
            p4.apply(abs, (1,))
    assert [p.kind for p in trace.pools] == ["Pool", "Pool", "Pool", "ThreadPool"]
    assert len(trace.tasks) == 4 and [t.call_id for t in trace.tasks] == [0, 1, 2, 3]
    assert isinstance(p4, _pool.RecordedPool) and p4.__class__.__name__ == "RecordedThreadPool"


def test_a_pool_from_before_the_block_and_after_it():
    with fork.Pool(1) as before:
        with poolscope.record() as trace:
            assert before.apply(abs, (-1,)) == 1
            during = fork.Pool(1)
            during.apply(abs, (-2,))
        assert type(before) is Pool and len(trace.tasks) == 1
    try:
        assert during.map(abs, [-3, -4]) == [3, 4]  # unrecorded, still working
        assert during.apply_async(tasks.fail_on, (3,)).wait(5) is None
    finally:
        during.terminate()
        during.join()
    assert len(trace.tasks) == 1 and during._poolscope.on is False


def test_nothing_is_patched_outside_a_recording():
    patched_only_while_recording(Pool)
    with fork.Pool(1) as pool:
        assert type(pool) is Pool and pool._quick_put == pool._inqueue._writer.send


def test_a_custom_clock_or_an_overriding_subclass_is_not_recorded():
    class Custom(Pool):
        def map(self, func, iterable, chunksize=None):
            return ["custom"]

    with poolscope.record(clock=time.monotonic_ns) as ok:  # the default clock, passed
        with fork.Pool(1) as pool:
            pool.apply(abs, (1,))
    assert len(ok.tasks) == 1
    with poolscope.record(clock=lambda: time.monotonic_ns() + 1) as trace:
        with pytest.warns(UserWarning, match="only with the default clock"):
            pool = fork.Pool(1)
        with pool:
            assert pool.apply(abs, (-1,)) == 1
        with pytest.warns(UserWarning, match="Custom overrides a pool method"):
            custom = Custom(1, context=fork)
        with custom:
            assert custom.map(abs, [1]) == ["custom"]
    assert trace.tasks == [] and not isinstance(pool, _pool.RecordedPool)


def test_renderers_summary_and_json_of_a_process_pool_trace():
    with poolscope.record() as trace:
        with fork.Pool(2) as pool:
            pool.map(tasks.sleep_return, [0.2] * 4, chunksize=1)
            pool.apply_async(tasks.sleep_return, (30,))
            wait_until(lambda: trace.count(T.RUNNING) == 1)
    lines = trace.text().splitlines()
    rows = [line[len("worker 0  "):] for line in lines[2:4]]
    assert [line[:len("worker 0")] for line in lines[2:4]] == ["worker 0", "worker 1"]
    # Four 0.2 s tasks, two per process, then the killed one (K) on one of them.
    assert all(re.fullmatch(r" ?(0+2+|1+3+)K*", row) for row in rows), rows
    assert sum(row.count("K") > 0 for row in rows) == 1
    doc = trace.to_chrome_trace()
    names = [e["args"]["name"] for e in doc["traceEvents"] if e["name"] == "process_name"]
    assert names == ["Pool 0 (2 workers)"]
    loaded = Trace.from_json(trace.to_json())
    assert loaded.data() == trace.data() and loaded.count(T.KILLED) == 1
    assert json.loads(trace.to_json())["version"] == 2
    s = trace.summary()
    assert s.tasks == 5 and s.completed == 4 and s.workers == 2
    ax = trace.plot()
    from poolscope.render.mpl import close

    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "killed by terminate()" in legend
    close(ax)


def test_nested_recordings_both_see_a_process_pool():
    with poolscope.record() as outer:
        with poolscope.record() as inner:
            with fork.Pool(1) as pool:
                pool.map(abs, range(3))
        with fork.Pool(1) as later:
            later.apply(abs, (1,))
    assert [len(outer.tasks), len(inner.tasks)] == [4, 3]
    assert [t.index for t in inner.tasks] == [0, 1, 2]
    assert inner.tasks[0].started - inner.tasks[0].submitted == pytest.approx(
        outer.tasks[0].started - outer.tasks[0].submitted)  # one clock, two origins


def test_chunk_items_are_timed_one_by_one_in_the_worker_process():
    with poolscope.record() as trace:
        with fork.Pool(1) as pool:
            assert pool.map(tasks.sleep_return, [0.05, 0.15, 0.05], chunksize=3) == [
                0.05, 0.15, 0.05]
    a, b, c = trace.tasks
    assert a.finished == b.started and b.finished == c.started  # one clock read per item
    assert b.duration > a.duration and b.duration > c.duration
    assert {t.chunk for t in trace.tasks} == {0} and all(t.measured for t in trace.tasks)

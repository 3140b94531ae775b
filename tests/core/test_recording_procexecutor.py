"""What a recording of a ProcessPoolExecutor contains (fork and spawn), and the shared
``map`` of the recorded executors (3.14's ``buffersize``, both sides of the version line).
Task functions live in proc_tasks.py (spawn imports them)."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import re
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import proc_tasks as tasks
import pytest
from helpers import patched_only_while_recording, wait_until
from invariants import check_invariants

import poolscope
from poolscope import Trace, _executor, _procexecutor
from poolscope import trace as T

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*fork\\(\\) may lead to deadlocks:DeprecationWarning")

fork = multiprocessing.get_context("fork")
spawn = multiprocessing.get_context("spawn")


@pytest.mark.parametrize("ctx", [fork, spawn], ids=["fork", "spawn"])
def test_every_task_is_recorded_once_with_its_outcome(ctx):
    with poolscope.record() as trace:
        with ProcessPoolExecutor(2, mp_context=ctx) as ex:
            assert [ex.submit(tasks.square, i).result(30) for i in range(3)] == [0, 1, 4]
            assert list(ex.map(tasks.square, range(4))) == [0, 1, 4, 9]
            results = ex.map(tasks.fail_on, range(7), chunksize=3)
            assert list(itertools.islice(results, 3)) == [0, 1, 2]
            with pytest.raises(ValueError, match="bad item 3"):
                next(results)
    check_invariants(trace)
    assert Counter(t.call for t in trace.tasks) == {"submit": 3, "map": 4 + 7}
    assert [t.call_id for t in trace.tasks] == [0, 1, 2] + [3] * 4 + [4] * 7
    chunked = [t for t in trace.tasks if t.call_id == 4]
    assert [t.chunk for t in chunked] == [0, 0, 0, 1, 1, 1, 2]
    assert [t.outcome for t in chunked] == [T.FINISHED] * 3 + [T.FAILED] + (
        [T.NEVER_STARTED] * 2) + [T.FINISHED]
    assert chunked[3].error == "ValueError: bad item 3"
    assert chunked[4].note == T.CHUNK_FAILED
    assert all(t.outcome == T.FINISHED for t in trace.tasks if t.call_id < 4)
    assert [t.chunk for t in trace.tasks if t.call_id == 3] == [None] * 4
    # One lane per worker process, named as the stdlib names it.
    prefix = "Fork" if ctx is fork else "Spawn"
    names = {w.lane: w.name for w in trace.workers}
    assert set(names) <= {0, 1} and all(
        re.fullmatch(prefix + r"Process-\d+", n) for n in names.values())
    assert all(names[t.lane] == t.worker for t in trace.tasks if t.lane is not None)
    assert all(w.exited is not None for w in trace.workers)  # read after the loop ended
    info = trace.pools[0]
    assert (info.kind, info.size, info.process) == ("ProcessPoolExecutor", 2, True)
    # Facts, not kind names: an executor's map only submits; result() waits.
    maps = [e for e in trace.events if e.kind == "map"]
    assert maps and not any(e.blocking for e in maps)
    assert all(e.blocking for e in trace.events if e.kind == "result")
    # Worker processes read the parent's clock: each task ran after it was submitted.
    for t in trace.tasks:
        if t.started is not None:
            assert t.submitted <= t.started <= t.finished <= trace.duration


def test_each_worker_process_gets_its_own_lane():
    with poolscope.record() as trace:
        with ProcessPoolExecutor(1, mp_context=spawn, max_tasks_per_child=1) as ex:
            pids = [ex.submit(tasks.pid_and_value, i).result(30)[0] for i in range(3)]
    check_invariants(trace)
    assert len(set(pids)) == 3
    # A process that ran its one task exits and another replaces it (also after the
    # last task): one lane each, named apart.
    assert [t.lane for t in trace.tasks] == [0, 1, 2]
    assert [w.lane for w in trace.workers][:3] == [0, 1, 2] and len(trace.workers) <= 4
    assert len({w.name for w in trace.workers}) == len(trace.workers)


def test_cancellations_and_shutdown_say_who_cancelled():
    with poolscope.record() as trace:
        ex = ProcessPoolExecutor(1, mp_context=fork)
        first = ex.submit(tasks.sleep_return, 0.8)  # still running at shutdown()
        rest = [ex.submit(abs, -i) for i in range(1, 6)]
        wait_until(first.running)
        assert rest[-1].cancel()
        ex.shutdown(wait=True, cancel_futures=True)
    check_invariants(trace)
    notes = [t.note for t in trace.tasks if t.outcome == T.NEVER_STARTED]
    assert notes[-1] == T.CANCELLED
    assert set(notes[:-1]) <= {T.CANCELLED_BY_SHUTDOWN} and len(notes) >= 2
    assert sum(t.outcome == T.FINISHED for t in trace.tasks) == 6 - len(notes)
    assert [e.kind for e in trace.events if e.kind == "shutdown"] == ["shutdown"]


def test_pickling_failures_are_recorded_as_failed():
    with poolscope.record() as trace:
        with ProcessPoolExecutor(1, mp_context=fork) as ex:
            unpicklable = lambda: 1  # noqa: E731
            assert ex.submit(unpicklable).exception(10) is not None
            assert ex.submit(tasks.unpicklable_result, 1).exception(10) is not None
            assert ex.submit(abs, -1).result(10) == 1
    check_invariants(trace)
    sent, returned, fine = trace.tasks
    assert (sent.outcome, sent.note, sent.started) == (T.FAILED, T.NOT_SENT, None)
    assert (returned.outcome, returned.note) == (T.FAILED, T.RESULT_NOT_SENT)
    assert fine.outcome == T.FINISHED


def test_an_initializer_is_recorded_per_worker_and_a_failing_one_breaks_the_pool():
    with poolscope.record() as trace:
        with ProcessPoolExecutor(2, mp_context=fork, initializer=tasks.init,
                                 initargs=(3,)) as ex:
            assert list(ex.map(tasks.initialised, range(2))) == [3, 3]
    assert all(w.init_started is not None and w.init_error is None for w in trace.workers)
    assert sum(e.kind == "initializer" for e in trace.events) == len(trace.workers)
    with poolscope.record() as broken:
        ex = ProcessPoolExecutor(1, mp_context=fork, initializer=tasks.fail_init_value)
        future = ex.submit(abs, 1)
        assert future.exception(10) is not None
        ex.shutdown()
    assert broken.workers[0].init_error == "ValueError: init failed"
    assert broken.tasks[0].outcome == T.NEVER_STARTED
    assert broken.tasks[0].note == T.BROKEN


def test_recording_rules_hold_for_process_executors():
    patched_only_while_recording(ProcessPoolExecutor)
    before = ProcessPoolExecutor(1, mp_context=fork)
    with poolscope.record() as trace:
        assert before.submit(abs, -1).result(10) == 1  # made before: not recorded
        inside = ProcessPoolExecutor(1, mp_context=fork)
        inside.submit(abs, -2).result(10)
    assert len(trace.pools) == 1 and len(trace.tasks) == 1
    assert inside.submit(abs, -3).result(10) == 3  # works on after the block, unrecorded
    assert len(trace.tasks) == 1
    before.shutdown()
    inside.shutdown()
    with poolscope.record(clock=lambda: time.monotonic_ns() // 2) as custom:
        with pytest.warns(UserWarning, match="a ProcessPoolExecutor is recorded only with "
                                             "the default clock"):
            ex = ProcessPoolExecutor(1, mp_context=fork)
        ex.submit(abs, 1).result(10)
        ex.shutdown()

        class Custom(ProcessPoolExecutor):
            def submit(self, fn, /, *args, **kwargs):
                return super().submit(fn, *args, **kwargs)

        with pytest.warns(UserWarning, match="Custom overrides an executor method"):
            mine = Custom(1, mp_context=fork)
        mine.shutdown()
    assert custom.tasks == [] and not isinstance(ex, _procexecutor.RecordedProcessExecutor)


def test_json_and_renderers_handle_a_process_executor_trace():
    with poolscope.record() as trace:
        with ProcessPoolExecutor(2, mp_context=fork) as ex:
            list(ex.map(tasks.slow_square, range(4), chunksize=2))
    text = trace.to_json()
    assert json.loads(text)["version"] == 2
    loaded = Trace.from_json(text)
    assert loaded.data() == trace.data() and loaded.pools[0].process
    assert "worker 0" in trace.text()
    doc = trace.to_chrome_trace()
    names = [e["args"]["name"] for e in doc["traceEvents"] if e["name"] == "process_name"]
    assert names == ["ProcessPoolExecutor 0 (2 workers)"]


# -- map(buffersize=), CPython 3.14+ ----------------------------------------------------------

def _stdlib_error(call) -> str:
    with pytest.raises(TypeError) as info:
        call()
    return str(info.value)


@pytest.mark.parametrize("make", [
    lambda: ThreadPoolExecutor(2),
    lambda: ProcessPoolExecutor(2, mp_context=fork)], ids=["threads", "processes"])
def test_map_refuses_buffersize_before_3_14_as_the_stdlib_does(make, monkeypatch):
    monkeypatch.setattr(_executor, "has_buffersize", lambda: False)
    plain = make()
    with poolscope.record() as trace:
        ex = make()
        got = _stdlib_error(lambda: ex.map(abs, [1], buffersize=2))
        assert _stdlib_error(lambda: ex.map(abs, [1], bufsize=2)).endswith(
            "unexpected keyword argument 'bufsize'")
    ex.shutdown()
    assert trace.tasks == [] and not [e for e in trace.events if e.kind == "map"]
    try:
        expected = _stdlib_error(lambda: plain.map(abs, [1], buffersize=2))
    except pytest.fail.Exception:  # this Python is 3.14+: the stdlib accepts it
        expected = (f"{type(plain).map.__qualname__}() got an unexpected keyword "
                    "argument 'buffersize'")
    finally:
        plain.shutdown()
    assert got == expected


@pytest.mark.parametrize("make", [
    lambda: ThreadPoolExecutor(2),
    lambda: ProcessPoolExecutor(2, mp_context=fork)], ids=["threads", "processes"])
def test_map_honours_buffersize_from_3_14(make, monkeypatch):
    monkeypatch.setattr(_executor, "has_buffersize", lambda: True)
    with poolscope.record() as trace:
        with make() as ex:
            with pytest.raises(ValueError, match=r"buffersize must be None or >= 1\."):
                ex.map(abs, [1], buffersize=0)
            # An endless input: only buffersize items are submitted ahead of the results.
            results = ex.map(tasks.square, itertools.count(), buffersize=2)
            assert [next(results) for _ in range(5)] == [0, 1, 4, 9, 16]
            submitted = len([t for t in trace.tasks if t.call == "map"])
            results.close()  # the ones submitted ahead are cancelled or run
            assert list(ex.map(tasks.square, range(5), buffersize=3)) == [0, 1, 4, 9, 16]
    check_invariants(trace)
    first = [t for t in trace.tasks if t.call_id == 0]
    # 5 yielded, each yield submitting one more first: at most 2 beyond them.
    assert 5 <= submitted <= 7 and [t.index for t in first] == list(range(len(first)))
    assert [t.outcome for t in first[:5]] == [T.FINISHED] * 5
    assert [t.index for t in trace.tasks if t.call_id == 1] == [0, 1, 2, 3, 4]
    assert all(t.outcome == T.FINISHED for t in trace.tasks if t.call_id == 1)


def test_a_chunked_buffered_map_counts_items_not_chunks(monkeypatch):
    monkeypatch.setattr(_executor, "has_buffersize", lambda: True)
    with poolscope.record() as trace:
        with ProcessPoolExecutor(2, mp_context=fork) as ex:
            got = list(ex.map(tasks.square, range(7), chunksize=3, buffersize=1))
    assert got == [x * x for x in range(7)]
    assert [(t.index, t.chunk) for t in trace.tasks] == [
        (0, 0), (1, 0), (2, 0), (3, 1), (4, 1), (5, 1), (6, 2)]
    assert all(t.outcome == T.FINISHED for t in trace.tasks)

"""Starting and stopping a recording when things go wrong: an interrupted stop() (Ctrl-C,
a failing build) releases everything and can be retried; a bad clock is refused before
anything is patched or started."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.pool import Pool, ThreadPool

import pytest

import poolscope
from poolscope import _build
from poolscope.recording import active_recordings

CONSTRUCTORS = (ThreadPool, Pool, ThreadPoolExecutor)


def _fail_once(where: str, monkeypatch) -> dict:
    """Make the next stop() meet a KeyboardInterrupt (Ctrl-C) once, in the clock it reads
    or in building the trace; returns the clock to record with and a switch ``arm``."""
    state = {"armed": False}
    me = threading.get_ident()

    def clock() -> int:
        # Only the test's own thread: a worker reading the clock must not get it.
        if where == "clock" and state["armed"] and threading.get_ident() == me:
            state["armed"] = False
            raise KeyboardInterrupt
        return time.monotonic_ns()

    real_build = _build.build

    def build(*args, **kwargs):
        if where == "build" and state["armed"]:
            state["armed"] = False
            raise KeyboardInterrupt
        return real_build(*args, **kwargs)

    monkeypatch.setattr(_build, "build", build)
    state["clock"] = clock
    return state


@pytest.mark.parametrize("where", ["clock", "build"])
def test_an_interrupted_stop_releases_everything_and_a_retry_freezes(where, monkeypatch):
    fail = _fail_once(where, monkeypatch)
    inits = {cls: cls.__init__ for cls in CONSTRUCTORS}
    rec = poolscope.record(clock=fail["clock"])
    trace = rec.start()
    pool = ThreadPool(2)
    try:
        assert pool.map(abs, [-1, -2, -3]) == [1, 2, 3]
        fail["armed"] = True
        with pytest.raises(KeyboardInterrupt):
            rec.stop()
        assert not fail["armed"], "the injected failure did not happen"
        assert active_recordings() == 0
        assert all(cls.__init__ is init for cls, init in inits.items())
        assert pool._poolscope.on is False and pool._poolscope.watchers == 0
        assert not trace.live
        with ThreadPool(1) as plain:  # nothing patched: a new pool is the stdlib's
            assert type(plain) is ThreadPool
        assert pool.map(abs, [-4, -5]) == [4, 5]  # after the stop: not recorded
        assert rec.stop() is trace  # the retry completes the freeze
        assert rec.state == "stopped" and "stopped" in repr(rec)
        assert len(trace.tasks) == 3
        assert pool.map(abs, [-6]) == [6]
        assert len(trace.tasks) == 3 and len(trace.pools) == 1
        with pytest.raises(RuntimeError, match="this recording is stopped"):
            rec.stop()
    finally:
        pool.close()
        pool.join()


def test_a_with_block_interrupted_at_its_end_leaves_a_trace_that_freezes(monkeypatch):
    fail = _fail_once("build", monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        with poolscope.record() as trace:
            pool = ThreadPool(2)
            pool.map(abs, [1, 2, 3])
            fail["armed"] = True
    try:
        assert active_recordings() == 0 and pool._poolscope.on is False
        pool.map(abs, [4, 5, 6, 7])  # later work: not in the trace
        assert len(trace.tasks) == 3  # reading the trace completes the freeze
        pool.map(abs, [8])
        assert len(trace.tasks) == 3 and not trace.live
    finally:
        pool.close()
        pool.join()


def test_a_stop_that_keeps_failing_still_releases_and_can_be_retried(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("build failed")

    rec = poolscope.record()
    rec.start()
    pool = ThreadPool(1)
    try:
        pool.map(abs, [1])
        monkeypatch.setattr(_build, "build", broken)
        for _ in range(2):
            with pytest.raises(RuntimeError, match="build failed"):
                rec.stop()
            assert active_recordings() == 0 and pool._poolscope.watchers == 0
        monkeypatch.undo()
        assert len(rec.stop().tasks) == 1
    finally:
        pool.close()
        pool.join()


def test_an_interrupted_stop_leaves_an_enclosing_recording_running(monkeypatch):
    fail = _fail_once("build", monkeypatch)
    init = ThreadPool.__init__
    with poolscope.record() as outer:
        inner = poolscope.record()
        inner.start()
        p1 = ThreadPool(1)
        try:
            p1.map(abs, [1])
            fail["armed"] = True
            with pytest.raises(KeyboardInterrupt):
                inner.stop()
            assert active_recordings() == 1 and ThreadPool.__init__ is not init  # still patched
            # p1 is still watched by the outer recording: it goes on recording there.
            assert p1._poolscope.on and p1._poolscope.watchers == 1
            p1.map(abs, [2, 3])
            with ThreadPool(1) as p2:
                p2.map(abs, [4])
            assert inner.stop() is inner.trace
        finally:
            p1.close()
            p1.join()
    assert len(inner.trace.tasks) == 1
    assert len(outer.tasks) == 4 and len(outer.pools) == 2


# --- the clock --------------------------------------------------------------------------

def _backwards():
    ticks = iter([5_000, 4_000])
    return lambda: next(ticks)


@pytest.mark.parametrize("clock, error, message", [
    (time.monotonic, TypeError, "clock must return integer nanoseconds like "
                                "time.monotonic_ns; time.monotonic returned a float"),
    (time.time, TypeError, "time.time returned a float"),
    (lambda: "12", TypeError, "<lambda> returned a str"),
    (lambda: None, TypeError, "<lambda> returned None"),
    (lambda: True, TypeError, "<lambda> returned a bool"),
    (_backwards(), ValueError, "clock must never go back: <lambda> returned 5000, then 4000"),
])
def test_a_bad_clock_is_refused_before_anything_starts(clock, error, message):
    inits = {cls: cls.__init__ for cls in CONSTRUCTORS}
    before = threading.active_count()
    with pytest.raises(error) as info:
        with poolscope.record(clock=clock):
            with ThreadPool(2) as pool:  # what the learner wrote: never runs
                pool.map(abs, [1, 2])
    assert message in str(info.value)
    assert active_recordings() == 0 and threading.active_count() == before
    assert all(cls.__init__ is init for cls, init in inits.items())


def test_a_good_custom_clock_is_called_up_front_and_still_used():
    reads = []

    def clock() -> int:
        reads.append(1)
        return time.monotonic_ns()

    rec = poolscope.record(clock=clock)
    assert len(reads) == 2  # checked once: an int, then not going back
    with rec as trace:
        with ThreadPool(1) as pool:
            pool.map(abs, [1])
    assert len(trace.tasks) == 1 and len(reads) > 2

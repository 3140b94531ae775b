"""Groups of fast one-item tasks (see poolscope._log.GROUP_END): built exactly from
hand-written logs, and produced by real workers without losing or overlapping a task."""

from __future__ import annotations

import time
from multiprocessing.pool import ThreadPool

import poolscope
import poolscope._worker
from poolscope import _log, trace as T
from poolscope._build import build
from poolscope._log import GROUP_END, PoolLog, ThreadLog, WorkerLog

from invariants import check_invariants

MS = 1_000_000  # nanoseconds


def pool_with(records, calls=(), failures=(), at=None):
    plog = PoolLog(clock=lambda: 0, size=1, created=(0, MS), creator="MainThread")
    caller = ThreadLog("MainThread", plog.clock)
    plog.threads[1] = caller
    for code, job, length in calls:
        if length is not None:
            plog.calls[job] = [length, 1]
        t = (at or {}).get(job, MS)
        caller.add(code, job, t, t)
    w = WorkerLog(0, "Thread-1 (worker)", MS)
    w.records.extend(records)
    w.failures.extend(failures)
    plog.workers.append(w)
    return plog


def spans(data):
    return [(t.call_id, t.index, t.outcome, t.started, t.finished, t.measured)
            for t in data.tasks]


def test_a_closed_group_shares_its_span_evenly_after_a_timed_task():
    # job 5, item 0 timed 2-3 ms; items 1 and 2 grouped ("~i"), then job 6 ("job, ~i");
    # the group closes at 6 ms: three tasks share 3-6 ms.
    plog = pool_with([5, 0, 1, 2 * MS, 3 * MS, ~1, ~2, 6, ~0, GROUP_END, 6 * MS],
                     calls=[(_log.MAP_ASYNC, 5, 3), (_log.APPLY_ASYNC, 6, None)])
    data = build([plog], start=0, now=9 * MS, clock=lambda: 0)
    assert spans(data) == [
        (0, 0, T.FINISHED, 0.002, 0.003, True),
        (0, 1, T.FINISHED, 0.003, 0.004, False),
        (0, 2, T.FINISHED, 0.004, 0.005, False),
        (1, 0, T.FINISHED, 0.005, 0.006, False),
    ]


def test_no_task_of_a_group_starts_before_it_was_submitted():
    # apply_async job 6 was submitted at 5.5 ms, after the group began (3 ms): the tasks
    # before it share 3-5 ms, and it runs from its submission to the group's end.
    plog = pool_with([5, 0, 1, 2 * MS, 3 * MS, ~1, ~2, 6, ~0, GROUP_END, 6 * MS],
                     calls=[(_log.MAP_ASYNC, 5, 3), (_log.APPLY_ASYNC, 6, None)],
                     at={6: 5_500_000})
    data = build([plog], start=0, now=9 * MS, clock=lambda: 0)
    assert spans(data)[1:] == [
        (0, 1, T.FINISHED, 0.003, 0.004, False),
        (0, 2, T.FINISHED, 0.004, 0.005, False),
        (1, 0, T.FINISHED, 0.0055, 0.006, False),
    ]


def test_an_open_group_has_finished_tasks_and_one_running():
    # The worker moved on from items 1 and 2, so they have finished; item 3 is running.
    plog = pool_with([5, 0, 1, 2 * MS, 3 * MS, ~1, ~2, ~3],
                     calls=[(_log.MAP_ASYNC, 5, 5)])
    data = build([plog], start=0, now=9 * MS, clock=lambda: 0)
    assert spans(data) == [
        (0, 0, T.FINISHED, 0.002, 0.003, True),
        (0, 1, T.FINISHED, 0.003, 0.005, False),
        (0, 2, T.FINISHED, 0.005, 0.007, False),
        (0, 3, T.RUNNING, 0.007, None, True),
        (0, 4, T.NEVER_STARTED, None, None, True),
    ]


def test_a_failure_in_a_group_ends_it():
    plog = pool_with([5, 0, 1, 2 * MS, 3 * MS, ~1, GROUP_END, 5 * MS, 5, 2, 1, 6 * MS, 7 * MS],
                     calls=[(_log.MAP_ASYNC, 5, 3)],
                     failures=[(5, 1, 0, "ValueError: bad", False)])
    data = build([plog], start=0, now=9 * MS, clock=lambda: 0)
    assert spans(data) == [
        (0, 0, T.FINISHED, 0.002, 0.003, True),
        (0, 1, T.FAILED, 0.003, 0.005, False),
        (0, 2, T.FINISHED, 0.006, 0.007, True),
    ]
    assert data.tasks[1].error == "ValueError: bad"


def identity(x):
    return x


def fail_some(x):
    if x % 97 == 0:
        raise ValueError(x)
    return x


def test_real_workers_group_fast_tasks_without_losing_one():
    n = 20_000
    with poolscope.record() as trace:
        with ThreadPool(4) as pool:
            assert pool.map(identity, range(n), chunksize=1) == list(range(n))
            results = [pool.apply_async(fail_some, (x,)) for x in range(2000)]
            outcomes = []
            for r in results:
                try:
                    outcomes.append(r.get(timeout=30))
                except ValueError:
                    outcomes.append("failed")
    tasks = trace.tasks
    assert len(tasks) == n + 2000
    assert sorted(t.index for t in tasks if t.call == "map") == list(range(n))
    assert all(t.outcome == T.FINISHED for t in tasks if t.call == "map")
    applied = [t for t in tasks if t.call == "apply_async"]
    assert [t.outcome == T.FAILED for t in applied] == [o == "failed" for o in outcomes]
    assert sum(not t.measured for t in tasks) > n // 2  # most trivial tasks were grouped
    check_invariants(trace)


def test_a_slow_task_among_fast_ones_loses_no_time_and_ends_the_grouping():
    # A slow task that runs inside a group of fast ones shares the group's span (its
    # duration cannot be seen without a clock read of its own), but no time is lost:
    # the lane's tasks cover its 0.2 s, and the tasks after it are timed again.
    def work(x):
        if x == 50:
            time.sleep(0.2)
        return x

    with poolscope.record() as trace:
        with ThreadPool(1) as pool:
            pool.map(work, range(200), chunksize=1)
    tasks = sorted(trace.tasks, key=lambda t: t.started)
    assert [t.index for t in tasks] == list(range(200))
    slow = tasks[50]
    if slow.measured:
        assert slow.finished - slow.started >= 0.2
    else:
        share = slow.finished - slow.started  # the group's members share its span evenly
        mates = [t for t in tasks if not t.measured
                 and abs((t.finished - t.started) - share) < 1e-6]
        assert sum(t.finished - t.started for t in mates) >= 0.2
        assert len(mates) <= poolscope._worker.MAX_RUN
    # The group holding the slow task ends within MAX_RUN tasks; the next is timed alone.
    assert any(t.measured for t in tasks[51:52 + poolscope._worker.MAX_RUN])
    check_invariants(trace)

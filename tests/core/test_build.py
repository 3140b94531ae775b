"""Trace building from hand-written raw logs: exact, no threads, no sleeping."""

from __future__ import annotations

import pytest

from poolscope import _log, trace as T
from poolscope._build import build
from poolscope._log import PoolLog, ThreadLog, WorkerLog

MS = 1_000_000  # nanoseconds


def pool_log(size=2):
    plog = PoolLog(clock=lambda: 0, size=size, created=(0, MS), creator="MainThread")
    caller = ThreadLog("MainThread", plog.clock)
    plog.threads[1] = caller
    return plog, caller


def worker(plog, lane, *records, failures=()):
    w = WorkerLog(lane, f"Thread-{lane + 1} (worker)", MS)
    for r in records:
        w.records.extend(r)
    w.failures.extend(failures)
    plog.workers.append(w)
    return w


def test_a_chunked_map_with_a_failure_a_running_chunk_and_a_queued_one():
    plog, caller = pool_log()
    plog.calls[7] = [7, 3]  # job 7: 7 items in chunks of 3
    caller.add(_log.MAP, 7, 2 * MS)  # blocking, still waiting (t1 = -1)
    # chunk 0 on worker 0: items 0, 1 done, item 1 raised -> item 2 skipped
    worker(plog, 0, (7, 0, 3, 3 * MS, 4 * MS, 6 * MS),
           failures=[(7, 0, 1, "ValueError: bad", False)])
    # chunk 1 on worker 1: item 3 done, item 4 running, item 5 waiting behind it
    worker(plog, 1, (7, 1, 3, 3 * MS, 5 * MS))
    data = build([plog], start=0, now=10 * MS, clock=lambda: 0)
    got = [(t.index, t.outcome, t.lane, t.started, t.finished, t.note) for t in data.tasks]
    assert got == [
        (0, T.FINISHED, 0, 0.003, 0.004, None),
        (1, T.FAILED, 0, 0.004, 0.006, None),
        (2, T.NEVER_STARTED, None, None, None, T.CHUNK_FAILED),
        (3, T.FINISHED, 1, 0.003, 0.005, None),
        (4, T.RUNNING, 1, 0.005, None, None),
        (5, T.NEVER_STARTED, None, None, None, T.QUEUED),
        (6, T.NEVER_STARTED, None, None, None, T.QUEUED),  # chunk 2 never picked up
    ]
    assert data.tasks[1].error == "ValueError: bad"
    assert [t.chunk for t in data.tasks] == [0, 0, 0, 1, 1, 1, 2]
    assert {t.submitted for t in data.tasks} == {0.002}
    blocking = [e for e in data.events if e.kind == "map"]
    assert [(e.start, e.end, e.status) for e in blocking] == [(0.002, None, None)]
    assert data.duration == 0.01


def test_terminate_turns_running_into_abandoned_and_queued_into_dropped():
    plog, caller = pool_log(1)
    for job in (1, 2):
        caller.add(_log.APPLY_ASYNC, job, 2 * MS, 2 * MS)
    pos = caller.begin(_log.TERMINATE, -1)
    caller.records[pos + 2] = 4 * MS  # terminate() called at 4 ms ...
    caller.records[pos + 3] = 4 * MS
    caller.records[pos] |= _log.OK << 8
    worker(plog, 0, (1, 0, 1, 3 * MS, 9 * MS))  # ... while job 1 ran until 9 ms
    data = build([plog], start=0, now=10 * MS, clock=lambda: 0)
    a, b = data.tasks
    assert (a.outcome, a.finished) == (T.ABANDONED, 0.009)
    assert (b.outcome, b.note) == (T.NEVER_STARTED, T.TERMINATED)
    assert [e.kind for e in data.events] == ["created", "apply_async", "apply_async", "terminate"]


def test_unknown_jobs_and_a_torn_last_record_are_tolerated():
    plog, caller = pool_log(1)
    caller.add(_log.APPLY_ASYNC, 3, MS, MS)
    worker(plog, 0, (99, 0, 1, MS, 2 * MS), (3, 0, 1, 2 * MS))  # job 99: not ours
    data = build([plog], start=0, now=3 * MS, clock=lambda: 0)
    assert [(t.call_id, t.outcome) for t in data.tasks] == [(0, T.RUNNING)]


def test_pools_that_failed_to_start_are_left_out_and_jobs_are_renumbered():
    plog, caller = pool_log(1)
    broken = PoolLog(clock=lambda: 0)  # __init__ raised: never got a size
    caller.add(_log.APPLY_ASYNC, 40, MS, MS)
    caller.add(_log.APPLY_ASYNC, 41, MS, MS)
    worker(plog, 0, (40, 0, 1, MS, 2 * MS), (41, 0, 1, 2 * MS, 3 * MS))
    data = build([broken, plog], start=0, now=3 * MS, clock=lambda: 0)
    assert [t.call_id for t in data.tasks] == [0, 1] and len(data.pools) == 1
    assert [t.pool for t in data.tasks] == [0, 0]


@pytest.mark.parametrize("fields", [(5,), (5, 0), (5, 0, 1)])
def test_partial_worker_headers_are_ignored(fields):
    plog, caller = pool_log(1)
    caller.add(_log.APPLY_ASYNC, 5, MS, MS)
    worker(plog, 0, fields)
    data = build([plog], start=0, now=3 * MS, clock=lambda: 0)
    assert [t.outcome for t in data.tasks] == [T.NEVER_STARTED]


def test_groups_of_fast_items_share_their_measured_span():
    plog, caller = pool_log(1)
    plog.calls[3] = [5, 5]
    caller.add(_log.MAP_ASYNC, 3, MS, MS)
    # item 0 timed alone (1 -> 2 ms), items 1-3 as a group ending at 5 ms, item 4 alone
    worker(plog, 0, (3, 0, 5, MS, 2 * MS, -3, 5 * MS, 6 * MS))
    data = build([plog], start=0, now=7 * MS, clock=lambda: 0)
    got = [(t.started, t.finished, t.measured, t.outcome) for t in data.tasks]
    assert got == [(0.001, 0.002, True, T.FINISHED), (0.002, 0.003, False, T.FINISHED),
                   (0.003, 0.004, False, T.FINISHED), (0.004, 0.005, False, T.FINISHED),
                   (0.005, 0.006, True, T.FINISHED)]


def test_a_group_that_ends_in_a_failure():
    plog, caller = pool_log(1)
    plog.calls[3] = [6, 6]
    caller.add(_log.MAP_ASYNC, 3, MS, MS)
    worker(plog, 0, (3, 0, 6, MS, 2 * MS, -2, 4 * MS),
           failures=[(3, 0, 2, "KeyError: 2", False)])
    data = build([plog], start=0, now=7 * MS, clock=lambda: 0)
    assert [t.outcome for t in data.tasks] == [T.FINISHED, T.FINISHED, T.FAILED] + [
        T.NEVER_STARTED] * 3
    assert data.tasks[2].finished == 0.004 and data.tasks[2].error == "KeyError: 2"


# -- ThreadPoolExecutor and process Pool logs ----------------------------------------

def test_executor_cancellations_are_told_apart():
    plog, caller = pool_log(1)
    plog.kind = "ThreadPoolExecutor"
    caller.add(_log.SUBMIT, 1, MS, MS)  # runs
    caller.add(_log.SUBMIT, 2, MS, MS)  # cancelled by future.cancel()
    plog.calls[3] = [3, 1]
    caller.add(_log.EXECUTOR_MAP, 3, 2 * MS, 2 * MS)  # item 0 runs, 1 cancelled by map
    caller.add(_log.SUBMIT, 4, 2 * MS, 2 * MS)  # cancelled by shutdown(cancel_futures=True)
    caller.add(_log.SUBMIT, 5, 2 * MS, 2 * MS)  # still queued (shutdown(wait=False))
    caller.add(_log.CANCEL | _log.OK << 8, 2, 3 * MS, 3 * MS)
    caller.add(_log.CANCEL | _log.OK << 8 | 1 << _log.ITEM_SHIFT, 3, 4 * MS, 4 * MS)
    caller.add(_log.SHUTDOWN | _log.OK << 8, -1, 5 * MS, 7 * MS)
    caller.add(_log.CANCEL | _log.OK << 8, 4, 6 * MS, 6 * MS)
    worker(plog, 0, (1, 0, 1, MS, 2 * MS), (3, 0, 1, 2 * MS, 3 * MS))
    data = build([plog], start=0, now=10 * MS, clock=lambda: 0)
    got = [(t.call, t.index, t.outcome, t.note) for t in data.tasks]
    assert got == [
        ("submit", 0, T.FINISHED, None),
        ("submit", 0, T.NEVER_STARTED, T.CANCELLED),
        ("map", 0, T.FINISHED, None),
        ("map", 1, T.NEVER_STARTED, T.CANCELLED_BY_MAP),
        ("map", 2, T.NEVER_STARTED, T.QUEUED),  # no cancel record for item 2
        ("submit", 0, T.NEVER_STARTED, T.CANCELLED_BY_SHUTDOWN),
        ("submit", 0, T.NEVER_STARTED, T.QUEUED),
    ]
    assert [t.chunk for t in data.tasks] == [None] * 7
    cancels = [(e.call_id, e.start) for e in data.events if e.kind == "cancel"]
    assert cancels == [(1, 0.003), (2, 0.004), (3, 0.006)]
    assert [e.kind for e in data.events if e.kind in ("submit", "map", "shutdown")] == [
        "submit", "submit", "map", "submit", "submit", "shutdown"]


def test_a_broken_executor_drops_its_queued_tasks():
    plog, caller = pool_log(1)
    plog.kind = "ThreadPoolExecutor"
    caller.add(_log.SUBMIT, 1, MS, MS)
    w = worker(plog, 0)
    w.init_started, w.init_finished, w.init_error = MS, 2 * MS, "RuntimeError: no"
    data = build([plog], start=0, now=3 * MS, clock=lambda: 0)
    assert [(t.outcome, t.note) for t in data.tasks] == [(T.NEVER_STARTED, T.BROKEN)]
    assert [(e.kind, e.status) for e in data.events if e.kind == "initializer"] == [
        ("initializer", "raised")]


def test_process_tasks_killed_by_terminate():
    plog, caller = pool_log(2)
    plog.kind = "Pool"
    caller.add(_log.APPLY_ASYNC, 1, MS, MS)  # running on worker 0: killed
    plog.calls[2] = [5, 2]
    caller.add(_log.MAP_ASYNC, 2, MS, MS)  # chunk 0 running on worker 1, the rest queued
    pos = caller.begin(_log.TERMINATE, -1)
    caller.records[pos + 2] = 4 * MS  # terminate() called at 4 ms, returned at 6 ms
    caller.records[pos + 3] = 6 * MS
    caller.records[pos] |= _log.OK << 8
    worker(plog, 0, (1, 0, 1, 2 * MS))
    worker(plog, 1, (2, 0, 2, 3 * MS))
    data = build([plog], start=0, now=10 * MS, clock=lambda: 0)
    got = [(t.call, t.index, t.outcome, t.started, t.finished, t.note) for t in data.tasks]
    assert got == [
        ("apply_async", 0, T.KILLED, 0.002, 0.006, None),
        ("map_async", 0, T.KILLED, 0.003, 0.006, None),
        ("map_async", 1, T.KILLED, None, None, T.KILLED_WITH_CHUNK),
        ("map_async", 2, T.NEVER_STARTED, None, None, T.TERMINATED),
        ("map_async", 3, T.NEVER_STARTED, None, None, T.TERMINATED),
        ("map_async", 4, T.NEVER_STARTED, None, None, T.TERMINATED),
    ]
    # The same records in a ThreadPool: the threads run on; nothing is "killed".
    plog.kind = "ThreadPool"
    data = build([plog], start=0, now=10 * MS, clock=lambda: 0)
    assert [t.outcome for t in data.tasks][:3] == [T.ABANDONED, T.ABANDONED, T.NEVER_STARTED]


def test_process_tasks_that_could_not_be_pickled():
    plog, caller = pool_log(1)
    plog.kind = "Pool"
    plog.calls[1] = [5, 2]
    caller.add(_log.MAP, 1, MS, MS)
    caller.add(_log.APPLY_ASYNC, 2, MS, MS)
    plog.unsent += [(1, 0, "PicklingError: no"), (1, 2, "PicklingError: no")]  # chunks 0, 2
    plog.unreturned.append((2, 0, "MaybeEncodingError: Error sending result"))
    worker(plog, 0, (1, 1, 2, 2 * MS, 3 * MS, 4 * MS), (2, 0, 1, 4 * MS, 5 * MS),
           failures=[(2, 0, 0, "SystemExit: bye", True)])
    data = build([plog], start=0, now=10 * MS, clock=lambda: 0)
    got = [(t.index, t.outcome, t.started, t.error, t.note) for t in data.tasks]
    assert got == [
        (0, T.FAILED, None, "PicklingError: no", T.NOT_SENT),
        (1, T.FAILED, None, "PicklingError: no", T.NOT_SENT),
        (2, T.FINISHED, 0.002, None, None),
        (3, T.FINISHED, 0.003, None, None),
        (4, T.FAILED, None, "PicklingError: no", T.NOT_SENT),
        (0, T.FAILED, 0.004, "MaybeEncodingError: Error sending result", T.RESULT_NOT_SENT),
    ]


def test_a_process_that_dies_in_a_task():
    plog, caller = pool_log(1)
    plog.kind = "Pool"
    caller.add(_log.APPLY_ASYNC, 1, MS, MS)
    worker(plog, 0, (1, 0, 1, 2 * MS, 3 * MS), failures=[(1, 0, 0, "SystemExit: bye", True)])
    data = build([plog], start=0, now=10 * MS, clock=lambda: 0)
    assert [(t.outcome, t.note) for t in data.tasks] == [
        (T.FAILED, "its worker process died (BaseException)")]

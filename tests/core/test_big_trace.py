"""A trace of about 200,000 tasks built from hand-written logs: the columns are right and
compact, and summary, text and the plot's geometry work from them (timed apart by
benchmarks/bench_freeze.py, never here)."""

from __future__ import annotations

import numpy as np
import pytest

from poolscope import _log
from poolscope import trace as T
from poolscope._build import build
from poolscope._log import GROUP_END, PoolLog, ThreadLog, WorkerLog
from poolscope.render._geometry import MERGE_ABOVE, layout
from poolscope.trace import Trace

N, WORKERS, US = 17 * 4 * 2941, 4, 1_000  # tasks (199,988); ns in a microsecond


def imap_logs() -> PoolLog:
    """``imap`` of N items on 4 workers, as the workers log it: each worker times one
    task alone, then runs 16 fast ones in a group (see _log.GROUP_END), and so on."""
    plog = PoolLog(clock=lambda: 0, size=WORKERS, created=(0, US), creator="MainThread")
    caller = ThreadLog("MainThread", plog.clock)
    plog.threads[1] = caller
    plog.calls[1] = [N, 1]
    caller.add(_log.IMAP, 1, 2 * US, 2 * US)
    # The caller's next() for each result: 2 us each, 1 us apart.
    t = 3 * US + np.arange(N, dtype=np.int64) * 3 * US
    nexts = np.stack([np.full(N, _log.NEXT | _log.OK << 8), np.full(N, 1), t, t + 2 * US], 1)
    caller.records.frombytes(nexts.astype(np.int64).tobytes())
    for w in range(WORKERS):
        items = np.arange(w, N, WORKERS)
        blocks = items.reshape(-1, 17) if len(items) % 17 == 0 else None
        assert blocks is not None
        t0 = 10 * US + np.arange(len(blocks)) * 40 * US  # each block: 40 us
        rec = np.concatenate([
            np.stack([np.full(len(blocks), 1), blocks[:, 0], np.full(len(blocks), 1), t0,
                      t0 + 2 * US], axis=1),  # job, i, n, t0, stamp
            ~blocks[:, 1:],  # the group's members
            np.stack([np.full(len(blocks), GROUP_END), t0 + 34 * US], axis=1)], axis=1)
        log = WorkerLog(w, f"Thread-{w + 1} (worker)", US)
        log.records.frombytes(rec.astype(np.int64).tobytes())
        plog.workers.append(log)
    return plog


@pytest.fixture(scope="module")
def data():
    assert N % (17 * WORKERS) == 0
    return build([imap_logs()], start=0, now=10**9, clock=lambda: 0)


def test_every_task_is_built_in_columns(data):
    tasks = data.tasks
    assert len(tasks) == N and isinstance(tasks, T.TaskTable)
    assert tasks.ints("index").tolist() == list(range(N))  # sorted by call, then item
    assert tasks.distinct("outcome") == {T.FINISHED}
    assert not np.isnan(tasks.floats("started")).any()
    measured = tasks.values("measured")
    assert measured.count(True) == N // 17 and measured.count(False) == N - N // 17
    # Item 5: worker 1's first group member, 12-14 us (the group splits 12-44 us in 16).
    assert tasks[5] == T.Task(0, "imap", 0, 5, "Thread-2 (worker)", 1, 2 * US / 1e9,
                              12 * US / 1e9, 14 * US / 1e9, T.FINISHED, caller="MainThread",
                              measured=False)
    # Compact: lanes, codes and flags in a byte; the times as float64.
    assert {tasks.column(n).data.itemsize for n in ("lane", "worker", "outcome", "pool",
                                                   "measured", "note")} == {1}
    assert tasks.column("index").data.itemsize == 4


def test_groups_split_their_span_evenly(data):
    tasks = data.tasks.take(np.arange(0, 17 * WORKERS, WORKERS))  # worker 0's first block
    start, end = tasks.floats("started"), tasks.floats("finished")
    assert np.allclose(end - start, [2e-6] + [2e-6] * 16)
    assert np.array_equal(start[1:], end[:-1])  # back to back


def test_summary_text_and_plot_work_from_columns(data):
    trace = Trace(data)
    s = trace.summary()
    assert (s.tasks, s.completed, s.workers) == (N, N, WORKERS)
    assert s.utilisation == pytest.approx(N * 2e-6 / (s.makespan * WORKERS), rel=1e-3)
    text = trace.text(tick=0.1)
    lines = text.splitlines()
    assert lines[2].startswith("worker 0  +") and lines[6].startswith("caller    =")
    assert len(data.events) == N + 2 and data.events.distinct("kind") == {
        "created", "imap", "next"}
    merged = layout(data)
    bars = merged.bars["task"]
    assert bars.count == N > MERGE_ABOVE and len(bars.verts) < N // 10
    assert len(layout(data, merge=False).bars["task"].verts) == N

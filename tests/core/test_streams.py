"""The vectorised reader of worker streams agrees with the record-by-record one, on
hand-written, random and cut-short streams, and reads real streams without falling back."""

from __future__ import annotations

import random

import numpy as np
import pytest

from poolscope import _streams
from poolscope._log import GROUP_END


def by_record(records, failures=None, now=1000, submitted=lambda job: None):
    rows, spans = _streams._rows(_streams._records(list(records), failures or {}, now,
                                                   submitted))
    return _streams._from_rows(rows, spans)


def tasks(p: _streams.Parsed) -> list:
    out = []
    for r in range(len(p)):
        o, m = int(p.offset[r]), int(p.nspans[r])
        out.append((int(p.job[r]), int(p.i[r]), int(p.n[r]), int(p.t0[r]), bool(p.complete[r]),
                    [(int(p.start[o + k]), int(p.end[o + k]), bool(p.measured[o + k]))
                     for k in range(m)]))
    return out


def both(records, failures=None, now=1000, submitted=lambda job: None):
    fast = _streams.read(np.array(records, dtype=np.int64), failures or {}, now, submitted)
    slow = by_record(records, failures, now, submitted)
    assert tasks(fast) == tasks(slow)
    return tasks(fast)


def test_timed_tasks_groups_and_chunks():
    got = both([5, 0, 1, 10, 20,  # task (5, 0) timed alone
                ~1, ~2, 6, ~0, GROUP_END, 50,  # (5, 1), (5, 2), (6, 0) share 20-50
                7, 0, 4, 60, 70, -2, 90, 95,  # a chunk of 4: one timed, two grouped, one
                7, 1, 2, 100])  # a chunk still running its first item
    assert [(t[0], t[1]) for t in got] == [(5, 0), (5, 1), (5, 2), (6, 0), (7, 0), (7, 1)]
    assert got[1][5] == [(20, 30, False)] and got[3][5] == [(40, 50, False)]
    assert got[4][5] == [(60, 70, True), (70, 80, False), (80, 90, False), (90, 95, True)]
    assert got[5][4:] == (False, [])


@pytest.mark.parametrize("cut", range(0, 19))
def test_streams_cut_anywhere(cut):
    # A reader copying the log while the worker writes sees any prefix of it.
    both([3, 0, 1, 10, 20, ~1, ~2, GROUP_END, 40, 3, 3, 3, 41, 45, -2, 60, ~9, ~10][:cut],
         failures={(3, 3): (3, 3, 2, "ValueError: x", False)})


def test_a_late_submission_in_a_group_restarts_the_split():
    got = both([5, 0, 1, 20, 30, ~1, 6, ~0, ~1, GROUP_END, 60],
               submitted={5: 0, 6: 45}.get)
    assert [t[5] for t in got[1:]] == [[(30, 40, False)], [(45, 52, False)],
                                       [(52, 60, False)]]


def random_stream(rng: random.Random) -> tuple[list, dict]:
    """What a worker writes (see _worker.py), plus now and then a cut or a wrong word."""
    out: list[int] = []
    failures = {}
    t = rng.randrange(0, 50)
    for task in range(rng.randrange(0, 12)):
        c = rng.random()
        if c < 0.4:  # a task a worker runs once: (job, i) never repeats in a stream
            job, i, n = rng.randrange(0, 4), 10 + task, rng.choice([1, 1, 2, 3, 5, -1])
            t += rng.randrange(0, 5)
            out += [job, i, n, t]
            want = 1 if n == -1 else n
            if n > 1 and rng.random() < 0.3:
                at = rng.randrange(0, n)
                failures[(job, i)] = (job, i, at, "E: x", False)
                want = at + 1
            done = 0
            while done < want:
                step = rng.randrange(1, want - done + 1)
                t += rng.randrange(0, 20)
                out += [t] if step == 1 else [-step, t]
                done += step
        elif c < 0.8:
            for _ in range(rng.randrange(1, 5)):
                out += [rng.randrange(0, 4), ~rng.randrange(0, 6)] if rng.random() < 0.3 else [
                    ~rng.randrange(0, 6)]
            if rng.random() < 0.85:
                t += rng.randrange(0, 30)
                out += [GROUP_END, t]
        else:
            t += rng.randrange(0, 5)
            out += [GROUP_END, t]
    if out and rng.random() < 0.4:
        out = out[:rng.randrange(0, len(out) + 1)]
    if out and GROUP_END not in out and rng.random() < 0.1:
        # A wrong word (no GROUP_END around: read as a count, it would never end).
        out[rng.randrange(len(out))] = rng.randrange(-3, 30)
    return out, failures


@pytest.mark.parametrize("seed", range(4))
def test_random_streams(seed):
    rng = random.Random(seed)
    submitted = {0: 5, 1: 60, 2: None, 3: 200}.get
    for _ in range(400):
        records, failures = random_stream(rng)
        both(records, failures, 1000, submitted)


def test_a_long_real_looking_stream_is_read_without_falling_back():
    rng = random.Random(7)
    records, t = [], 0
    for k in range(17 * 1177):  # ends with a closed group
        if k % 17 == 0:
            t += 3
            records += [1, k, 1, t, t + 2]
            t += 2
        else:
            records.append(~k)
            if k % 17 == 16:
                t += rng.randrange(1, 40)
                records += [GROUP_END, t]
    r = np.array(records, dtype=np.int64)
    fast = _streams._vectorised(r, {}, lambda job: 0)
    assert fast is not None and fast[3] == len(r)  # cut at the end: all read at once
    assert tasks(fast[0]) == tasks(by_record(records, submitted=lambda job: 0))
    assert sorted(fast[0].i.tolist()) == list(range(17 * 1177))


@pytest.mark.parametrize("seed", range(6))
def test_orbit_skipping_member_runs_equals_pointer_doubling(seed):
    # _orbit leaves runs of members (successor: the next position) out of the doubling.
    rng = np.random.default_rng(seed)
    for _ in range(200):
        size = int(rng.integers(1, 60))
        member = rng.random(size) < rng.random()
        nxt = np.minimum(np.arange(size) + rng.integers(1, 7, size), size)
        nxt[member] = np.arange(size)[member] + 1
        assert _streams._orbit(nxt, size, member).tolist() == \
            _streams._double(nxt, size).tolist()


# -- round trips: records written by the real writers, read back by the readers ---------
# The format is written down once (the table in _log.py); these fail if a writer or a
# reader changes alone.

def test_thread_records_round_trip():
    from poolscope import _log

    times = iter(range(100, 200))
    log = _log.ThreadLog("MainThread", clock=lambda: next(times))
    log.end(log.begin(_log.MAP, 4), _log.OK)  # a blocking call that returned
    log.add(_log.SUBMIT, 5, 150, 150)  # an executor's submit, logged whole
    log.add(_log.thread_code(_log.CANCEL, _log.OK, item=70_000), 5, 160, 160)
    log.begin(_log.NEXT, 6)  # still waiting: t1 is -1
    rec = _log.read_thread(log.records[:])
    assert len(rec) == 4
    assert [_log.KINDS[c] for c in rec.code.tolist()] == ["map", "submit", "cancel", "next"]
    assert [_log.STATUSES[s] for s in rec.status.tolist()] == ["ok", None, "ok", None]
    assert rec.job.tolist() == [4, 5, 5, 6]
    assert rec.t0.tolist() == [100, 150, 160, 102] and rec.t1.tolist() == [101, 150, 160, -1]
    assert rec.item(2) == 70_000
    # A record cut short (a reader's copy taken mid-write) is left out.
    assert len(_log.read_thread(log.records[:-1])) == 3


def test_worker_records_round_trip():
    """The real worker loop (_worker.py) writes timed tasks, groups of fast tasks, chunks,
    a failing chunk and an input error; the stream reader gets each task back."""
    import queue
    import time
    from multiprocessing import pool as mp_pool

    from poolscope._log import INPUT_ERROR, PoolLog
    from poolscope._worker import make_worker

    def boom(x):
        if x == 2:
            raise ValueError("two")
        return x

    plog = PoolLog(clock=time.monotonic_ns)
    inq, outq = queue.SimpleQueue(), queue.SimpleQueue()
    inq.put((1, 0, time.sleep, (0.02,), {}))  # slow: timed alone
    for i in range(1, 40):  # fast, queued: grouped after the first one
        inq.put((1, i, abs, (-i,), {}))
    inq.put((2, 0, mp_pool.mapstar, ((abs, (-1, -2, -3, -4, -5)),), {}))  # a chunk of 5
    inq.put((2, 1, mp_pool.mapstar, ((boom, (0, 1, 2, 3)),), {}))  # fails at its item 2
    inq.put((3, 0, mp_pool._helper_reraises_exception, (KeyError("k"),), {}))
    inq.put(None)
    make_worker(plog)(inq, outq)
    wlog = plog.workers[0]
    words = wlog.records[:].tolist()
    assert GROUP_END in words and any(w < 0 and w != GROUP_END for w in words)
    failures = {(f[0], f[1]): f for f in wlog.failures}
    assert failures[(2, 1)][2] == 2 and (3, 0) in failures
    p = _streams.read(np.array(words, dtype=np.int64), failures, now=time.monotonic_ns())
    assert _streams._vectorised(np.array(words, dtype=np.int64), failures,
                                lambda job: None)[3] == len(words)  # read at once
    got = {(int(p.job[r]), int(p.i[r])): (int(p.n[r]), bool(p.complete[r]),
                                          int(p.nspans[r])) for r in range(len(p))}
    want = {(1, i): (1, True, 1) for i in range(40)}
    want.update({(2, 0): (5, True, 5), (2, 1): (4, True, 3), (3, 0): (INPUT_ERROR, True, 1)})
    assert got == want
    assert tasks(p) == tasks(by_record(words, failures, time.monotonic_ns()))
    spans = list(zip(p.start.tolist(), p.end.tolist()))
    assert all(wlog.started <= a <= b <= wlog.exited for a, b in spans)
    first = int(np.flatnonzero((p.job == 1) & (p.i == 0))[0])
    o = int(p.offset[first])
    assert p.measured[o] and p.end[o] - p.start[o] >= 15_000_000  # the sleep was timed

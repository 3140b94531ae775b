"""Turn raw pool logs into a :class:`TraceData` (tasks, events, workers, pools).

Runs only when someone looks at a trace, never on the pool's hot path. Tasks and
events are built as columns (numpy arrays, see ``_columns.py``), never as one Python
object each: 2,000,000 recorded ``imap`` tasks freeze in about 1.5 s of CPU on a 2-core
machine (``benchmarks/bench_freeze.py``), not 20 s as records did. Worker streams are
read by ``_streams.py``; what stays a Python loop runs once per call, pool, thread,
failure or cancellation, not per task.

    >>> from poolscope._log import PoolLog
    >>> build([], start=0, now=10**9, clock=lambda: 0).duration
    1.0
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import _kinds, _log, _streams
from ._columns import Column, compact, float_column
from ._log import INPUT_ERROR, PoolLog
from ._model import (
    ABANDONED,
    BROKEN,
    CANCELLED,
    CANCELLED_BY_MAP,
    CANCELLED_BY_SHUTDOWN,
    CHUNK_FAILED,
    FAILED,
    FINISHED,
    KILLED,
    KILLED_WITH_CHUNK,
    NEVER_STARTED,
    NOT_SENT,
    OUTCOMES,
    QUEUED,
    RESULT_NOT_SENT,
    RUNNING,
    TERMINATED,
    EventTable,
    PoolInfo,
    TaskTable,
    TraceData,
    Worker,
)

_MAP_FAMILY = frozenset({_log.MAP, _log.MAP_ASYNC, _log.STARMAP, _log.STARMAP_ASYNC})
_SINGLE = frozenset({_log.APPLY, _log.APPLY_ASYNC, _log.SUBMIT})  # one item per call
WORKER_DIED = "its worker thread died (BaseException)"
PROCESS_DIED = "its worker process died (BaseException)"
# Values of the string columns the builder writes codes for.
_OUTCOME = {o: n for n, o in enumerate(OUTCOMES)}
NOTES = (QUEUED, TERMINATED, CHUNK_FAILED, CANCELLED, CANCELLED_BY_SHUTDOWN, CANCELLED_BY_MAP,
         BROKEN, KILLED_WITH_CHUNK, NOT_SENT, RESULT_NOT_SENT, WORKER_DIED, PROCESS_DIED)
_NOTE = {o: n for n, o in enumerate(NOTES)}
EVENT_KINDS = _log.KINDS + ("created", "initializer")
# The thread records during which the caller waits for the pool (Event.blocking):
# ThreadPool's blocking calls (code MAP, not an executor's EXECUTOR_MAP), the waits,
# join and shutdown.
_BLOCKING_CODES = sorted(_log.BLOCKING | {_log.GET, _log.WAIT, _log.NEXT, _log.JOIN,
                                          _log.RESULT, _log.EXCEPTION, _log.SHUTDOWN})
_CREATED, _INITIALIZER = len(_log.KINDS), len(_log.KINDS) + 1
# Thread records besides waits and callbacks: few, read one by one.
_RARE = sorted(_log.SUBMISSIONS | {_log.TERMINATE, _log.SHUTDOWN, _log.CANCEL})
_STATUS = {s: n for n, s in enumerate(_log.STATUSES[1:])}  # "ok" -> 0, ...


@dataclass
class _Call:
    code: int
    job: int
    t0: int
    thread: str
    pool: int
    length: int | None  # items in the call, None while unknown (imap)
    chunksize: int
    call_id: int = 0

    @property
    def chunked(self) -> bool:
        return self.code in _MAP_FAMILY or self.chunksize > 1

    def items(self, i: int, n: int | None = None) -> range:
        """The items of the call's task ``i`` (a chunk of ``n`` items, or of up to
        chunksize items while the call's length is unknown)."""
        if not self.chunked:
            return range(i, i + 1)
        first = i * self.chunksize
        last = first + (n if n is not None else self.chunksize)
        if self.length is not None:
            last = min(last, self.length)
        return range(first, last)


@dataclass
class _Pool:
    """What build needs to know about one pool besides its tasks."""

    kind: _kinds.PoolKind
    terminated: tuple[int, int] | None = None  # terminate() called, returned (-1: not yet)
    broken: bool = False  # an executor whose initializer failed
    # A process pool's tasks that could not be sent: (job, item) -> "Type: message".
    unsent: dict[tuple[int, int], str] = field(default_factory=dict)


class _Strings:
    """Codes for the values of one string column, in order of first use."""

    def __init__(self, values: tuple | list = ()):
        self.values = list(values)
        self._code = {v: n for n, v in enumerate(self.values)}

    def __call__(self, value: str | None) -> int:
        if value is None:
            return -1
        code = self._code.get(value)
        if code is None:
            code = self._code[value] = len(self.values)
            self.values.append(value)
        return code


def build(pools: list[PoolLog], start: int, now: int, clock: Callable[[], int],
          still: bool = False) -> TraceData:
    """Build the trace's records from the logs of ``pools``, timed from ``start``.

    ``still``: no thread writes to these logs any more (a stopped recording's copy), so
    their arrays are read in place instead of copied first (64 MB for 2,000,000
    ``next()`` calls)."""
    return _Builder(start, now, still).run(pools)


class _Builder:
    """One build: the calls and per-pool state found so far, and the column parts."""

    def __init__(self, start: int, now: int, still: bool = False):
        import numpy as np

        self.np = np
        self.still = still
        self.start, self.now = start, now
        self.calls: dict[tuple[int, int], _Call] = {}  # (pool, job) -> call
        self.state: list[_Pool] = []
        self.names = _Strings()  # thread names: callers, workers, event threads
        self.errors = _Strings()
        # Executors: who cancelled what. (pool, job, item) -> (thread, time), and the
        # shutdown() calls of each (pool, thread), to tell shutdown's cancels from others.
        self.cancels: dict[tuple[int, int, int], tuple[str, int]] = {}
        self.shutdowns: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
        self.callers: set[tuple[int, str]] = set()  # (pool, thread) that submitted or shut down
        self.events: list[dict[str, Any]] = []  # parts of the event columns, in order
        self.tasks: list[dict[str, Any]] = []  # parts of the task columns, in order

    def sec(self, t: Any) -> Any:
        """Seconds from the start of nanosecond times ``t`` (an int or an int64 array)."""
        if not isinstance(t, self.np.ndarray) or t.dtype != self.np.int64 or not t.ndim:
            return (t - self.start) / 1e9
        # The same (t - start) / 1e9, divided in place: one 16 MB array for 2,000,000
        # times instead of two.
        d = t - self.start
        return self.np.divide(d, 1e9, out=d.view(self.np.float64))

    def run(self, pools: list[PoolLog]) -> TraceData:
        live = [p for p in pools if p.created is not None and p.size is not None]
        infos: list[PoolInfo] = []
        for index, plog in enumerate(live):
            assert plog.created is not None and plog.size is not None
            kind = _kinds.by_name(plog.kind)
            self.state.append(_Pool(kind))
            infos.append(PoolInfo(index, kind.name, plog.size, self.sec(plog.created[0]),
                                  plog.creator, kind.process))
            self._event(_CREATED, index, plog.creator, plog.created[0], plog.created[1],
                        _STATUS["ok"])
            self._threads(index, plog)
        # Job ids come from one counter and grow in submission order, across pools too.
        for call_id, key in enumerate(sorted(self.calls, key=lambda k: (k[1], k[0]))):
            self.calls[key].call_id = call_id
        self._index_calls()
        workers: list[Worker] = []
        for index, plog in enumerate(live):
            workers += self._workers(index, plog)
        self._never_started()
        workers.sort(key=lambda w: (w.pool, w.lane))
        return TraceData(self._task_table(), self._event_table(), workers, infos,
                         self.sec(self.now))

    # -- threads: calls and events -------------------------------------------------------
    def _threads(self, index: int, plog: PoolLog) -> None:
        np = self.np
        info = self.state[index]
        entries = {job: list(e) for job, e in list(plog.calls.items())}
        for log in list(plog.threads.values()):
            # Views, not copies: a thread may have logged 2,000,000 next() calls.
            rec = _log.read_thread(log.records if self.still else log.records[:])
            code, status, job, t0, t1 = rec.code, rec.status, rec.job, rec.t0, rec.t1
            start, ended = self.sec(t0), t1 >= 0
            end = np.where(ended, self.sec(t1), np.nan)
            state = np.where(ended, status.astype(np.int8) - 1, np.int8(-1))  # -1: pending
            # The few records besides waits (submissions, terminate, shutdown, cancel)
            # are found in one pass and read one by one.
            for r in np.flatnonzero(_by_code(np, _RARE)[code]).tolist():
                c = int(code[r])
                if c in _log.SUBMISSIONS:
                    j = int(job[r])
                    length, chunksize = entries.get(j, (1, 1))
                    self.calls[(index, j)] = _Call(c, j, int(t0[r]), log.name, index, length,
                                                   chunksize)
                    self.callers.add((index, log.name))
                    if c not in _log.BLOCKING:  # an async submission returns at once
                        end[r], state[r] = start[r], _log.OK - 1
                elif c == _log.TERMINATE:
                    if info.terminated is None:
                        info.terminated = (int(t0[r]), int(t1[r]))
                elif c == _log.SHUTDOWN:
                    self.shutdowns[(index, log.name)].append((int(t0[r]), int(t1[r])))
                    self.callers.add((index, log.name))
                else:  # CANCEL
                    self.cancels.setdefault((index, int(job[r]), rec.item(r)),
                                            (log.name, int(t0[r])))
            n = len(code)
            self.events.append(dict(  # compact at once: 2,000,000 next() calls are common
                kind=code.astype(np.int8 if len(code) and code.max() < 128 else np.int16),
                pool=np.full(n, index, dtype=np.int32),
                thread=np.full(n, self.names(log.name), dtype=np.int32),
                start=start, end=end, status=state,
                job=compact(job, null=True), blocking=_by_code(np, _BLOCKING_CODES)[code]))

    def _event(self, kind: int, pool: int, thread: str, t0: int, t1: int | None,
               status: int | None, job: int = -1) -> None:
        np = self.np
        self.events.append(dict(
            kind=np.array([kind]), pool=np.array([pool]), thread=np.array([self.names(thread)]),
            start=np.array([self.sec(t0)]),
            end=np.array([np.nan if t1 is None else self.sec(t1)]),
            status=np.array([-1 if status is None else status]), job=np.array([job]),
            blocking=np.zeros(1, dtype=bool)))  # created, initializer, input error

    def _index_calls(self) -> None:
        """Arrays of the calls, in the order they were found, and per pool a sorted
        job -> call row lookup."""
        np = self.np
        calls = list(self.calls.values())
        self.call_list = calls
        self.c_code = np.array([c.code for c in calls], dtype=np.int64)
        self.c_id = np.array([c.call_id for c in calls], dtype=np.int64)
        self.c_t0 = np.array([c.t0 for c in calls], dtype=np.int64)
        self.c_thread = np.array([self.names(c.thread) for c in calls], dtype=np.int64)
        self.c_chunksize = np.array([c.chunksize for c in calls], dtype=np.int64)
        self.c_chunked = np.array([c.chunked for c in calls], dtype=bool)
        self.c_pool = np.array([c.pool for c in calls], dtype=np.int64)
        self.lookup: dict[int, tuple[Any, Any]] = {}
        by_pool: dict[int, list[int]] = defaultdict(list)
        for row, c in enumerate(calls):
            by_pool[c.pool].append(row)
        for pool, rows in by_pool.items():
            jobs = np.array([calls[r].job for r in rows], dtype=np.int64)
            order = np.argsort(jobs, kind="stable")
            self.lookup[pool] = (jobs[order], np.array(rows, dtype=np.int64)[order])
        # Job ids are small (one counter per process): a table beats a search.
        top = max((c.job for c in calls), default=-1)
        self.table: dict[int, Any] = {}
        if 0 <= top < 50_000_000 and min((c.job for c in calls), default=0) >= 0:
            for pool, (jobs, rows) in self.lookup.items():
                table = np.full(top + 2, -1, dtype=np.int64)  # the last slot: any other job
                table[jobs] = rows
                self.table[pool] = table

    def _submitted_many(self, pool: int, jobs: Any) -> Any:
        rows = self.call_rows(pool, jobs)
        return np_where(self.np, rows >= 0, self.c_t0, rows, -(2**62))

    def call_rows(self, pool: int, jobs: Any) -> Any:
        """The call row of each job of ``pool`` (-1: a job this recording never saw)."""
        np = self.np
        if pool not in self.lookup or not len(jobs):
            return np.full(len(jobs), -1, dtype=np.int64)
        table = self.table.get(pool)
        if table is not None:
            last = len(table) - 1
            return table[np.where((jobs >= 0) & (jobs < last), jobs, last)]
        sorted_jobs, rows = self.lookup[pool]
        at = np.minimum(np.searchsorted(sorted_jobs, jobs), len(sorted_jobs) - 1)
        return np.where(sorted_jobs[at] == jobs, rows[at], -1)

    # -- workers: tasks --------------------------------------------------------------------
    def _workers(self, index: int, plog: PoolLog) -> list[Worker]:
        np = self.np
        info = self.state[index]
        sec = self.sec
        out = []
        unreturned = {(job, i): text for job, i, text in list(plog.unreturned)}
        for wlog in list(plog.workers):
            # Copied before failures (see _log's thread-safety note), unless still.
            records = wlog.records if self.still else wlog.records[:]
            failures = {(f[0], f[1]): f for f in list(wlog.failures)}
            out.append(Worker(index, wlog.lane, wlog.name, sec(wlog.started),
                              *(None if t is None else sec(t) for t in (
                                  wlog.init_started, wlog.init_finished)),
                              wlog.init_error, None if wlog.exited is None else sec(wlog.exited)))
            if wlog.init_started is not None:
                end = wlog.init_finished
                self._event(_INITIALIZER, index, wlog.name, wlog.init_started, end,
                            None if end is None else _STATUS["raised" if wlog.init_error
                                                             else "ok"])
                info.broken |= wlog.init_error is not None and info.kind.init_error_breaks

            def submitted(job: int, index: int = index) -> int | None:
                call = self.calls.get((index, job))
                return None if call is None else call.t0

            submitted.many = (  # type: ignore[attr-defined]  # the vectorised lookup
                lambda jobs, index=index: self._submitted_many(index, jobs))

            parsed = _streams.read(np.frombuffer(records, dtype=np.int64), failures,
                                   self.now, submitted)
            self._tasks_of(index, wlog, parsed, failures, unreturned)
        for job, i, text in list(plog.unsent):
            call = self.calls.get((index, job))
            if call is not None:
                for item in call.items(i):
                    info.unsent[(job, item)] = text
        return out

    def _tasks_of(self, index: int, wlog: Any, p: _streams.Parsed, failures: dict,
                  unreturned: dict) -> None:
        """The task columns of the items one worker started, whole-array. Item k of a
        task: finished (failed, if it is the failing one) when it has a span; else the
        item the worker is in now, if the task is not complete and did not fail
        (running; in a process pool that terminate() stopped: killed); else never
        started (skipped after a failure, or queued behind the running item; killed
        with its chunk in a stopped process pool). Started and not finished before
        terminate() was called: abandoned. A result that could not be sent back: failed."""
        np = self.np
        info = self.state[index]
        process = info.kind.process
        row = self.call_rows(index, p.job)
        for r in np.flatnonzero((row >= 0) & (p.n == INPUT_ERROR)).tolist():
            o = int(p.offset[r])
            end = int(p.end[o]) if p.nspans[r] else None
            self._event(_log.INPUT_ERROR_EVENT, index, wlog.name, int(p.t0[r]), end,
                        _STATUS["raised"], int(p.job[r]))
        keep = np.flatnonzero((row >= 0) & (p.n >= 1))
        if not len(keep):
            return
        # Failures of the kept tasks: position of the failing item, text, BaseException?
        fail_at = np.full(len(p), -1, dtype=np.int32)
        fail_err = np.full(len(p), -1, dtype=np.int64)
        fail_base = np.zeros(len(p), dtype=bool)
        failing = _matching(np, p, keep, failures)
        for r in failing:
            f = failures[(int(p.job[r]), int(p.i[r]))]
            fail_at[r], fail_err[r], fail_base[r] = f[2], self.errors(f[3]), f[4]
        if (not failing and not unreturned and info.terminated is None and len(keep) == len(p)
                and (p.n == 1).all() and (p.nspans == 1).all() and p.complete.all()):
            self._finished_tasks(wlog, p, row)  # the common case, in fewer passes
            return
        n = p.n[keep]
        if len(keep) == len(p) and (n == 1).all():  # one item a task: the common case
            task, k = keep, np.zeros(len(keep), dtype=np.int64)
        else:
            task = np.repeat(keep, n)
            k = np.arange(len(task)) - np.repeat(np.cumsum(n) - n, n)
        crow = row[task]
        nspans, complete, failed_at = p.nspans[task], p.complete[task], fail_at[task]
        has_span = k < nspans
        span = np.where(has_span, p.offset[task] + k, 0)
        started = np.where(has_span, p.start[span] if len(p.start) else 0, -1)
        finished = np.where(has_span, p.end[span] if len(p.end) else 0, -1)
        has_start, has_finish = has_span.copy(), has_span.copy()
        measured = np.where(has_span, p.measured[span] if len(p.measured) else True, True)
        outcome = np.full(len(task), _OUTCOME[NEVER_STARTED], dtype=np.int64)
        note = np.where(failed_at >= 0, _NOTE[CHUNK_FAILED], _NOTE[QUEUED])
        error = np.full(len(task), -1, dtype=np.int64)
        outcome[has_span] = _OUTCOME[FINISHED]
        fails = has_span & (failed_at == k)
        outcome[fails] = _OUTCOME[FAILED]
        error[fails] = fail_err[task][fails]
        note[has_span] = -1
        note[fails & fail_base[task]] = _NOTE[PROCESS_DIED if process else WORKER_DIED]
        # The item the worker is in now (of a task not complete and not failed).
        term = info.terminated
        running = ~has_span & (k == nspans) & ~complete & (failed_at < 0)
        last = p.offset[task] + nspans - 1
        started[running] = np.where(nspans > 0, p.end[np.maximum(last, 0)] if len(p.end)
                                    else 0, p.t0[task])[running]
        has_start |= running
        outcome[running] = _OUTCOME[RUNNING]
        note[running] = -1
        if process and term is not None:  # a process is really stopped by terminate()
            killed = ~complete & (failed_at < 0)
            now_in = running & killed
            outcome[now_in] = _OUTCOME[KILLED]
            if term[1] >= 0:
                finished[now_in] = np.maximum(term[1], started[now_in])
                has_finish |= now_in
            rest = killed & ~has_span & ~running
            outcome[rest], note[rest] = _OUTCOME[KILLED], _NOTE[KILLED_WITH_CHUNK]
        if term is not None:  # running when terminate() was called: abandoned
            abandoned = has_start & (outcome != _OUTCOME[KILLED]) & (
                ~has_finish | (finished > term[0]))
            outcome[abandoned] = _OUTCOME[ABANDONED]
        if unreturned:
            for r in _matching(np, p, keep, unreturned):
                text = unreturned[(int(p.job[r]), int(p.i[r]))]
                hit = (task == r) & has_start & np.isin(
                    outcome, [_OUTCOME[FINISHED], _OUTCOME[FAILED]])
                outcome[hit], error[hit] = _OUTCOME[FAILED], self.errors(text)
                note[hit] = _NOTE[RESULT_NOT_SENT]
        chunked = self.c_chunked[crow]
        i = p.i[task]
        worker = self.names(wlog.name)
        self.tasks.append(dict(  # compact at once: the parts wait for the other workers
            row=compact(crow), index=compact(np.where(chunked, i * self.c_chunksize[crow] + k, i)),
            chunk=compact(np.where(chunked, i, -1), null=True),
            worker=compact(np.where(has_start, worker, -1), null=True),
            lane=compact(np.where(has_start, wlog.lane, -1), null=True),
            started=np.where(has_start, self.sec(started), np.nan),
            finished=np.where(has_finish, self.sec(finished), np.nan),
            outcome=compact(outcome), error=compact(error, null=True),
            note=compact(note, null=True), measured=measured.astype(bool)))

    def _finished_tasks(self, wlog: Any, p: _streams.Parsed, row: Any) -> None:
        """What :meth:`_tasks_of` makes when every task ran one item and finished (no
        failure, no terminate(), every result sent back): the same columns."""
        np = self.np
        n, span = len(p), p.offset
        chunked = self.c_chunked[row]
        i = p.i
        index = np.where(chunked, i * self.c_chunksize[row], i) if chunked.any() else i
        self.tasks.append(dict(
            row=compact(row), index=compact(index),
            chunk=compact(np.where(chunked, i, -1), null=True) if chunked.any()
            else _full(np, n, -1),
            worker=_full(np, n, self.names(wlog.name)), lane=_full(np, n, wlog.lane),
            started=self.sec(p.start[span]), finished=self.sec(p.end[span]),
            outcome=_full(np, n, _OUTCOME[FINISHED]), error=_full(np, n, -1),
            note=_full(np, n, -1), measured=p.measured[span].astype(bool)))

    # -- calls: items no worker started --------------------------------------------------
    def _never_started(self) -> None:
        np = self.np
        calls = self.call_list
        if not calls:
            return
        expected = np.array([1 if c.code in _SINGLE else (c.length or 0) for c in calls],
                            dtype=np.int64)
        if not expected.sum():
            return
        # One flag per expected item: call row r's items start at first[r].
        first = np.cumsum(expected) - expected
        seen = np.zeros(int(expected.sum()), dtype=bool)
        for part in self.tasks:
            rows, items = part["row"], part["index"]
            ok = (items >= 0) & (items < expected[rows])
            seen[first[rows[ok]] + items[ok]] = True
        if seen.all():
            return
        missing = np.flatnonzero(~seen)
        rows = np.searchsorted(first, missing, side="right") - 1
        items = missing - first[rows]
        outcome = np.full(len(rows), _OUTCOME[NEVER_STARTED], dtype=np.int64)
        error = np.full(len(rows), -1, dtype=np.int64)
        pool_note = np.array([_NOTE[TERMINATED] if s.terminated is not None else
                              _NOTE[BROKEN] if s.broken else _NOTE[QUEUED]
                              for s in self.state], dtype=np.int64)
        note = pool_note[self.c_pool[rows]]
        special = {(c.pool, c.job) for c in calls if self.state[c.pool].unsent} | {
            (pool, job) for pool, job, _ in self.cancels}
        if special:
            keys = [(calls[r].pool, calls[r].job) in special for r in range(len(calls))]
            for at in np.flatnonzero(np.array(keys)[rows]).tolist():
                call, item = calls[int(rows[at])], int(items[at])
                text = self.state[call.pool].unsent.get((call.job, item))
                if text is not None:
                    outcome[at], error[at] = _OUTCOME[FAILED], self.errors(text)
                    note[at] = _NOTE[NOT_SENT]
                else:
                    note[at] = _NOTE[self._why_never(call, item)]
        chunked = self.c_chunked[rows] & (self.c_chunksize[rows] > 0)
        none = np.full(len(rows), -1, dtype=np.int64)
        nan = np.full(len(rows), np.nan)
        self.tasks.append(dict(
            row=rows, index=items,
            chunk=np.where(chunked, items // np.maximum(self.c_chunksize[rows], 1), -1),
            worker=none, lane=none, started=nan, finished=nan, outcome=outcome, error=error,
            note=note, measured=none < 0))

    def _why_never(self, call: _Call, item: int) -> str:
        """The note of a task no worker started."""
        # A cancel names the task: an item, or the chunk of a chunked executor map.
        task = item // call.chunksize if call.chunked else item
        cancel = self.cancels.get((call.pool, call.job, task))
        if cancel is not None:
            thread, t = cancel
            if any(t0 <= t and (t1 < 0 or t <= t1) for t0, t1 in self.shutdowns.get(
                    (call.pool, thread), ())):
                return CANCELLED_BY_SHUTDOWN
            # A thread that never called into the pool cancelling after a shutdown began:
            # a ProcessPoolExecutor's manager thread doing shutdown(cancel_futures=True)'s
            # work, possibly after shutdown(wait=False) returned.
            if (call.pool, thread) not in self.callers and any(
                    t0 <= t for (p, _), spans in self.shutdowns.items() if p == call.pool
                    for t0, _ in spans):
                return CANCELLED_BY_SHUTDOWN
            return CANCELLED_BY_MAP if call.code == _log.EXECUTOR_MAP else CANCELLED
        info = self.state[call.pool]
        if info.terminated is not None:
            return TERMINATED
        if info.broken:
            return BROKEN
        return QUEUED

    # -- the tables ------------------------------------------------------------------------
    def _task_table(self) -> TaskTable:
        np = self.np
        parts = self.tasks
        if not parts:
            return TaskTable.from_records([])
        row = np.concatenate([p.pop("row") for p in parts])
        order = _order(np, self.c_id[row], np.concatenate([p["index"] for p in parts]))
        row = row[order]

        def col(name: str) -> Any:
            # One column at a time, its parts dropped as soon as they are joined.
            return np.concatenate([p.pop(name) for p in parts])[order]

        names = self.names.values
        return TaskTable.from_columns(
            len(row),
            pool=Column("int", compact(self.c_pool[row])),
            call=Column("str", compact(self.c_code[row]), list(_log.KINDS)),
            call_id=Column("int", compact(self.c_id[row])),
            index=Column("int", compact(col("index"))),
            worker=Column("optstr", compact(col("worker"), null=True), names),
            lane=Column("optint", compact(col("lane"), null=True)),
            submitted=float_column(None, row, self.sec(self.c_t0)),  # one a call
            started=Column("optfloat", col("started")),
            finished=Column("optfloat", col("finished")),
            outcome=Column("str", compact(col("outcome")), list(OUTCOMES)),
            error=Column("optstr", compact(col("error"), null=True), self.errors.values),
            note=Column("optstr", compact(col("note"), null=True), list(NOTES)),
            chunk=Column("optint", compact(col("chunk"), null=True)),
            caller=Column("str", compact(self.c_thread[row]), names),
            measured=Column("bool", col("measured").astype(bool)))

    def _event_table(self) -> EventTable:
        np = self.np
        parts = self.events
        if not parts:
            return EventTable.from_records([])

        def cat(name: str) -> Any:
            return np.concatenate([p.pop(name) for p in parts])

        pool, start = cat("pool"), cat("start")
        order = _order(np, start, pool)
        job = cat("job").astype(np.int64)
        call_id = np.full(len(job), -1, dtype=np.int64)
        for p in np.flatnonzero(np.bincount(pool)).tolist():  # the pools (few, small)
            at = np.flatnonzero((pool == p) & (job >= 0))
            rows = self.call_rows(p, job[at])
            call_id[at] = np_where(np, rows >= 0, self.c_id, rows, -1)
        del job
        return EventTable.from_columns(
            len(start),
            kind=Column("str", compact(cat("kind")[order]), list(EVENT_KINDS)),
            pool=Column("int", compact(pool[order])),
            thread=Column("str", compact(cat("thread")[order]), self.names.values),
            start=Column("float", start[order]),
            end=Column("optfloat", cat("end")[order]),
            status=Column("optstr", compact(cat("status")[order], null=True),
                          list(_log.STATUSES[1:])),
            call_id=Column("optint", compact(call_id[order], null=True)),
            blocking=Column("bool", cat("blocking")[order]))


def _full(np: Any, n: int, value: int) -> Any:
    """``compact(np.full(n, value), null=True)`` without a pass over the array."""
    return np.full(n, value, dtype=compact(np.array([value]), null=True).dtype)


def _by_code(np: Any, codes: Any) -> Any:
    """A lookup table over a record's code byte: one gather over 2,000,000 records
    instead of a comparison per code (np.isin)."""
    table = np.zeros(256, dtype=bool)
    table[list(codes)] = True
    return table


def np_where(np: Any, mask: Any, values: Any, rows: Any, default: int) -> Any:
    """``values[rows]`` where ``mask``, else ``default`` (rows may be -1 there)."""
    if not len(values):
        return np.full(len(rows), default, dtype=np.int64)
    return np.where(mask, values[np.maximum(rows, 0)], default)


def _order(np: Any, first: Any, then: Any) -> Any:
    """The stable order of rows by (``first``, ``then``). Parts come in sorted runs (one
    per worker or thread), which a stable sort (timsort) merges in near-linear time."""
    if not len(first):
        return np.zeros(0, dtype=np.int64)
    if _in_order(np, first, then):  # often so (one thread's events): no sort, no gathers
        return slice(None)
    if then.min() == then.max():
        return np.argsort(first, kind="stable")
    order = np.argsort(then, kind="stable")
    return order[np.argsort(first[order], kind="stable")]


def _in_order(np: Any, first: Any, then: Any) -> bool:
    """Are the rows already in their stable order by (``first``, ``then``)?"""
    d = first[1:] >= first[:-1]
    if not d.all():
        return False
    ties = np.flatnonzero(first[1:] == first[:-1])
    return bool((then[ties + 1] >= then[ties]).all())


def _matching(np: Any, p: _streams.Parsed, rows: Any, table: dict) -> list[int]:
    """The rows among ``rows`` of ``p`` whose (job, i) is a key of ``table`` (few)."""
    if not table:
        return []
    jobs = np.array(sorted({job for job, _ in table}), dtype=np.int64)
    near = rows[np.isin(p.job[rows], jobs)]
    return [r for r in near.tolist() if (int(p.job[r]), int(p.i[r])) in table]

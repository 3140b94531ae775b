"""Turn raw pool logs into a :class:`TraceData` (tasks, events, workers, pools).

Runs only when someone looks at a trace, never on the pool's hot path.

    >>> from poolscope._log import PoolLog
    >>> build([], start=0, now=10**9, clock=lambda: 0).duration
    1.0
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from . import _log
from ._log import GROUP_END, INPUT_ERROR, ITEM_SHIFT, PoolLog
from .trace import (
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
    QUEUED,
    RESULT_NOT_SENT,
    RUNNING,
    TERMINATED,
    Event,
    PoolInfo,
    Task,
    TraceData,
    Worker,
)

_MAP_FAMILY = frozenset({_log.MAP, _log.MAP_ASYNC, _log.STARMAP, _log.STARMAP_ASYNC})
_IMAP_FAMILY = frozenset({_log.IMAP, _log.IMAP_UNORDERED})
_SINGLE = frozenset({_log.APPLY, _log.APPLY_ASYNC, _log.SUBMIT})  # one item per call
WORKER_DIED = "its worker thread died (BaseException)"
PROCESS_DIED = "its worker process died (BaseException)"


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

    def items(self, i: int, n: int | None = None) -> range:
        """The items of the call's task ``i`` (a chunk of ``n`` items, or of up to
        chunksize items while the call's length is unknown)."""
        chunked = self.code in _MAP_FAMILY or self.chunksize > 1
        if not chunked:
            return range(i, i + 1)
        first = i * self.chunksize
        last = first + (n if n is not None else self.chunksize)
        if self.length is not None:
            last = min(last, self.length)
        return range(first, last)


@dataclass
class _Pool:
    """What build needs to know about one pool besides its tasks."""

    kind: str
    terminated: tuple[int, int] | None = None  # terminate() called, returned (-1: not yet)
    broken: bool = False  # an executor whose initializer failed
    # A process pool's tasks that could not be sent: (job, item) -> "Type: message".
    unsent: dict[tuple[int, int], str] = field(default_factory=dict)


def build(pools: list[PoolLog], start: int, now: int, clock: Callable[[], int]) -> TraceData:
    """Build the trace's records from the logs of ``pools``, timed from ``start``."""
    def sec(t: int) -> float:
        return (t - start) / 1e9

    live = [p for p in pools if p.created is not None and p.size is not None]
    calls: dict[tuple[int, int], _Call] = {}  # (pool, job) -> call
    events: list[Event] = []
    infos: list[PoolInfo] = []
    state: list[_Pool] = []
    # Executors: who cancelled what. (pool, job, item) -> (thread, time), and the
    # shutdown() calls of each (pool, thread), to tell shutdown's cancels from others.
    cancels: dict[tuple[int, int, int], tuple[str, int]] = {}
    shutdowns: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
    for index, plog in enumerate(live):
        assert plog.created is not None and plog.size is not None
        info = _Pool(plog.kind)
        state.append(info)
        infos.append(PoolInfo(index, plog.kind, plog.size, sec(plog.created[0]), plog.creator))
        events.append(Event("created", index, plog.creator, sec(plog.created[0]),
                            sec(plog.created[1]), "ok"))
        entries = {job: list(e) for job, e in list(plog.calls.items())}
        for log in list(plog.threads.values()):
            for word, job, t0, t1 in _records(log.records[:]):
                code, status = word & 0xFF, (word >> 8) & 0xFF
                if code in _log.SUBMISSIONS:
                    length, chunksize = entries.get(job, (1, 1))
                    calls[(index, job)] = _Call(code, job, t0, log.name, index, length,
                                                chunksize)
                    if code not in _log.BLOCKING:
                        t1, status = t0, _log.OK
                elif code == _log.TERMINATE and info.terminated is None:
                    info.terminated = (t0, t1)
                elif code == _log.SHUTDOWN:
                    shutdowns[(index, log.name)].append((t0, t1))
                elif code == _log.CANCEL:
                    cancels.setdefault((index, job, word >> ITEM_SHIFT), (log.name, t0))
                events.append(Event(_log.KINDS[code], index, log.name, sec(t0),
                                    None if t1 < 0 else sec(t1),
                                    None if t1 < 0 else _log.STATUSES[status],
                                    None if job < 0 else job))
    # Job ids come from one counter and grow in submission order, across pools too.
    for call_id, key in enumerate(sorted(calls, key=lambda k: (k[1], k[0]))):
        calls[key].call_id = call_id
    events = [_renumber(e, calls) for e in events]

    tasks: list[Task] = []
    workers: list[Worker] = []
    seen: set[tuple[int, int, int]] = set()
    for index, plog in enumerate(live):
        info = state[index]
        process = info.kind == "Pool"
        unreturned = {(job, i): text for job, i, text in list(plog.unreturned)}
        for wlog in list(plog.workers):
            records = wlog.records[:]  # before failures: see _log's thread-safety note
            failures = {(f[0], f[1]): f for f in list(wlog.failures)}
            workers.append(_worker(index, wlog, sec))
            if wlog.init_started is not None:
                end = wlog.init_finished
                events.append(Event("initializer", index, wlog.name, sec(wlog.init_started),
                                    None if end is None else sec(end),
                                    None if end is None else
                                    ("raised" if wlog.init_error else "ok")))
                info.broken |= wlog.init_error is not None and info.kind == "ThreadPoolExecutor"
            def submitted(job: int, index: int = index) -> int | None:
                call = calls.get((index, job))
                return None if call is None else call.t0

            for job, i, n, t0, spans, complete in _worker_records(records, failures, now,
                                                                  submitted):
                call = calls.get((index, job))
                if call is None:  # submitted before this recording saw the pool
                    continue
                if n == INPUT_ERROR:
                    events.append(Event("input error", index, wlog.name, sec(t0),
                                        sec(spans[0][1]) if spans else None, "raised",
                                        call.call_id))
                    continue
                chunked = call.code in _MAP_FAMILY or call.chunksize > 1
                returned = unreturned.get((job, i))
                for k in range(n):
                    item = i * call.chunksize + k if chunked else i
                    seen.add((index, job, item))
                    task = _item(call, item, i if chunked else None, k, t0, spans,
                                 complete, failures.get((job, i)), wlog, sec,
                                 info.terminated, process)
                    if returned is not None and task.started is not None and task.outcome in (
                            FINISHED, FAILED):
                        task = replace(task, outcome=FAILED, error=returned,
                                        note=RESULT_NOT_SENT)
                    tasks.append(task)
        for job, i, text in list(plog.unsent):
            call = calls.get((index, job))
            if call is not None:
                for item in call.items(i):
                    info.unsent[(job, item)] = text
    for call in calls.values():
        expected = 1 if call.code in _SINGLE else call.length
        info = state[call.pool]
        for item in range(expected or 0):
            if (call.pool, call.job, item) not in seen:
                error = info.unsent.get((call.job, item))
                if error is not None:
                    tasks.append(_never(call, item, NOT_SENT, sec, FAILED, error))
                else:
                    tasks.append(_never(call, item, _why_never(call, item, info, cancels,
                                                               shutdowns), sec))
    tasks.sort(key=lambda t: (t.call_id, t.index))
    events.sort(key=lambda e: (e.start, e.pool))
    workers.sort(key=lambda w: (w.pool, w.lane))
    return TraceData(tasks, events, workers, infos, sec(now))


def _why_never(call: _Call, item: int, info: _Pool, cancels, shutdowns) -> str:
    """The note of a task no worker started."""
    cancel = cancels.get((call.pool, call.job, item))
    if cancel is not None:
        thread, t = cancel
        if any(t0 <= t and (t1 < 0 or t <= t1) for t0, t1 in shutdowns.get(
                (call.pool, thread), ())):
            return CANCELLED_BY_SHUTDOWN
        return CANCELLED_BY_MAP if call.code == _log.EXECUTOR_MAP else CANCELLED
    if info.terminated is not None:
        return TERMINATED
    if info.broken:
        return BROKEN
    return QUEUED


def _records(flat) -> Iterator[tuple[int, int, int, int]]:
    # Whole 4-field records only; a partial last one cannot occur (one fromlist call).
    for p in range(0, len(flat) - 3, 4):
        yield flat[p], flat[p + 1], flat[p + 2], flat[p + 3]


def _worker_records(records, failures, now: int,
                    submitted: Callable[[int], int | None] = lambda job: None):
    """Yield (job, i, n, t0, spans, complete) for each task a worker started.

    ``spans`` has (start, finish, measured) per item run so far: a lone stamp ends one
    timed item; ``-count, stamp`` ends a group of fast items, whose span is shared.
    Short records ``job, ~i`` or ``~i`` (same job as the task before) form a group
    of fast one-item tasks closed by ``GROUP_END, stamp`` (see _log.GROUP_END). In a
    group still open at ``now``, every task but the last has finished: the worker took
    the next one only after it. No task of a group starts before ``submitted(job)``.
    """
    pos, size = 0, len(records)
    last = 0  # the worker's last stamp: where a group begins
    pending: list[tuple[int, int]] = []
    job = -1  # the job of the last task read
    while pos < size:
        head = records[pos]
        if head < 0 and head != GROUP_END:
            pending.append((job, ~head))
            pos += 1
            continue
        if head == GROUP_END:
            if pos + 1 >= size:
                break
            stamp = records[pos + 1]
            pos += 2
            yield from _group(pending, last, stamp, True, submitted)
            pending, last = [], stamp
            continue
        if pos + 1 < size and records[pos + 1] < 0:
            job = head
            pending.append((job, ~records[pos + 1]))
            pos += 2
            continue
        if pos + 4 > size:
            break
        job, i, n, t0 = records[pos:pos + 4]
        pos += 4
        fail = failures.get((job, i))
        want = 1 if n == INPUT_ERROR else (n if fail is None else fail[2] + 1)
        spans: list[tuple[int, int, bool]] = []
        prev = t0
        while len(spans) < want and pos < size:
            value = records[pos]
            if value >= 0:
                spans.append((prev, value, True))
                prev, pos = value, pos + 1
            elif pos + 1 < size:
                count, stamp = -value, records[pos + 1]
                spans.extend((prev + (stamp - prev) * k // count,
                              prev + (stamp - prev) * (k + 1) // count, False)
                             for k in range(count))
                prev, pos = stamp, pos + 2
            else:
                break
        last = prev
        yield job, i, n, t0, spans, len(spans) == want
    if pending:
        yield from _group(pending, last, max(now, last), False, submitted)


def _group(tasks: list[tuple[int, int]], start: int, end: int, closed: bool, submitted):
    """The records of a group of fast one-item tasks sharing ``start``-``end``: in
    order, each from the end of the one before (or its submission, if later) with an
    even share of what is left; if the group is still open, its last task is running."""
    count, t = len(tasks), start
    for k, (job, i) in enumerate(tasks):
        a = max(t, submitted(job) or t)  # a task never starts before it was submitted
        b = t = a + max(end - a, 0) // (count - k)
        if closed or k < count - 1:
            yield job, i, 1, a, [(a, b, False)], True
        else:
            yield job, i, 1, a, [], False


def _item(call: _Call, item: int, chunk: int | None, k: int, t0: int, spans,
          complete: bool, fail, wlog, sec, terminated: tuple[int, int] | None,
          process: bool = False) -> Task:
    """Item ``k`` of a task a worker started (k > 0 only in a chunk)."""
    started = finished = None
    error = note = None
    measured = True
    killed = process and terminated is not None and not complete and fail is None
    if k < len(spans):
        started, finished, measured = spans[k]
        outcome = FINISHED
        if fail is not None and fail[2] == k:
            outcome, error = FAILED, fail[3]
            note = (PROCESS_DIED if process else WORKER_DIED) if fail[4] else None
    elif k == len(spans) and not complete and fail is None:
        started = spans[-1][1] if spans else t0  # the item the worker is in now
        outcome = RUNNING
        if killed:  # a process is really stopped: it ended when terminate() returned
            assert terminated is not None
            outcome = KILLED
            finished = None if terminated[1] < 0 else max(terminated[1], started)
    elif killed:
        outcome, note = KILLED, KILLED_WITH_CHUNK
    else:
        # Later items of a chunk: skipped after a failure, else waiting behind the
        # running item (they still run after terminate(): threads cannot be stopped).
        outcome = NEVER_STARTED
        note = CHUNK_FAILED if fail is not None else QUEUED
    if started is not None and outcome != KILLED and terminated is not None and (
            finished is None or finished > terminated[0]):
        outcome = ABANDONED
    return Task(call.pool, _log.KINDS[call.code], call.call_id, item,
                wlog.name if started is not None else None,
                wlog.lane if started is not None else None,
                sec(call.t0), None if started is None else sec(started),
                None if finished is None else sec(finished), outcome, error, note, chunk,
                call.thread, measured)


def _never(call: _Call, item: int, note: str, sec, outcome: str = NEVER_STARTED,
           error: str | None = None) -> Task:
    chunked = call.code in _MAP_FAMILY or call.chunksize > 1
    return Task(call.pool, _log.KINDS[call.code], call.call_id, item, None, None,
                sec(call.t0), None, None, outcome, error, note,
                item // call.chunksize if chunked and call.chunksize else None, call.thread)


def _worker(pool: int, w, sec) -> Worker:
    def opt(t):
        return None if t is None else sec(t)

    return Worker(pool, w.lane, w.name, sec(w.started), opt(w.init_started),
                  opt(w.init_finished), w.init_error, opt(w.exited))


def _renumber(e: Event, calls: dict[tuple[int, int], _Call]) -> Event:
    if e.call_id is None:
        return e
    call = calls.get((e.pool, e.call_id))
    return Event(e.kind, e.pool, e.thread, e.start, e.end, e.status,
                 None if call is None else call.call_id)

"""Turn raw pool logs into a :class:`TraceData` (tasks, events, workers, pools).

Runs only when someone looks at a trace, never on the pool's hot path.

    >>> from poolscope._log import PoolLog
    >>> build([], start=0, now=10**9, clock=lambda: 0).duration
    1.0
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from . import _log
from ._log import INPUT_ERROR, PoolLog
from .trace import (
    ABANDONED,
    CHUNK_FAILED,
    FAILED,
    FINISHED,
    NEVER_STARTED,
    QUEUED,
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
WORKER_DIED = "its worker thread died (BaseException)"


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


def build(pools: list[PoolLog], start: int, now: int, clock: Callable[[], int]) -> TraceData:
    """Build the trace's records from the logs of ``pools``, timed from ``start``."""
    def sec(t: int) -> float:
        return (t - start) / 1e9

    live = [p for p in pools if p.created is not None and p.size is not None]
    calls: dict[int, _Call] = {}
    events: list[Event] = []
    infos: list[PoolInfo] = []
    terminated: dict[int, int] = {}  # pool -> time terminate() was called
    for index, plog in enumerate(live):
        assert plog.created is not None and plog.size is not None
        infos.append(PoolInfo(index, plog.kind, plog.size, sec(plog.created[0]), plog.creator))
        events.append(Event("created", index, plog.creator, sec(plog.created[0]),
                            sec(plog.created[1]), "ok"))
        entries = {job: list(e) for job, e in list(plog.calls.items())}
        for log in list(plog.threads.values()):
            for code, job, t0, t1 in _records(log.records[:]):
                status, code = code >> 8, code & 0xFF
                if code < len(_log.CALLS):
                    length, chunksize = entries.get(job, (1, 1))
                    calls[job] = _Call(code, job, t0, log.name, index, length, chunksize)
                    if code not in _log.BLOCKING:
                        t1, status = t0, _log.OK
                elif code == _log.TERMINATE and index not in terminated:
                    terminated[index] = t0
                events.append(Event(_log.KINDS[code], index, log.name, sec(t0),
                                    None if t1 < 0 else sec(t1),
                                    None if t1 < 0 else _log.STATUSES[status],
                                    None if job < 0 else job))
    for call_id, job in enumerate(sorted(calls)):  # job ids grow in submission order
        calls[job].call_id = call_id
    events = [_renumber(e, calls) for e in events]

    tasks: list[Task] = []
    workers: list[Worker] = []
    seen: set[tuple[int, int]] = set()
    for index, plog in enumerate(live):
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
            for job, i, n, t0, spans, complete in _worker_records(records, failures):
                call = calls.get(job)
                if call is None:  # submitted before this recording saw the pool
                    continue
                if n == INPUT_ERROR:
                    events.append(Event("input error", index, wlog.name, sec(t0),
                                        sec(spans[0][1]) if spans else None, "raised",
                                        call.call_id))
                    continue
                chunked = call.code in _MAP_FAMILY or call.chunksize > 1
                for k in range(n):
                    item = i * call.chunksize + k
                    seen.add((job, item))
                    tasks.append(_item(call, item, i if chunked else None, k, t0, spans,
                                       complete, failures.get((job, i)), wlog, sec,
                                       terminated.get(call.pool)))
    for call in calls.values():
        expected = 1 if call.code in (_log.APPLY, _log.APPLY_ASYNC) else call.length
        for item in range(expected or 0):
            if (call.job, item) not in seen:
                note = TERMINATED if call.pool in terminated else QUEUED
                tasks.append(_never(call, item, note, sec))
    tasks.sort(key=lambda t: (t.call_id, t.index))
    events.sort(key=lambda e: (e.start, e.pool))
    workers.sort(key=lambda w: (w.pool, w.lane))
    return TraceData(tasks, events, workers, infos, sec(now))


def _records(flat) -> Iterator[tuple[int, int, int, int]]:
    # Whole 4-field records only; a partial last one cannot occur (one fromlist call).
    for p in range(0, len(flat) - 3, 4):
        yield flat[p], flat[p + 1], flat[p + 2], flat[p + 3]


def _worker_records(records, failures):
    """Yield (job, i, n, t0, spans, complete) for each task a worker started.

    ``spans`` has (start, finish, measured) per item run so far: a lone stamp ends one
    timed item; ``-count, stamp`` ends a group of fast items, whose span is shared.
    """
    pos, size = 0, len(records)
    while pos + 4 <= size:
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
        yield job, i, n, t0, spans, len(spans) == want


def _item(call: _Call, item: int, chunk: int | None, k: int, t0: int, spans,
          complete: bool, fail, wlog, sec, terminated_at: int | None) -> Task:
    """Item ``k`` of a task a worker started (k > 0 only in a chunk)."""
    started = finished = None
    error = note = None
    measured = True
    if k < len(spans):
        started, finished, measured = spans[k]
        outcome = FINISHED
        if fail is not None and fail[2] == k:
            outcome, error = FAILED, fail[3]
            note = WORKER_DIED if fail[4] else None
    elif k == len(spans) and not complete and fail is None:
        started = spans[-1][1] if spans else t0  # the item the worker is in now
        outcome = RUNNING
    else:
        # Later items of a chunk: skipped after a failure, else waiting behind the
        # running item (they still run after terminate(): threads cannot be stopped).
        outcome = NEVER_STARTED
        note = CHUNK_FAILED if fail is not None else QUEUED
    if started is not None and terminated_at is not None and (
            finished is None or finished > terminated_at):
        outcome = ABANDONED
    return Task(call.pool, _log.CALLS[call.code], call.call_id, item,
                wlog.name if started is not None else None,
                wlog.lane if started is not None else None,
                sec(call.t0), None if started is None else sec(started),
                None if finished is None else sec(finished), outcome, error, note, chunk,
                call.thread, measured)


def _never(call: _Call, item: int, note: str, sec) -> Task:
    chunked = call.code in _MAP_FAMILY or call.chunksize > 1
    return Task(call.pool, _log.CALLS[call.code], call.call_id, item, None, None,
                sec(call.t0), None, None, NEVER_STARTED, None, note,
                item // call.chunksize if chunked and call.chunksize else None, call.thread)


def _worker(pool: int, w, sec) -> Worker:
    def opt(t):
        return None if t is None else sec(t)

    return Worker(pool, w.lane, w.name, sec(w.started), opt(w.init_started),
                  opt(w.init_finished), w.init_error, opt(w.exited))


def _renumber(e: Event, calls: dict[int, _Call]) -> Event:
    if e.call_id is None:
        return e
    call = calls.get(e.call_id)
    return Event(e.kind, e.pool, e.thread, e.start, e.end, e.status,
                 None if call is None else call.call_id)

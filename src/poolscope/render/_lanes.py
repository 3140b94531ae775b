"""The lanes of a timeline, shared by the text and matplotlib renderers.

    >>> from poolscope.trace import Task, TraceData, FINISHED
    >>> t = Task(0, "map", 0, 0, "Thread-3 (worker)", 0, 0.0, 0.0, 0.2, FINISHED,
    ...          caller="MainThread")
    >>> [lane.label for lane in lanes(TraceData([t]))]
    ['worker 0', 'caller']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from .. import _kinds
from .._model import ABANDONED, KILLED, RUNNING, Event, Task, TraceData

CALLBACKS = frozenset({"callback", "error_callback"})
# Pool events marked on the timeline, and which end of the event is the moment.
MARKS = {"close": "start", "terminate": "start", "join": "end", "shutdown": "start"}
# Thread names Python makes up ("Thread-7 (worker)", "Dummy-2"): they change between
# runs, so such threads get a numbered label instead.
_AUTO_NAME = re.compile(r"^(Thread|Dummy)-\d+( \(.*\))?$")

LaneKind = Literal["worker", "callbacks", "caller"]


@dataclass(frozen=True)
class Lane:
    """One row of a timeline: a worker, a pool's result handler, or a caller thread."""

    kind: LaneKind
    pool: int | None  # None for a caller (it may call several pools)
    lane: int | None  # the worker's lane in its pool
    thread: str | None  # the thread's real name, when known
    label: str  # stable across runs: "worker 0", "pool 1 worker 0", "caller"


def task_end(task: Task, now: float) -> float | None:
    """Where a started task's bar ends: its finish, or ``now`` if it has none yet."""
    if task.started is None:
        return None
    if task.finished is not None:
        return task.finished
    return now if task.outcome in (RUNNING, ABANDONED, KILLED) else task.started


def event_end(event: Event, now: float) -> float:
    return now if event.end is None else event.end


def executors(data: TraceData) -> frozenset[int]:
    """The pools of ``data`` whose callbacks have no thread of their own: an executor
    runs a done-callback in whichever thread completes the future (the table's
    ``result_handler``)."""
    return frozenset(p.index for p in data.pools if not _kinds.get(p.kind).result_handler)


def blocks(event: Event) -> bool:
    """Was the thread blocked waiting for a pool during ``event``? The event says
    (``Event.blocking``: an executor's ``map`` only submits)."""
    return event.blocking


def blocking_mask(data: TraceData) -> Any:
    """:func:`blocks` of every event at once, as a bool array."""
    import numpy as np

    return np.asarray(data.events.column("blocking").data, dtype=bool)


def lanes(data: TraceData) -> list[Lane]:
    """Workers by (pool, lane), then each pool's callback lane, then caller threads."""
    import numpy as np

    tasks, events = data.tasks, data.events
    pools = sorted({p.index for p in data.pools} | tasks.distinct("pool")
                   | {w.pool for w in data.workers})
    prefix = len(pools) > 1
    # Whole-array passes over the tasks (2,000,000 of them must cost little).
    lane = tasks.ints("lane")
    codes, values = tasks.codes("worker")
    ran = lane >= 0
    names: dict[tuple[int, int], str | None] = {}
    for p, n, code in distinct_rows(tasks.ints("pool")[ran], lane[ran],
                                    codes[ran].astype(np.int64)):
        names[(p, n)] = None if code < 0 else values[code]
    for w in data.workers:
        names[(w.pool, w.lane)] = w.name
    out = [Lane("worker", p, n, name, f"pool {p} worker {n}" if prefix else f"worker {n}")
           for (p, n), name in sorted(names.items())]
    workers = set(names.values())
    handlers: dict[int, str] = {}
    callbacks = np.flatnonzero(events.mask("kind", *CALLBACKS))
    if len(callbacks):
        e_pool = events.ints("pool")[callbacks]
        threads = events.values("thread") if len(callbacks) == len(events) else None
        for p in sorted(set(e_pool.tolist())):
            first = int(callbacks[np.argmax(e_pool == p)])
            handlers[p] = threads[first] if threads is not None else events[first].thread
        handlers = {p: handlers[p] for p in sorted(handlers)}
    # A ThreadPoolExecutor runs done-callbacks in whichever worker finished the future
    # (or in the caller, for a future already done): its lane has no single thread.
    execs = executors(data)
    out += [Lane("callbacks", p, None, None if p in execs else handlers[p],
                 f"pool {p} callbacks" if prefix else "callbacks") for p in sorted(handlers)]
    out += _callers(data, workers | {t for p, t in handlers.items() if p not in execs}, execs)
    return out


def _callers(data: TraceData, exclude: set[str | None],
             execs: frozenset[int] = frozenset()) -> list[Lane]:
    # Threads in order of their first appearance: submissions and blocking waits.
    seen: dict[str, float] = {}
    for caller, submitted in _earliest(data.tasks, "caller", data.tasks.floats("submitted")):
        if caller and caller not in exclude:
            seen[caller] = min(seen.get(caller, submitted), submitted)
    mask = blocking_mask(data)
    events = data.events.take(mask) if not mask.all() else data.events
    for thread, start in _earliest(events, "thread", events.floats("start")):
        if thread not in exclude:
            seen[thread] = min(seen.get(thread, start), start)
    out, number = [], 0
    for name in sorted(seen, key=lambda n: (seen[n], n)):
        if name == "MainThread":
            label = "caller"
        elif _AUTO_NAME.match(name):
            number += 1
            label = f"caller {number}"
        else:
            label = name
        out.append(Lane("caller", None, None, name, label))
    return out


def _earliest(table: Any, name: str, times: Any) -> list[tuple[Any, float]]:
    """(value, earliest time) for each distinct value of the string column ``name``."""
    import numpy as np

    codes, values = table.codes(name)
    out = []
    for code in np.flatnonzero(np.bincount(codes.astype(np.int64) + 1)).tolist():
        out.append((None if code == 0 else values[code - 1],
                    float(times[codes == code - 1].min())))
    return out


def blocked_rows(data: TraceData, thread: str) -> Any:
    """The rows of the events during which ``thread`` was blocked waiting for a pool."""
    import numpy as np

    return np.flatnonzero(blocking_mask(data) & data.events.mask("thread", thread))


def blocked(data: TraceData, thread: str) -> Any:
    """The events during which ``thread`` was blocked waiting for a pool."""
    return data.events.take(blocked_rows(data, thread))


def distinct_rows(*columns: Any) -> list[tuple[int, ...]]:
    """The distinct rows of some int arrays of equal length (sorted): one bincount when
    their values are small, as lanes and codes are."""
    import numpy as np

    if not len(columns[0]):
        return []
    lows = [int(c.min()) for c in columns]
    sizes = [int(c.max()) - lo + 1 for c, lo in zip(columns, lows)]
    space = 1
    for size in sizes:
        space *= size
    if space <= 10_000_000:
        key = np.zeros(len(columns[0]), dtype=np.int64)
        for c, lo, size in zip(columns, lows, sizes):
            key = key * size + (c - lo)
        found = np.flatnonzero(np.bincount(key, minlength=space))
    else:
        stacked = np.stack(columns, axis=1)
        return sorted(set(map(tuple, stacked.tolist())))
    out = []
    for k in found.tolist():
        row = []
        for lo, size in zip(reversed(lows), reversed(sizes)):
            k, v = divmod(k, size)
            row.append(v + lo)
        out.append(tuple(reversed(row)))
    return out


def item_char(n: int) -> str:
    """``0``-``9``, then ``a``-``z``, then ``#``.

    >>> item_char(3), item_char(10), item_char(36)
    ('3', 'a', '#')
    """
    return "0123456789abcdefghijklmnopqrstuvwxyz"[n] if 0 <= n < 36 else "#"

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
from operator import attrgetter
from typing import Literal

from ..trace import ABANDONED, KILLED, RUNNING, Event, Task, TraceData

# Events during which a caller thread is blocked waiting for the pool (but see
# blocks(): a ThreadPoolExecutor's "map" only submits).
BLOCKING = frozenset({"apply", "map", "starmap", "get", "wait", "next", "join",
                      "result", "exception", "shutdown"})
CALLBACKS = frozenset({"callback", "error_callback"})
# Pool events marked on the timeline, and which end of the event is the moment.
MARKS = {"close": "start", "terminate": "start", "join": "end", "shutdown": "start"}
# Thread names Python makes up ("Thread-7 (worker)", "Dummy-2"): they change between
# runs, so such threads get a numbered label instead.
_AUTO_NAME = re.compile(r"^(Thread|Dummy)-\d+( \(.*\))?$")

_POOL = attrgetter("pool")
_WORKER = attrgetter("pool", "lane", "worker")
_CALLER = attrgetter("caller", "submitted")
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
    """The pools of ``data`` that are ThreadPoolExecutors."""
    return frozenset(p.index for p in data.pools if p.kind == "ThreadPoolExecutor")


def blocks(event: Event, executor_pools: frozenset[int]) -> bool:
    """Was the thread blocked waiting for a pool during ``event``? An executor's
    ``map`` submits its items and returns: the caller is not waiting then."""
    return event.kind in BLOCKING and not (event.kind == "map" and event.pool in executor_pools)


def lanes(data: TraceData) -> list[Lane]:
    """Workers by (pool, lane), then each pool's callback lane, then caller threads."""
    pools = sorted({p.index for p in data.pools} | set(map(_POOL, data.tasks))
                   | {w.pool for w in data.workers})
    prefix = len(pools) > 1
    # One C-level pass over the tasks (100,000 of them must cost little).
    names: dict[tuple[int, int], str | None] = {
        (p, n): name for p, n, name in set(map(_WORKER, data.tasks)) if n is not None}
    for w in data.workers:
        names[(w.pool, w.lane)] = w.name
    out = [Lane("worker", p, n, name, f"pool {p} worker {n}" if prefix else f"worker {n}")
           for (p, n), name in sorted(names.items())]
    workers = set(names.values())
    handlers: dict[int, str] = {}
    for e in data.events:
        if e.kind in CALLBACKS:
            handlers.setdefault(e.pool, e.thread)
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
    for caller, submitted in set(map(_CALLER, data.tasks)):
        if caller and caller not in exclude:
            seen[caller] = min(seen.get(caller, submitted), submitted)
    for e in data.events:
        if blocks(e, execs) and e.thread not in exclude:
            seen[e.thread] = min(seen.get(e.thread, e.start), e.start)
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


def blocked(data: TraceData, thread: str) -> list[Event]:
    """The events during which ``thread`` was blocked waiting for a pool."""
    execs = executors(data)
    return [e for e in data.events if e.thread == thread and blocks(e, execs)]


def item_char(n: int) -> str:
    """``0``-``9``, then ``a``-``z``, then ``#``.

    >>> item_char(3), item_char(10), item_char(36)
    ('3', 'a', '#')
    """
    return "0123456789abcdefghijklmnopqrstuvwxyz"[n] if 0 <= n < 36 else "#"

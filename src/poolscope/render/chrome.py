"""Chrome/Perfetto trace-event export: open the file in https://ui.perfetto.dev or
chrome://tracing.

    >>> from poolscope.trace import Trace, Task, FINISHED
    >>> t = Task(0, "map", 0, 3, "Thread-1 (worker)", 0, 0.0, 0.1, 0.3, FINISHED)
    >>> doc = chrome_trace(Trace.from_records([t]))
    >>> [(e["ph"], e["name"]) for e in doc["traceEvents"] if e["ph"] != "M"]
    [('X', 'map[3]'), ('b', 'queued map[3]'), ('e', 'queued map[3]')]

Layout: one process per pool (pid 1, 2, ...), one thread per worker, result handler
and caller thread, numbered 1, 2, ... within it; Perfetto mishandles real 64-bit
thread idents, and names come from ``process_name``/``thread_name`` metadata events.
Tasks, blocking calls and callbacks are complete (``X``) events; pool events are
instant (``i``) events; each queue wait (submitted -> started) is an async
``b``/``e`` pair on the pool's "queue" track, since waits overlap without nesting.
Format reference: the "Trace Event Format" document (Google, 2016).

The export reads the trace's columns (``data.tasks.values(...)``), never builds a
``Task`` or ``Event`` per row; whether a thread was blocked is the event's fact
(``Event.blocking``, the ``blocking`` column), not derived from its kind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from .._model import ABANDONED, KILLED, NEVER_STARTED, RUNNING
from ._lanes import CALLBACKS, blocking_mask, lanes

if TYPE_CHECKING:
    from ..trace import Trace

FORMAT_VERSION = 1  # of what poolscope puts in otherData and args
_US = 1e6  # the format's times are microseconds


@dataclass(frozen=True)
class TraceEvent:
    """One trace event; None fields are left out of the JSON."""

    name: str
    ph: str  # X complete, i instant, b/e async begin/end, M metadata
    pid: int
    tid: int
    ts: float = 0.0
    dur: float | None = None
    cat: str | None = None
    id: int | None = None
    s: str | None = None  # scope of an instant event: "t" thread, "p" process
    args: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies, 10x slower on 100,000 events.
        return {k: v for k in _FIELDS if (v := getattr(self, k)) is not None}


_FIELDS = tuple(f.name for f in fields(TraceEvent))


def chrome_trace(trace: Trace, path: Any = None) -> dict:
    """The trace as a Chrome trace-event document (also written to ``path``)."""
    from .._version import __version__

    data = trace.data()
    events = _events(data)
    tasks = data.tasks
    never = tasks.take(tasks.mask("outcome", NEVER_STARTED))
    doc = {
        "traceEvents": [e.to_dict() for e in events],
        "displayTimeUnit": "ms",
        "otherData": {
            "generator": f"poolscope {__version__}",
            "poolscope_format": FORMAT_VERSION,
            "duration_s": data.duration,
            "never_started": [f"{call}[{index}] ({note})" for call, index, note in zip(
                never.values("call"), never.values("index"), never.values("note"))],
        },
    }
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f)
    return doc


def _pairs(table: Any, first: str, second: str) -> set:
    """The distinct (``first``, ``second``) value pairs of a table's rows."""
    import numpy as np

    if not len(table):
        return set()
    a, a_values = table.codes(first) if _is_str(table, first) else (table.ints(first), None)
    b, b_values = table.codes(second)
    key = np.unique(np.stack([a, b], axis=1), axis=0).tolist()
    b_lookup = list(b_values) + [None]  # code -1: None
    return {(x if a_values is None else a_values[x], b_lookup[y]) for x, y in key}


def _is_str(table: Any, name: str) -> bool:
    return table.column(name).kind in ("str", "optstr")


def _events(data) -> list[TraceEvent]:
    now = data.duration
    tasks, events = data.tasks, data.events
    pools = sorted({p.index for p in data.pools} | tasks.distinct("pool"))
    pid = {p: n + 1 for n, p in enumerate(pools)}
    tids: dict[tuple[int, str], int] = {}  # (pid, thread name) -> small tid
    out: list[TraceEvent] = []

    def tid(p: int, thread: str, sort: int | None = None) -> int:
        key = (p, thread)
        if key not in tids:
            tids[key] = len([k for k in tids if k[0] == p]) + 1
            out.append(TraceEvent("thread_name", "M", p, tids[key], args={"name": thread}))
            out.append(TraceEvent("thread_sort_index", "M", p, tids[key],
                                  args={"sort_index": tids[key] if sort is None else sort}))
        return tids[key]

    sizes = {p.index: p.size for p in data.pools}
    kinds = {p.index: p.kind for p in data.pools}
    for p in pools:
        name = f"{kinds.get(p, 'ThreadPool')} {p}" + (
            f" ({sizes[p]} workers)" if p in sizes else "")
        out.append(TraceEvent("process_name", "M", pid[p], 0, args={"name": name}))
        out.append(TraceEvent("process_sort_index", "M", pid[p], 0, args={"sort_index": p}))
    touched = _pairs(tasks, "pool", "caller") | _pairs(events, "pool", "thread")
    for lane in lanes(data):  # tids in lane order: workers, result handler, then callers
        if lane.kind == "callbacks" and lane.thread is None:
            continue  # an executor's: its callbacks go on the threads that ran them
        if lane.kind != "caller":
            assert lane.pool is not None
            tid(pid[lane.pool], lane.thread or lane.label)
        else:
            for p in pools:
                if (p, lane.thread) in touched:
                    tid(pid[p], lane.thread or lane.label)
    out += _task_events(data, pid, tid, now)
    out += _thread_events(data, pid, tid, now)
    return out


_TASK_COLUMNS = ("pool", "call", "call_id", "index", "worker", "lane", "submitted", "started",
                 "finished", "outcome", "error", "chunk")
_OPEN = (RUNNING, ABANDONED, KILLED)  # a bar without a finish runs to the trace's end


def _task_events(data, pid, tid, now) -> list[TraceEvent]:
    import numpy as np

    out = []
    tasks = data.tasks
    rows = np.flatnonzero(~np.isnan(tasks.floats("started")))  # the tasks that started
    ran = tasks.take(rows)
    cols = [ran.values(name) for name in _TASK_COLUMNS]
    for n, pool, call, call_id, index, worker, lane, submitted, started, finished, outcome, \
            error, chunk in zip(rows.tolist(), *cols):
        p = pid[pool]
        # Where the bar ends (as _lanes.task_end): its finish, else now if still open.
        end = finished if finished is not None else now if outcome in _OPEN else started
        args = {"call": call, "call_id": call_id, "index": index,
                "outcome": outcome, "error": error, "chunk": chunk}
        out.append(TraceEvent(f"{call}[{index}]", "X", p,
                              tid(p, worker or f"worker {lane}"), started * _US,
                              ((end or started) - started) * _US, call,
                              args={k: v for k, v in args.items() if v is not None}))
        if started > submitted:  # the queue wait, on the pool's async "queue" track
            name = f"queued {call}[{index}]"
            q = tid(p, "queue", sort=10_000)
            out.append(TraceEvent(name, "b", p, q, submitted * _US, cat="queue", id=n + 1))
            out.append(TraceEvent(name, "e", p, q, started * _US, cat="queue", id=n + 1))
    return out


_EVENT_COLUMNS = ("kind", "pool", "thread", "start", "end", "status", "call_id")


def _thread_events(data, pid, tid, now) -> list[TraceEvent]:
    """Blocking calls, submissions, callbacks, initializers and pool events."""
    out = []
    events = data.events
    cols = [events.values(name) for name in _EVENT_COLUMNS]
    blocking = blocking_mask(data).tolist() if len(events) else []
    for kind, pool, thread, start, end_, status, call_id, blocks in zip(*cols, blocking):
        p = pid.get(pool)
        if p is None:
            continue
        end = now if end_ is None else end_
        args = {"call_id": call_id, "status": status}
        args = {k: v for k, v in args.items() if v is not None}
        if blocks or kind in CALLBACKS or kind in ("initializer", "created"):
            cat = "callback" if kind in CALLBACKS else "caller" if blocks else kind
            out.append(TraceEvent(kind, "X", p, tid(p, thread), start * _US,
                                  (end - start) * _US, cat, args=args))
        else:  # submissions of async calls, close, terminate, exit, input errors
            scope = "p" if kind in ("close", "terminate", "shutdown") else "t"
            out.append(TraceEvent(kind, "i", p, tid(p, thread), start * _US,
                                  cat="pool", s=scope, args=args))
        if kind == "join" and end_ is not None:
            out.append(TraceEvent("join returned", "i", p, tid(p, thread), end_ * _US,
                                  cat="pool", s="p"))
    return out

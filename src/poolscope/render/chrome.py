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
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from ..trace import NEVER_STARTED
from ._lanes import CALLBACKS, blocks, executors, lanes, task_end

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
    from .. import __version__

    data = trace.data()
    events = _events(data)
    doc = {
        "traceEvents": [e.to_dict() for e in events],
        "displayTimeUnit": "ms",
        "otherData": {
            "generator": f"poolscope {__version__}",
            "poolscope_format": FORMAT_VERSION,
            "duration_s": data.duration,
            "never_started": [f"{t.call}[{t.index}] ({t.note})" for t in data.tasks
                              if t.outcome == NEVER_STARTED],
        },
    }
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f)
    return doc


def _events(data) -> list[TraceEvent]:
    now = data.duration
    pools = sorted({p.index for p in data.pools} | {t.pool for t in data.tasks})
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
    touched = ({(t.pool, t.caller) for t in data.tasks}
               | {(e.pool, e.thread) for e in data.events})
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


def _task_events(data, pid, tid, now) -> list[TraceEvent]:
    out = []
    for n, t in enumerate(data.tasks):
        if t.started is None:
            continue
        p = pid[t.pool]
        end = task_end(t, now)
        args = {"call": t.call, "call_id": t.call_id, "index": t.index,
                "outcome": t.outcome, "error": t.error, "chunk": t.chunk}
        out.append(TraceEvent(f"{t.call}[{t.index}]", "X", p,
                              tid(p, t.worker or f"worker {t.lane}"), t.started * _US,
                              ((end or t.started) - t.started) * _US, t.call,
                              args={k: v for k, v in args.items() if v is not None}))
        if t.started > t.submitted:  # the queue wait, on the pool's async "queue" track
            name = f"queued {t.call}[{t.index}]"
            q = tid(p, "queue", sort=10_000)
            out.append(TraceEvent(name, "b", p, q, t.submitted * _US, cat="queue", id=n + 1))
            out.append(TraceEvent(name, "e", p, q, t.started * _US, cat="queue", id=n + 1))
    return out


def _thread_events(data, pid, tid, now) -> list[TraceEvent]:
    """Blocking calls, submissions, callbacks, initializers and pool events."""
    out = []
    execs = executors(data)
    for e in data.events:
        p = pid.get(e.pool)
        if p is None:
            continue
        end = now if e.end is None else e.end
        args = {"call_id": e.call_id, "status": e.status}
        args = {k: v for k, v in args.items() if v is not None}
        blocking = blocks(e, execs)
        if blocking or e.kind in CALLBACKS or e.kind in ("initializer", "created"):
            cat = ("callback" if e.kind in CALLBACKS else "caller" if blocking
                   else e.kind)
            out.append(TraceEvent(e.kind, "X", p, tid(p, e.thread), e.start * _US,
                                  (end - e.start) * _US, cat, args=args))
        else:  # submissions of async calls, close, terminate, exit, input errors
            scope = "p" if e.kind in ("close", "terminate", "shutdown") else "t"
            out.append(TraceEvent(e.kind, "i", p, tid(p, e.thread), e.start * _US,
                                  cat="pool", s=scope, args=args))
        if e.kind == "join" and e.end is not None:
            out.append(TraceEvent("join returned", "i", p, tid(p, e.thread), e.end * _US,
                                  cat="pool", s="p"))
    return out

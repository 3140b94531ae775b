"""The cells of the text timeline: times rounded to columns, tasks packed onto rows.

    >>> Grid(origin=0.0, tick=0.1, now=1.0).col(0.2031)
    2
"""

from __future__ import annotations

import math
from collections import defaultdict

from ..trace import (
    ABANDONED,
    CANCELLED,
    CANCELLED_BY_MAP,
    CANCELLED_BY_SHUTDOWN,
    FAILED,
    KILLED,
    KILLED_WITH_CHUNK,
    TERMINATED,
    Task,
    TraceData,
)
from ._lanes import CALLBACKS, MARKS, Lane, blocked, event_end, item_char, task_end

_MARK_CHARS = {"close": "C", "terminate": "T", "join": "J", "shutdown": "S"}
_CANCELLED = (CANCELLED, CANCELLED_BY_MAP, CANCELLED_BY_SHUTDOWN)


class Grid:
    """Maps times to columns (rounded to the nearest tick) and fills rows of cells."""

    def __init__(self, origin: float, tick: float, now: float):
        self.origin, self.tick, self.now = origin, tick, now
        self.limit: int | None = None  # first column not stored (``width`` cuts there)

    def cols(self, a: int, b: int) -> range:
        return range(a, b if self.limit is None else min(b, self.limit))

    def col(self, t: float) -> int:
        # floor(x + 0.5), not round(): Python's round() goes to even on ties.
        return max(0, math.floor((t - self.origin) / self.tick + 0.5))

    def actual(self, data: TraceData) -> dict[tuple, list[Task]]:
        """Started tasks by the (pool, lane) of the thread that ran them."""
        out: dict[tuple, list[Task]] = defaultdict(list)
        for t in data.tasks:
            if t.started is not None:
                out[(t.pool, t.lane)].append(t)
        return out

    def pack(self, data: TraceData, found: list[Lane]) -> dict[tuple, list[Task]]:
        """Started tasks packed onto each pool's rows, in a fixed order: each unit (a
        task, or the items of a chunk) goes to the lowest row free at its start."""
        units: dict[tuple, list[Task]] = defaultdict(list)
        for t in data.tasks:
            if t.started is not None:
                key = (id(t),) if t.chunk is None else (t.pool, t.lane, t.call_id, t.chunk)
                units[key].append(t)
        # The unit its thread ran just before: rounding can make short tasks of one
        # thread overlap, and they must not then look parallel (they share a row, "+").
        previous: dict[tuple, tuple] = {}
        last: dict[tuple, tuple] = {}
        for key, unit in sorted(units.items(), key=lambda kv: kv[1][0].started):  # type: ignore
            thread = (unit[0].pool, unit[0].lane)
            if thread in last:
                previous[key] = last[thread]
            last[thread] = key
        free: dict[int, dict[int | None, int]] = defaultdict(dict)  # pool -> row -> col
        for lane in found:
            if lane.kind == "worker" and lane.pool is not None:
                free[lane.pool][lane.lane] = 0
        out: dict[tuple, list[Task]] = defaultdict(list)
        placed: dict[tuple, tuple[int | None, int]] = {}  # unit -> (row, end column)
        for key, unit in sorted(units.items(), key=lambda kv: (
                self.col(kv[1][0].started), kv[1][0].call_id, kv[1][0].index)):  # type: ignore
            a = self.col(unit[0].started)  # type: ignore[arg-type]
            b = max(max(self.col(task_end(t, self.now) or 0.0) for t in unit), a + 1)
            rows = free[unit[0].pool]
            fits = [n for n in rows if rows[n] <= a]  # rows are in lane order
            before = placed.get(previous.get(key, ()))
            if before is not None and before[1] > a:
                n = before[0]
            else:
                n = fits[0] if fits else min(rows, key=lambda n: rows[n])  # overlap: "+"
            rows[n] = max(rows[n], b)
            placed[key] = (n, b)
            out[(unit[0].pool, n)].extend(unit)
        return out

    def lane(self, data: TraceData, lane: Lane, cells: str,
             tasks: dict[tuple, list[Task]]) -> dict[int, str]:
        row: dict[int, str] = {}
        if lane.kind == "worker":
            for t in tasks.get((lane.pool, lane.lane), ()):
                ch = ("X" if t.outcome == FAILED else "!" if t.outcome == ABANDONED
                      else "K" if t.outcome == KILLED
                      else item_char(t.index if cells == "index" else t.call_id))
                self._fill(row, t.started, task_end(t, self.now), ch)  # type: ignore[arg-type]
        elif lane.kind == "callbacks":
            for e in data.events:
                if e.pool == lane.pool and e.kind in CALLBACKS:
                    ch = "c" if e.kind == "callback" else "E"
                    self._fill(row, e.start, event_end(e, self.now), ch)
        else:
            for e in blocked(data, lane.thread or ""):
                a, b = self.col(e.start), self.col(event_end(e, self.now))
                row.update((c, "=") for c in self.cols(a, b))
        return row

    def _fill(self, row: dict[int, str], start: float, end: float | None, ch: str) -> None:
        # At least one cell, so that a short task is still seen.
        a = self.col(start)
        b = self.col(start if end is None else end)
        for c in self.cols(a, max(b, a + 1)):
            row[c] = "+" if c in row else ch

    def queued(self, data: TraceData) -> dict[int, str]:
        counts: dict[int, int] = defaultdict(int)
        stops = {e.pool: e.start for e in reversed(data.events) if e.kind == "terminate"}
        cancels = {(e.pool, e.call_id): e.start for e in reversed(data.events)
                   if e.kind == "cancel"}
        for t in data.tasks:
            end = t.started
            if end is None:
                if t.note in (TERMINATED, KILLED_WITH_CHUNK):
                    end = stops.get(t.pool, self.now)
                elif t.note in _CANCELLED:
                    end = cancels.get((t.pool, t.call_id), self.now)
                elif t.outcome == FAILED:  # never sent to a worker process
                    end = t.submitted
                else:
                    end = self.now
            for c in self.cols(self.col(t.submitted), self.col(end)):
                counts[c] += 1
        return {c: str(n) if n < 10 else "+" for c, n in counts.items() if n}

    def marks(self, data: TraceData) -> dict[int, dict[int, str]]:
        rows: dict[int, dict[int, str]] = {}
        for e in data.events:
            when = MARKS.get(e.kind)
            t = e.start if when == "start" else e.end
            if when is None or t is None:
                continue
            row = rows.setdefault(e.pool, {})
            c = self.col(t)
            while c in row:  # "TJ": terminate() then join() in the same cell
                c += 1
            if self.limit is None or c < self.limit:
                row[c] = _MARK_CHARS[e.kind]
        return dict(sorted(rows.items()))

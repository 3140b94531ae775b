"""The cells of the text timeline: times rounded to columns, tasks packed onto rows.

    >>> Grid(origin=0.0, tick=0.1, now=1.0).col(0.2031)
    2
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .._model import (
    ABANDONED,
    CANCELLED,
    CANCELLED_BY_MAP,
    CANCELLED_BY_SHUTDOWN,
    FAILED,
    KILLED,
    KILLED_WITH_CHUNK,
    RUNNING,
    TERMINATED,
    TraceData,
)
from ._lanes import CALLBACKS, MARKS, Lane, blocked_rows, distinct_rows, item_char

_MARK_CHARS = {"close": "C", "terminate": "T", "join": "J", "shutdown": "S"}
_CANCELLED = (CANCELLED, CANCELLED_BY_MAP, CANCELLED_BY_SHUTDOWN)


class Grid:
    """Maps times to columns (rounded to the nearest tick) and fills rows of cells.

    Rows are filled from whole arrays (a task's cells are counted with a running sum),
    so 2,000,000 tasks cost seconds, not minutes; only the packing of tasks onto rows
    (:meth:`pack`) is a loop, once per task or chunk, on plain integers.
    """

    def __init__(self, origin: float, tick: float, now: float):
        self.origin, self.tick, self.now = origin, tick, now
        self.limit: int | None = None  # first column not stored (``width`` cuts there)

    def cols(self, a: int, b: int) -> range:
        return range(a, b if self.limit is None else min(b, self.limit))

    def col(self, t: float) -> int:
        # floor(x + 0.5), not round(): Python's round() goes to even on ties.
        return max(0, math.floor((t - self.origin) / self.tick + 0.5))

    def col_of(self, t: Any) -> Any:
        """:meth:`col` of each time in an array (the same float operations)."""
        import numpy as np

        return np.maximum(0, np.floor((t - self.origin) / self.tick + 0.5)).astype(np.int64)

    def _ends(self, data: TraceData) -> Any:
        """Where each task's bar ends (``task_end``), NaN for tasks never started."""
        import numpy as np

        tasks = data.tasks
        started, finished = tasks.floats("started"), tasks.floats("finished")
        end = np.where(np.isnan(finished), np.where(
            tasks.mask("outcome", RUNNING, ABANDONED, KILLED), self.now, started), finished)
        end[np.isnan(started)] = np.nan
        return end

    def actual(self, data: TraceData) -> dict[tuple, Any]:
        """Rows of the started tasks by the (pool, lane) of the thread that ran them."""
        import numpy as np

        tasks = data.tasks
        ran = np.flatnonzero(~np.isnan(tasks.floats("started")))
        pool, lane = tasks.ints("pool")[ran], tasks.ints("lane")[ran]
        out: dict[tuple, Any] = {}
        for p, n in distinct_rows(pool, lane):
            out[(p, n if n >= 0 else None)] = ran[(pool == p) & (lane == n)]
        return out

    def pack(self, data: TraceData, found: list[Lane]) -> dict[tuple, Any]:
        """Rows of the started tasks packed onto each pool's rows, in a fixed order: each
        unit (a task, or the items of a chunk) goes to the lowest row free at its start."""
        import numpy as np

        u = _units(data, self.col_of, self._ends(data))
        if u is None:
            return {}
        rows_of: dict[int, list] = {}  # pool -> [lanes in order, end column of each]
        for lane in found:
            if lane.kind == "worker" and lane.pool is not None:
                rows_of.setdefault(lane.pool, [[], []])
                rows_of[lane.pool][0].append(lane.lane)
                rows_of[lane.pool][1].append(0)
        a_, b_, pool_, prev_ = (x.tolist() for x in (u.a, u.b, u.pool, u.prev))
        row = [0] * len(a_)  # each unit's row (position in its pool's lanes)
        end = [-1] * len(a_)  # each unit's end column, -1 until placed
        for k in u.order.tolist():
            a, b = a_[k], b_[k]
            free = rows_of[pool_[k]][1]
            p = prev_[k]
            if p >= 0 and end[p] > a:
                # The unit its thread ran just before still occupies its row (rounding
                # made them overlap): share that row ("+"), never look parallel.
                n = row[p]
            else:
                for n, f in enumerate(free):  # rows are in lane order
                    if f <= a:
                        break
                else:  # every row busy: the one free soonest (overlap: "+")
                    n = free.index(min(free))
            if free[n] < b:
                free[n] = b
            row[k], end[k] = n, b
        unit_row = np.array(row, dtype=np.int64)[u.unit]
        out: dict[tuple, Any] = {}
        pools = u.pool[u.unit]
        for p, (lanes_, _) in rows_of.items():
            for n, lane_number in enumerate(lanes_):
                hit = u.rows[(pools == p) & (unit_row == n)]
                if len(hit):
                    out[(p, lane_number)] = hit
        return out

    def lane(self, data: TraceData, lane: Lane, cells: str,
             tasks: dict[tuple, Any]) -> dict[int, str]:
        import numpy as np

        if lane.kind == "worker":
            rows = tasks.get((lane.pool, lane.lane), np.zeros(0, dtype=np.int64))
            start, end, chars = self._task_cells(data, cells)
            return self._fill(self.col_of(start[rows]), self.col_of(end[rows]), chars[rows])
        events = data.events
        if lane.kind == "callbacks":
            rows = np.flatnonzero(events.mask("kind", *CALLBACKS)
                                  & (events.ints("pool") == lane.pool))
            kinds = events.take(rows).mask("kind", "callback")
            start, end = events.floats("start")[rows], events.floats("end")[rows]
            end = np.where(np.isnan(end), self.now, end)
            return self._fill(self.col_of(start), self.col_of(end),
                              np.where(kinds, "c", "E"))
        rows = blocked_rows(data, lane.thread or "")
        start, end = events.floats("start")[rows], events.floats("end")[rows]
        a, b = self.col_of(start), self.col_of(np.where(np.isnan(end), self.now, end))
        covered = self._count(a, b)
        return dict.fromkeys(np.flatnonzero(covered).tolist(), "=")

    def _task_cells(self, data: TraceData, cells: str) -> tuple[Any, Any, Any]:
        """Start, bar end and character of every task (computed once per rendering)."""
        import numpy as np

        key = (id(data), cells)
        if getattr(self, "_cells_key", None) != key:
            t = data.tasks
            numbers = t.ints("index" if cells == "index" else "call_id")
            chars = np.array([item_char(n) for n in range(36)] + ["#", "X", "!", "K"])
            which = np.where((numbers >= 0) & (numbers < 36), numbers, 36)
            for code, name in ((37, FAILED), (38, ABANDONED), (39, KILLED)):
                which[t.mask("outcome", name)] = code
            self._cells = (t.floats("started"), self._ends(data), chars[which])
            self._cells_key = key
        return self._cells

    def _count(self, a: Any, b: Any, weight: Any = None) -> Any:
        """How many of the ranges ``a[i]:b[i]`` (cut at ``limit``) cover each column
        (weighted: the sum of their weights)."""
        import numpy as np

        if self.limit is not None:
            b = np.minimum(b, self.limit)
        keep = a < b
        a, b = a[keep], b[keep]
        if not len(a):
            return np.zeros(0, dtype=np.int64)
        w = np.ones(len(a), dtype=np.int64) if weight is None else weight[keep]
        size = int(b.max()) + 1
        return np.cumsum(np.bincount(a, w, size) - np.bincount(b, w, size)).round().astype(
            np.int64)[:size - 1]

    def _fill(self, a: Any, b: Any, chars: Any) -> dict[int, str]:
        """Each item fills its cells from ``a`` to ``b`` (at least one cell, so that a
        short task is still seen); a cell filled twice shows "+"."""
        import numpy as np

        b = np.maximum(b, a + 1)
        count = self._count(a, b)
        ids = np.arange(1, len(a) + 1, dtype=np.int64)  # 1-based: a lone item's id
        which = self._count(a, b, ids)
        cells = np.flatnonzero(count)
        lone = count[cells] == 1
        out = np.where(lone, chars[np.where(lone, which[cells] - 1, 0)] if len(chars) else "",
                       "+")
        return dict(zip(cells.tolist(), out.tolist()))

    def queued(self, data: TraceData) -> dict[int, str]:
        import numpy as np

        tasks, events = data.tasks, data.events
        end = tasks.floats("started").copy()
        waiting = np.isnan(end)
        if waiting.any():
            now = np.full(len(end), self.now)
            stops: dict[int, float] = {}
            cancels: dict[tuple, float] = {}
            marks = np.flatnonzero(events.mask("kind", "terminate", "cancel"))
            for r in marks[::-1].tolist():  # the first of each wins
                e = events[r]
                if e.kind == "terminate":
                    stops[e.pool] = e.start
                else:
                    cancels[(e.pool, e.call_id)] = e.start
            pool, call_id = tasks.ints("pool"), tasks.ints("call_id")
            stopped = waiting & tasks.mask("note", TERMINATED, KILLED_WITH_CHUNK)
            stop_at = np.array([stops.get(p, self.now) for p in range(int(pool.max()) + 1)])
            now[stopped] = stop_at[pool[stopped]]
            cancelled = np.flatnonzero(waiting & ~stopped & tasks.mask("note", *_CANCELLED))
            now[cancelled] = [cancels.get((p, c), self.now) for p, c in zip(
                pool[cancelled].tolist(), call_id[cancelled].tolist())]
            failed = waiting & ~stopped & ~tasks.mask("note", *_CANCELLED) & tasks.mask(
                "outcome", FAILED)  # never sent to a worker process
            now[failed] = tasks.floats("submitted")[failed]
            end[waiting] = now[waiting]
        counts = self._count(self.col_of(tasks.floats("submitted")), self.col_of(end))
        return {c: str(n) if n < 10 else "+" for c, n in enumerate(counts.tolist()) if n}

    def marks(self, data: TraceData) -> dict[int, dict[int, str]]:
        import numpy as np

        rows: dict[int, dict[int, str]] = {}
        events = data.events
        for r in np.flatnonzero(events.mask("kind", *MARKS)).tolist():
            e = events[r]
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


@dataclass
class _Units:
    """The started tasks grouped into units (a task, or the started items of a chunk)."""

    rows: Any  # task rows that started, in task order
    unit: Any  # each of those rows' unit
    a: Any  # per unit: start column (of its first task), end column, pool
    b: Any
    pool: Any
    prev: Any  # the unit its thread ran just before (-1: none)
    order: Any  # the units in packing order


def _units(data: TraceData, col_of: Any, ends: Any) -> _Units | None:
    """Whole-array preparation of :meth:`Grid.pack`: units, their columns, the unit
    each thread ran before, and the packing order (by start column, call, index)."""
    import numpy as np

    tasks = data.tasks
    started = tasks.floats("started")
    rows = np.flatnonzero(~np.isnan(started))
    if not len(rows):
        return None
    pool, lane, call_id, index, chunk = (tasks.ints(n)[rows] for n in (
        "pool", "lane", "call_id", "index", "chunk"))
    # A chunk's items share a unit; any other task is a unit of its own.
    key = np.full(len(rows), -1, dtype=np.int64)
    chunked = chunk >= 0
    if chunked.any():
        key[chunked] = _group_ids(pool[chunked], lane[chunked], call_id[chunked],
                                  chunk[chunked])
    # Units numbered in order of their first task (as a dict filled in task order).
    own = ~chunked
    key[own] = np.arange(int(own.sum())) + (int(key.max()) + 1 if chunked.any() else 0)
    first_row = np.full(int(key.max()) + 1, len(rows), dtype=np.int64)
    np.minimum.at(first_row, key, np.arange(len(rows)))
    numbering = np.argsort(first_row, kind="stable")
    unit_of_key = np.empty_like(numbering)
    unit_of_key[numbering] = np.arange(len(numbering))
    unit = unit_of_key[key]
    first = first_row[numbering]  # the first task (position in ``rows``) of each unit
    a = col_of(started[rows][first])
    b = np.full(len(first), 0, dtype=np.int64)
    np.maximum.at(b, unit, col_of(np.nan_to_num(ends[rows], nan=0.0)))
    b = np.maximum(b, a + 1)
    u_pool, u_lane = pool[first], lane[first]
    # The unit each thread ran just before: by start time, then as found.
    by_start = np.argsort(started[rows][first], kind="stable")
    thread = u_pool[by_start] * (int(u_lane.max()) + 2) + (u_lane[by_start] + 1)
    by_thread = np.argsort(thread, kind="stable")
    chain, thread = by_start[by_thread], thread[by_thread]
    same = np.flatnonzero(thread[1:] == thread[:-1]) + 1
    prev = np.full(len(first), -1, dtype=np.int64)
    prev[chain[same]] = chain[same - 1]
    order = np.lexsort((index[first], call_id[first], a))
    return _Units(rows, unit, a, b, u_pool, prev, order)


def _group_ids(*columns: Any) -> Any:
    """A small integer for each distinct row of the int arrays ``columns`` (>= 0)."""
    import numpy as np

    sizes = [int(c.max()) + 1 for c in columns]
    space = 1
    for size in sizes:
        space *= size
    if space < 2**62:  # one int64 key: a stable sort merges the sorted runs fast
        key = np.zeros(len(columns[0]), dtype=np.int64)
        for c, size in zip(columns, sizes):
            key = key * size + c
        order = np.argsort(key, kind="stable")
        new = np.concatenate([[True], key[order][1:] != key[order][:-1]])
    else:
        order = np.lexsort(columns[::-1])
        stacked = np.stack([c[order] for c in columns])
        new = np.concatenate([[True], (stacked[:, 1:] != stacked[:, :-1]).any(axis=0)])
    ids = np.empty(len(order), dtype=np.int64)
    ids[order] = np.cumsum(new) - 1
    return ids

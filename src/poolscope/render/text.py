"""The timeline as characters: for terminals, doctests and checked notebook output.

    >>> from poolscope.trace import Trace, Task, FINISHED
    >>> tasks = [Task(0, "map", 0, i, f"w{i % 2}", i % 2, 0.0, 0.2 * (i // 2),
    ...               0.2 * (i // 2) + 0.2, FINISHED, caller="MainThread") for i in range(4)]
    >>> print(text_timeline(Trace.from_records(tasks), tick=0.1))
    time (s)  0
              |...
    worker 0  0022
    worker 1  1133
    legend: 1 char = 0.1 s from the first submission, 0-9a-z item index

Quantisation: time 0 is the first submission; a task fills the cells from its start to
its end, each *rounded to the nearest tick* (at least one cell). So a ``sleep(0.2)``
task started at 0.2031 s fills cells 2 and 3 exactly like one started at 0.2 s: any
jitter under half a tick (50 ms at the default 0.1 s), accumulated along a lane, leaves
the characters unchanged. Which thread takes which task varies between runs, so tasks
are packed onto worker rows in a fixed order (``order="stable"``, see below).
Waits shorter than half a tick vanish from caller rows; instants (callbacks, close,
terminate, join) go to the nearest cell boundary. Durations that are not near a
multiple of the tick (a 0.05 s sleep with tick 0.1) are inherently unstable.

Measured (CPython 3.11, 2 cores; ``with ThreadPool(4)``, ``map(time.sleep, [0.2] * 12)``,
30 recordings each, counting distinct ``trace.text()`` outputs): no extra load, 1
distinct output; 1 or 2 CPU-burning processes alongside (up to 100% of the cores), 1;
4 burning processes (the cores 3x oversubscribed), 2 to 6: a worker thread was then
not scheduled for over 50 ms, so a row really did shift by one tick; a CPU-burning
*thread in the same process* (GIL contention), 2 to 4: the worker rows stayed put but
``map`` returned a tick late (caller row and ``T`` one cell longer) in 2 to 4 runs.
With ``order="actual"`` (the real thread per row) 24-26 distinct outputs of 30.
Reproduce with ``python benchmarks/bench_render.py --stability`` (no extra load).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from .._model import TraceData
from .._options import choice, number
from ._lanes import blocked_rows
from ._lanes import lanes as all_lanes
from ._textgrid import Grid
from ._textparts import auto_tick, legend, notes, ruler

if TYPE_CHECKING:
    from ..trace import Trace

MAX_COLUMNS = 20_000  # without ``width``: a guard against tick=1e-6 on a long trace


def _check_options(tick, width, lanes, cells, show_wait, order) -> None:
    number("tick", tick, 0, above=True, seconds=True, none=True)
    number("width", width, 10, whole=True, none=True)
    choice("lanes", lanes, ("all", "workers"))
    choice("cells", cells, ("auto", "index", "call"))
    choice("show_wait", show_wait, (True, False))
    choice("order", order, ("stable", "actual"))


def text_timeline(trace: Trace, tick: float | None = 0.1, width: int | None = None,
                  lanes: Literal["all", "workers"] = "all",
                  cells: Literal["auto", "index", "call"] = "auto",
                  show_wait: bool = False,
                  order: Literal["stable", "actual"] = "stable") -> str:
    """Render ``trace`` as text, one row per lane, one character per ``tick`` seconds.

    ``width`` cuts rows to that many cells (with ``tick=None`` it picks the tick
    instead, default 72 cells); ``lanes="workers"`` leaves out callers, callbacks and
    pool marks; ``cells="call"`` shows the call number instead of the item index
    (``"auto"``: the call number when every call ran one task, as in an ``apply`` loop);
    ``show_wait`` adds a ``queued`` row counting tasks submitted but not started.

    Which worker thread takes which task is up to the OS scheduler and changes from
    run to run, so by default (``order="stable"``) each pool's tasks are packed onto
    its worker rows in a fixed order (by start, then call and item; a chunk stays on
    one row): row ``worker 1`` is *a* worker, not necessarily lane 1.
    ``order="actual"`` draws each task on the row of the thread that ran it.
    """
    _check_options(tick, width, lanes, cells, show_wait, order)
    data = trace.data()
    if not data.tasks:
        return "no tasks recorded"
    origin = float(data.tasks.floats("submitted").min())
    if cells == "auto":
        calls = len(data.tasks.distinct("call_id"))
        cells = "call" if calls > 1 and calls == len(data.tasks) else "index"
    if tick is None:
        tick = auto_tick(data.duration - origin, width or 72)
    last = max(data.duration, _latest(data.tasks.floats("finished")),
               _latest(data.events.floats("end")))
    grid = Grid(origin, tick, data.duration)
    full = grid.col(last) + 1
    if width is None and full > MAX_COLUMNS:
        raise ValueError(f"tick={tick!r} needs {full} columns; pass a larger tick or width=")
    grid.limit = None if width is None else width + 1  # cells past it are never stored
    rows = _rows(data, grid, lanes, cells, show_wait, order)
    ncols = max((max(r, default=0) for _, _, r in rows), default=0) + 1
    shown = ncols if width is None else min(ncols, width)
    pad = max(len("time (s)"), *(len(label) for _, label, _ in rows)) + 2
    lines = ruler(tick, shown, pad)
    lines += [(label.ljust(pad) + "".join(r.get(c, " ") for c in range(shown))).rstrip()
              for _, label, r in rows]
    if shown < ncols:
        lines.append(f"(cut at {shown * tick:g} s of {round(last - origin, 3):g} s: "
                     "pass a larger tick or width)")
    lines += notes(data)
    lines += legend(tick, cells, _symbols(rows, shown), show_wait)
    return "\n".join(lines)


# The legend's symbols each kind of row can show (not the item characters: item 12
# is "c" on a worker row, which is not a callback).
_SYMBOLS = {"worker": "X!K+#", "callbacks": "cE+", "caller": "=", "marks": "CTJS",
            "queued": ""}


def _rows(data: TraceData, grid: Grid, lanes: str, cells: str, show_wait: bool,
          order: str) -> list[tuple[str, str, dict[int, str]]]:
    """(kind, label, column -> character) of each row, top to bottom."""
    found = all_lanes(data)
    tasks = grid.pack(data, found) if order == "stable" else grid.actual(data)
    # A caller row only for threads that blocked at all (however briefly: a row's
    # presence must not depend on timing).
    rows = [(lane.kind, lane.label, grid.lane(data, lane, cells, tasks)) for lane in found
            if lane.kind == "worker" or (lanes == "all" and (
                lane.kind == "callbacks" or len(blocked_rows(data, lane.thread or ""))))]
    if show_wait:
        rows.append(("queued", "queued", grid.queued(data)))
    if lanes == "all":
        rows += [("marks", f"pool {p}" if len(data.pools) > 1 else "pool", row)
                 for p, row in grid.marks(data).items()]
    return rows


def _latest(times) -> float:
    """The largest of ``times`` that is not NaN (-inf if none)."""
    import numpy as np

    times = times[~np.isnan(times)]
    return float(times.max()) if len(times) else -math.inf


def _symbols(rows: list[tuple[str, str, dict[int, str]]], shown: int) -> set[str]:
    return {ch for kind, _, row in rows for c, ch in row.items()
            if c < shown and ch in _SYMBOLS[kind]}

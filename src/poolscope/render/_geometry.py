"""Numbers for the matplotlib timeline: rectangles, colours and lines as numpy arrays.

Kept apart from the drawing so the live view can recompute them and swap them into
existing collections. Imported only when plotting (it imports numpy). The colours and
styles themselves are plain data in ``_palette``.

    >>> from poolscope.trace import Task, TraceData, FINISHED
    >>> t = Task(0, "map", 0, 0, "w", 0, 0.0, 0.1, 0.3, FINISHED, caller="MainThread")
    >>> g = layout(TraceData([t], duration=0.3))
    >>> g.bars["task"].verts.shape, [lane.label for lane in g.lanes]
    ((1, 4, 2), ['worker 0', 'caller'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._model import ABANDONED, KILLED, RUNNING, TraceData
from ._lanes import CALLBACKS, MARKS, Lane, blocking_mask, lanes
from ._palette import (BLACK, BLUE, CALL_COLOURS, GREY, MARK_NAMES, OUTCOME_COLOURS,
                       STYLE_OF, STYLES, VERMILLION)

BAR = 0.8  # bar height, in lanes


def rgba(hex_colours: list[str] | tuple[str, ...], alpha: float = 1.0) -> np.ndarray:
    """``["#0072B2"]`` -> an (n, 4) float array."""
    out = np.array([[int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)] + [alpha]
                    for h in hex_colours], dtype=float)
    return out.reshape(-1, 4)


@dataclass
class Bars:
    """Rectangles of one style: ``verts`` (n, 4, 2), ``colours`` (n, 4), and per bar
    an item index or a name, made into label text only for the few bars labelled."""

    verts: np.ndarray
    colours: np.ndarray
    names: Sequence = ()
    count: int = -1  # bars before merging (see _bars); -1: len(verts)

    def __post_init__(self) -> None:
        if self.count < 0:
            self.count = len(self.verts)

    def label(self, i: int, failed: bool = False) -> str:
        name = self.names[i]
        text = name if isinstance(name, str) else str(int(name))
        return f"{text} X" if failed else text


def rects(x0: np.ndarray, x1: np.ndarray, y: np.ndarray, height: float = BAR) -> np.ndarray:
    """Rectangles as an (n, 4, 2) array of corners, centred on lane ``y``."""
    lo, hi = y - height / 2, y + height / 2
    return np.stack([np.stack(p, axis=1) for p in ((x0, lo), (x0, hi), (x1, hi), (x1, lo))],
                    axis=1).reshape(-1, 4, 2)


@dataclass
class Layout:
    lanes: list[Lane]
    bars: dict[str, Bars]
    waits: np.ndarray  # (m, 2, 2) line segments
    marks: list[tuple[float, str]]  # (x, label) of pool events
    calls: dict[int, str]  # call_id -> its name, for the legend
    now: float
    span: tuple[float, float]
    live: bool = False


def layout(data: TraceData, color_by: str = "call", live: bool = False,
           merge: bool = True) -> Layout:
    """Everything the plot draws, computed from one snapshot of a trace (``merge``:
    draw very many thin bars as fewer, see :data:`MERGE_ABOVE`)."""
    now = data.duration
    found = lanes(data)
    y_of = {(lane.kind, lane.pool if lane.kind != "caller" else None,
             lane.lane if lane.kind == "worker" else lane.thread): float(y)
            for y, lane in enumerate(found)}
    bars, waits = _task_bars(data, y_of, color_by, merge)
    bars.update(_event_bars(data, y_of, now, merge))
    marks = [(p.created, "created" if len(data.pools) < 2 else f"pool {p.index} created")
             for p in data.pools]
    events = data.events
    for r in np.flatnonzero(events.mask("kind", *MARKS)).tolist():
        e = events[r]
        when = MARKS.get(e.kind)
        x = e.start if when == "start" else e.end
        if when is not None and x is not None:
            pool = f"pool {e.pool} " if len(data.pools) > 1 else ""
            marks.append((x, pool + MARK_NAMES[e.kind]))
    times = [x for b in bars.values() for x in (b.verts[:, 0, 0].min(initial=now),
                                                 b.verts[:, 2, 0].max(initial=0.0))]
    span = (min([0.0] + times), max([now] + times + [x for x, _ in marks]))
    return Layout(found, bars, waits, marks, _calls(data), now, span, live)


def _calls(data: TraceData) -> dict[int, str]:
    """call_id -> call name, in order of first appearance among the tasks."""
    call_id = data.tasks.ints("call_id")
    if not len(call_id):
        return {}
    ids, first = _first_of(call_id)
    names = data.tasks.take(first).values("call")
    return {i: name for _, i, name in sorted(zip(first.tolist(), ids.tolist(), names))}


def _first_of(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values and the position of each one's first occurrence."""
    order = np.argsort(values, kind="stable")
    new = np.concatenate([[True], values[order][1:] != values[order][:-1]])
    return values[order][new], order[new]


_COLUMNS = ("pool", "lane", "submitted", "started", "finished", "call_id", "index")


def _task_bars(data: TraceData, y_of: dict, color_by: str,
               merge: bool = True) -> tuple[dict[str, Bars], np.ndarray]:
    """Bars of each style, and queue waits, as whole-array operations: 100,000 tasks
    must cost little next to drawing them."""
    if not data.tasks:
        empty = Bars(np.zeros((0, 4, 2)), np.zeros((0, 4)))
        return {s: empty for s in STYLES}, np.zeros((0, 2, 2))
    # Columns of the trace: None is NaN in the float arrays.
    tasks = data.tasks
    pool, lane, sub, start, end, call_id, index = (
        tasks.floats(name).copy() for name in _COLUMNS)
    o_codes, o_values = tasks.codes("outcome")
    is_outcome = {o: tasks.mask("outcome", o) for o in STYLE_OF}
    ran = ~np.isnan(start)
    workers = {k[1:]: y for k, y in y_of.items() if k[0] == "worker"}
    width = max(n for _, n in workers) + 1
    table = np.full((max(p for p, _ in workers) + 1) * width, np.nan)
    for (p, n), y in workers.items():
        table[p * width + n] = y
    y = np.full(len(pool), np.nan)
    y[ran] = table[(pool[ran] * width + lane[ran]).astype(int)]
    unfinished = np.isnan(end)
    still = is_outcome[RUNNING] | is_outcome[ABANDONED] | is_outcome[KILLED]
    end[unfinished] = np.where(still[unfinished], data.duration, start[unfinished])
    if color_by == "call":
        which = call_id.astype(int) % len(CALL_COLOURS)
        colours = rgba(CALL_COLOURS)[which]
    else:  # by outcome: one colour per outcome code
        which = o_codes.astype(np.int64)
        table_ = rgba([OUTCOME_COLOURS.get(str(o), BLUE) for o in o_values] + [BLUE])
        colours = table_[which]
    special = {s: is_outcome[o] for o, s in STYLE_OF.items() if s != "task"}
    special["task"] = ran & ~np.logical_or.reduce(list(special.values()))
    bars = {}
    for style in STYLES:
        m = special[style] & ran
        c = colours[m]
        if style in ("abandoned", "running", "killed") or (
                style == "failed" and color_by != "call"):
            c[:, 3] = 0.45  # lighter: unfinished work, or to show the failed hatch
        bars[style] = _bars(start[m], end[m], y[m], c, which[m], index[m], merge)
    w = ran & (start > sub)
    return bars, _merged_waits(np.stack([sub[w], start[w], y[w]], axis=1))


# Above this many bars of one style, bars closer than 1/10,000 of the time axis on one
# lane, in one colour, are drawn as one: they are far thinner than a pixel then, and
# matplotlib spends some 10 us on each bar (2,000,000 bars: 20 s). See _bars().
MERGE_ABOVE = 100_000
MERGE_GAP = 1e-4


def _bars(x0: np.ndarray, x1: np.ndarray, y: np.ndarray, colours: np.ndarray,
          colour: np.ndarray, names, merge: bool, height: float = BAR) -> Bars:
    """The rectangles x0-x1 on lanes ``y``; with ``merge`` and more than MERGE_ABOVE of
    them, neighbours on a lane in the same colour (``colour``: its index) that are
    less than MERGE_GAP of the span apart become one rectangle, named as the first."""
    n = len(x0)
    if not merge or n <= MERGE_ABOVE:
        return Bars(rects(x0, x1, y, height), colours, names, n)
    span = float(np.max(x1) - np.min(x0)) or 1.0
    colour = colour.astype(np.int64)
    group = y.astype(np.int64) * (int(colour.max()) + 1) + colour  # lanes are 0, 1, ...
    order = np.lexsort((x0, group))
    g, a, b = group[order], x0[order], x1[order]
    # Shift each group far right of the one before, so one running maximum serves all.
    shift = g * (abs(float(np.max(np.abs(x1)))) * 4 + span * 4 + 1)
    a, b = a + shift, b + shift
    reach = np.maximum.accumulate(b)
    new = np.ones(n, dtype=bool)
    new[1:] = (a[1:] - reach[:-1] > span * MERGE_GAP) | (g[1:] != g[:-1])
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, n - 1)
    keep = order[first]
    merged_x1 = reach[last] - shift[first]
    return Bars(rects(x0[keep], merged_x1, y[keep], height), colours[keep],
                np.asarray(names)[keep] if not isinstance(names, _Kinds) else _Kinds(
                    names.events, names.rows[keep]), n)


def _event_bars(data: TraceData, y_of: dict, now: float, merge: bool = True
                ) -> dict[str, Bars]:
    """Caller lanes: blocked intervals; result-handler lanes: callbacks."""
    events = data.events
    least = max(now, 1e-3) * 0.004  # callbacks take microseconds: keep them visible
    start, end = events.floats("start"), events.floats("end")
    end = np.where(np.isnan(end), now, end)  # still going on: up to now
    out = {}
    # Each pool's callback lane (an executor's callbacks run in several threads).
    callback_y = {key[1]: y for key, y in y_of.items() if key[0] == "callbacks"}
    rows = np.flatnonzero(events.mask("kind", *CALLBACKS))
    pools = events.ints("pool")[rows]
    y = np.array([callback_y[p] for p in pools.tolist()], dtype=float)
    x0, x1 = start[rows], np.maximum(end[rows], start[rows] + least)
    errors = events.take(rows).mask("kind", "error_callback")
    colours = np.where(errors[:, None], rgba([VERMILLION]), rgba([BLACK])).reshape(-1, 4)
    names = events.take(rows).values("kind") if len(rows) <= MAX_NAMED else _Kinds(events, rows)
    out["callback"] = _bars(x0, x1, y, colours, errors, names, merge)
    # Caller lanes: a thread's blocking calls, if it has a lane.
    callers = {key[2]: y for key, y in y_of.items() if key[0] == "caller"}
    t_codes, t_values = events.codes("thread")
    lane_y = np.array([callers.get(v, np.nan) for v in t_values] + [np.nan], dtype=float)
    rows = np.flatnonzero(blocking_mask(data) & ~np.isnan(lane_y[t_codes]))
    kinds = events.take(rows).values("kind") if len(rows) <= MAX_NAMED else _Kinds(events, rows)
    out["blocked"] = _bars(start[rows], end[rows], lane_y[t_codes[rows]],
                           np.repeat(rgba([GREY]), len(rows), axis=0),
                           np.zeros(len(rows)), kinds, merge, 0.5)
    return {"blocked": out["blocked"], "callback": out["callback"]}


MAX_NAMED = 10_000  # more bars than this: their names are made only when asked for


class _Kinds:
    """The event kinds of some rows, made one at a time (a bar label asks for few)."""

    def __init__(self, events, rows):
        self.events, self.rows = events, rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> str:
        return self.events[int(self.rows[i])].kind


def _merged_waits(wait: np.ndarray) -> np.ndarray:
    """Queue waits as segments, overlapping ones on a lane merged into one: the same
    picture with far fewer segments (100,000 waits of one map -> one per lane)."""
    if not len(wait):
        return np.zeros((0, 2, 2))
    w = np.array(wait, dtype=float)
    w = w[np.lexsort((w[:, 0], w[:, 2]))]  # by lane, then start
    # Shift each lane far to the right of the previous one, so that one running
    # maximum over all lanes never carries a reach from one lane into the next.
    shift = w[:, 2] * (np.abs(w[:, :2]).max() * 2 + 1)
    x0, x1 = w[:, 0] + shift, w[:, 1] + shift
    reach = np.maximum.accumulate(x1)
    new = np.ones(len(w), dtype=bool)
    new[1:] = x0[1:] > reach[:-1]
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, len(w) - 1)
    s = np.stack([w[first, 0], reach[last] - shift[first], w[first, 2]], axis=1)
    low = s[:, 2] + BAR / 2 + 0.07  # in the gap under the lane's bars
    return np.stack([np.stack([s[:, 0], low], 1), np.stack([s[:, 1], low], 1)], axis=1)

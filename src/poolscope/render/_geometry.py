"""Numbers for the matplotlib timeline: rectangles, colours and lines as numpy arrays.

Kept apart from the drawing so the live view can recompute them and swap them into
existing collections. Imported only when plotting (it imports numpy).

    >>> from poolscope.trace import Task, TraceData, FINISHED
    >>> t = Task(0, "map", 0, 0, "w", 0, 0.0, 0.1, 0.3, FINISHED, caller="MainThread")
    >>> g = layout(TraceData([t], duration=0.3))
    >>> g.bars["task"].verts.shape, [lane.label for lane in g.lanes]
    ((1, 4, 2), ['worker 0', 'caller'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from ..trace import ABANDONED, FAILED, FINISHED, KILLED, RUNNING, TraceData
from ._lanes import CALLBACKS, MARKS, Lane, blocks, event_end, executors, lanes

# Okabe-Ito, colour-blind safe. Calls cycle through six of them; vermillion is kept
# for failures and black for callbacks, so neither is ever a call's colour.
BLUE, ORANGE, GREEN, PURPLE, SKY, YELLOW = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442")
VERMILLION, BLACK, GREY, LIGHT = "#D55E00", "#000000", "#999999", "#CCCCCC"
CALL_COLOURS = (BLUE, ORANGE, GREEN, PURPLE, SKY, YELLOW)
OUTCOME_COLOURS = {FINISHED: BLUE, FAILED: VERMILLION, ABANDONED: ORANGE, RUNNING: SKY,
                   KILLED: GREY}
STYLES = ("task", "failed", "abandoned", "running", "killed")
_STYLE_OF = {FINISHED: "task", FAILED: "failed", ABANDONED: "abandoned", RUNNING: "running",
             KILLED: "killed"}
BAR = 0.8  # bar height, in lanes
MARK_NAMES = {"close": "close()", "terminate": "terminate()", "join": "join() returned",
              "shutdown": "shutdown()"}


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


def layout(data: TraceData, color_by: str = "call", live: bool = False) -> Layout:
    """Everything the plot draws, computed from one snapshot of a trace."""
    now = data.duration
    found = lanes(data)
    y_of = {(lane.kind, lane.pool if lane.kind != "caller" else None,
             lane.lane if lane.kind == "worker" else lane.thread): float(y)
            for y, lane in enumerate(found)}
    bars, waits = _task_bars(data, y_of, color_by)
    bars.update(_event_bars(data, y_of, now))
    marks = [(p.created, "created" if len(data.pools) < 2 else f"pool {p.index} created")
             for p in data.pools]
    for e in data.events:
        when = MARKS.get(e.kind)
        x = e.start if when == "start" else e.end
        if when is not None and x is not None:
            pool = f"pool {e.pool} " if len(data.pools) > 1 else ""
            marks.append((x, pool + MARK_NAMES[e.kind]))
    times = [x for b in bars.values() for x in (b.verts[:, 0, 0].min(initial=now),
                                                 b.verts[:, 2, 0].max(initial=0.0))]
    span = (min([0.0] + times), max([now] + times + [x for x, _ in marks]))
    calls = dict(zip(map(attrgetter("call_id"), data.tasks), map(attrgetter("call"), data.tasks)))
    return Layout(found, bars, waits, marks, calls, now, span, live)


_COLUMNS = ("pool", "lane", "submitted", "started", "finished", "call_id", "index")


def _task_bars(data: TraceData, y_of: dict, color_by: str) -> tuple[dict[str, Bars], np.ndarray]:
    """Bars of each style, and queue waits, as whole-array operations: 100,000 tasks
    must cost little next to drawing them."""
    if not data.tasks:
        empty = Bars(np.zeros((0, 4, 2)), np.zeros((0, 4)))
        return {s: empty for s in STYLES}, np.zeros((0, 2, 2))
    # None -> nan: float arrays take None as "missing".
    pool, lane, sub, start, end, call_id, index = (
        np.array(list(map(attrgetter(name), data.tasks)), dtype=float) for name in _COLUMNS)
    outcome = np.array(list(map(attrgetter("outcome"), data.tasks)))
    ran = ~np.isnan(start)
    workers = {k[1:]: y for k, y in y_of.items() if k[0] == "worker"}
    width = max(n for _, n in workers) + 1
    table = np.full((max(p for p, _ in workers) + 1) * width, np.nan)
    for (p, n), y in workers.items():
        table[p * width + n] = y
    y = np.full(len(pool), np.nan)
    y[ran] = table[(pool[ran] * width + lane[ran]).astype(int)]
    unfinished = np.isnan(end)
    end[unfinished] = np.where(np.isin(outcome[unfinished], (RUNNING, ABANDONED, KILLED)),
                               data.duration, start[unfinished])
    if color_by == "call":
        colours = rgba(CALL_COLOURS)[call_id.astype(int) % len(CALL_COLOURS)]
    else:
        kinds, which = np.unique(outcome, return_inverse=True)
        colours = rgba([OUTCOME_COLOURS.get(str(o), BLUE) for o in kinds])[which]
    special = {s: outcome == o for o, s in _STYLE_OF.items() if s != "task"}
    special["task"] = ran & ~np.logical_or.reduce(list(special.values()))
    bars = {}
    for style in STYLES:
        m = special[style] & ran
        c = colours[m]
        if style in ("abandoned", "running", "killed") or (
                style == "failed" and color_by != "call"):
            c[:, 3] = 0.45  # lighter: unfinished work, or to show the failed hatch
        bars[style] = Bars(rects(start[m], end[m], y[m]), c, index[m])
    w = ran & (start > sub)
    return bars, _merged_waits(np.stack([sub[w], start[w], y[w]], axis=1))


def _event_bars(data: TraceData, y_of: dict, now: float) -> dict[str, Bars]:
    """Caller lanes: blocked intervals; result-handler lanes: callbacks."""
    blocked: list[tuple[float, float, float, str]] = []
    callbacks: list[tuple[float, float, float, str]] = []
    least = max(now, 1e-3) * 0.004  # callbacks take microseconds: keep them visible
    # Each pool's callback lane (an executor's callbacks run in several threads).
    callback_y = {key[1]: y for key, y in y_of.items() if key[0] == "callbacks"}
    execs = executors(data)
    for e in data.events:
        if e.kind in CALLBACKS:
            y = callback_y[e.pool]
            callbacks.append((e.start, max(event_end(e, now), e.start + least), y, e.kind))
        elif blocks(e, execs) and ("caller", None, e.thread) in y_of:
            y = y_of[("caller", None, e.thread)]
            blocked.append((e.start, event_end(e, now), y, e.kind))
    out = {}
    for name, rows, colour in (("blocked", blocked, GREY), ("callback", callbacks, BLACK)):
        x0, x1, y = (np.array([r[i] for r in rows], dtype=float) for i in range(3))
        colours = rgba([VERMILLION if r[3] == "error_callback" else colour for r in rows])
        out[name] = Bars(rects(x0, x1, y, 0.5 if name == "blocked" else BAR),
                         colours.reshape(-1, 4), [r[3] for r in rows])
    return out


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


# Keyword arguments of the PolyCollection of each style (see mpl.TimelineView).
STYLE_KW: dict[str, dict] = {
    "task": dict(edgecolors="white", linewidths=0.5, zorder=2),
    "running": dict(edgecolors=BLACK, linewidths=0.8, linestyles=":", zorder=2),
    "abandoned": dict(edgecolors=BLACK, linewidths=1.0, linestyles="--", zorder=2),
    "failed": dict(edgecolors=VERMILLION, linewidths=1.5, hatch="xx", zorder=2.5),
    "blocked": dict(edgecolors="none", zorder=2),
    "callback": dict(edgecolors="none", zorder=2),
    "killed": dict(edgecolors=BLACK, linewidths=1.0, hatch="//", zorder=2),
}

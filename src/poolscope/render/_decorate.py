"""Everything on the matplotlib timeline that is not a bar: lanes, marks, labels, legend.

Called by ``TimelineView.update``; the text artists it adds are kept in the view's
``_static_texts`` and ``_dynamic_texts`` so that a later update can remove them.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np

from .._model import NEVER_STARTED, QUEUED, TraceData
from ._geometry import Layout
from ._palette import (BLACK, CALL_COLOURS, GREY, MARK_GREY, MAX_LABELS, OUTCOME_COLOURS,
                       STYLE_KW, WAIT_GREY)
from ._textparts import notes

_LABEL_PX = 7  # a label character's width in pixels at fontsize 7 (a rough, safe guess)


def decorate(view: Any, geo: Layout, data: TraceData) -> None:
    """Lanes, x limits, marks and legend (the static layer: redone only when they
    change, which invalidates the live view's cached background), then the dynamic
    layer: the "now" line, bar labels and the never-started note."""
    ax = view.ax
    _lanes(view, geo)
    xlim = _xlim(view, geo)
    entries = _legend_entries(view, geo) if view.options["legend"] else []
    if view.options["xlim"] == "grow":  # a live view: entries stay once they appeared
        view._handles.update(entries)
        entries = list(view._handles.items())
    key = (tuple(geo.lanes), xlim, tuple(geo.marks), tuple(label for label, _ in entries))
    if key != view._static_key:
        view._bg = None
        ax.set_xlim(*xlim)
        _marks(view, geo)
        if key[3] != (view._static_key or (None,) * 4)[3]:  # legend entries changed
            _legend(ax, entries)
        view._static_key = key
    for t in view._dynamic_texts:
        t.remove()
    view._dynamic_texts = []
    view._now.set_visible(geo.live)
    if geo.live:
        view._now.set_xdata([geo.now, geo.now])
        view._dynamic_texts.append(ax.text(geo.now, 1.01, "now", fontsize=7, ha="center",
                                           va="bottom", transform=ax.get_xaxis_transform()))
    if view.options["labels"] != "never":
        _bar_labels(view, geo)
    # While live, tasks still queued are counted (not listed: the list changes each frame).
    waiting = data.tasks.mask("note", QUEUED) if geo.live else None
    queued = int(waiting.sum()) if waiting is not None else 0
    listed = TraceData(data.tasks.take(~waiting)) if queued else data
    never = notes(listed, (NEVER_STARTED,))
    never += [f"still queued: {queued} task{'s' if queued > 1 else ''}"] if queued else []
    if never:  # in the right margin, under the legend, where no bar can be hidden
        text = "\n".join(textwrap.fill(line, 34, subsequent_indent="  ") for line in never)
        view._dynamic_texts.append(ax.text(1.01, 0.0, text, transform=ax.transAxes,
                                           ha="left", va="bottom", fontsize=7, clip_on=False,
                                           bbox=dict(boxstyle="round", fc="white", ec=GREY)))


def _lanes(view: Any, geo: Layout) -> None:
    if geo.lanes == view._lanes:  # lanes change rarely (a live trace gaining workers)
        return
    ax = view.ax
    stable = view.options["lane_names"] == "stable"
    several = len({lane.pool for lane in geo.lanes if lane.pool is not None}) > 1
    names = [lane.label if stable or not lane.thread else
             f"pool {lane.pool}: {lane.thread}" if several and lane.kind != "caller" else
             lane.thread for lane in geo.lanes]
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_ylim(len(names) - 0.5, -0.5)  # first lane on top
    view._lanes = geo.lanes
    if view._own:  # our figure: make room for the lane names and the legend
        fig_w = view.figure.get_figwidth() * view.figure.dpi
        left = min(0.45, (max(map(len, names)) * 6 + 24) / fig_w)
        view.figure.subplots_adjust(left=left, right=0.8 if view.options["legend"] else 0.97,
                                    bottom=0.18, top=0.85)


def _xlim(view: Any, geo: Layout) -> tuple[float, float]:
    """The data's span with a margin; with ``xlim="grow"`` the axis only grows, in
    1-2-5 steps, so that a live view redraws its axes (the slow part) rarely."""
    lo, hi = geo.span
    pad = (hi - lo) * 0.02 or 0.01
    if view.options["xlim"] == "fit":
        return (lo - pad, hi + pad)
    old = view._static_key[1] if view._static_key else None
    if old and old[0] <= lo and hi <= old[1] and hi > old[1] / 4:
        return old
    top = 10.0 ** math.floor(math.log10(hi + pad))
    top = next(top * m for m in (1, 2, 5, 10) if top * m >= hi + pad)
    return (min(lo, 0.0) - top * 0.02, top)


def _marks(view: Any, geo: Layout) -> None:
    ax = view.ax
    for t in view._static_texts:
        t.remove()
    view._static_texts = []
    marks = sorted(geo.marks)
    view._marks.set_segments([[(x, 0), (x, 1)] for x, _ in marks])
    lo, hi = ax.get_xlim()
    level, last = 0, None
    for x, name in marks:
        # Stagger labels of marks closer than 12% of the axis, so they do not overprint.
        level = level + 1 if last is not None and x - last < (hi - lo) * 0.12 else 0
        last = x
        view._static_texts.append(ax.text(x, 1.01 + 0.07 * (level % 3), name, fontsize=7,
                                          transform=ax.get_xaxis_transform(), ha="left",
                                          va="bottom", color=MARK_GREY))


def _bar_labels(view: Any, geo: Layout) -> None:
    ax = view.ax
    styles = ("task", "failed", "abandoned", "running", "killed", "blocked")
    total = sum(geo.bars[s].count for s in styles)
    # "auto" leaves a live trace unlabelled: text is the slowest thing to draw (0.5 ms
    # a label), and a live view must redraw at 10 fps; the finished trace gets them.
    if view.options["labels"] == "auto" and (total > MAX_LABELS or geo.live):
        return
    lo, hi = ax.get_xlim()
    px_per_s = ax.bbox.width / (hi - lo)
    for style in styles:
        bars = geo.bars[style]
        if not len(bars.verts):
            continue
        x0, x1 = bars.verts[:, 0, 0], bars.verts[:, 2, 0]
        y = bars.verts[:, 0, 1] + (bars.verts[:, 1, 1] - bars.verts[:, 0, 1]) / 2
        dark = bars.colours[:, :3] @ np.array([0.299, 0.587, 0.114]) < 0.5
        for i in range(len(bars.verts)):
            text = bars.label(i, failed=style == "failed")
            fits = (x1[i] - x0[i]) * px_per_s >= _LABEL_PX * len(text) + 4
            if fits or view.options["labels"] == "always":
                white = dark[i] and style not in ("abandoned", "running", "killed")
                view._dynamic_texts.append(ax.text((x0[i] + x1[i]) / 2, y[i], text, fontsize=7,
                                           ha="center", va="center", zorder=4, clip_on=True,
                                           color="white" if white else BLACK))


def _legend_entries(view: Any, geo: Layout) -> list[tuple[str, dict]]:
    """(label, Patch keywords) of each legend entry; the artists are made only when
    the entries change (see :func:`_legend`)."""
    n = {name: b.count for name, b in geo.bars.items()}
    entries: list[tuple[str, dict]] = []
    if view.options["color_by"] == "call":
        for call_id, call in list(geo.calls.items())[:len(CALL_COLOURS)]:
            entries.append((f"call {call_id}: {call}",
                            dict(fc=CALL_COLOURS[call_id % len(CALL_COLOURS)])))
        if len(geo.calls) > len(CALL_COLOURS):
            more = len(geo.calls) - len(CALL_COLOURS)
            entries.append((f"(+{more} calls; colours repeat)", dict(fc="none", ec="none")))
    else:
        present = {"task": "finished", "failed": "failed", "abandoned": "abandoned",
                   "running": "running", "killed": "killed"}
        entries += [(o, dict(fc=OUTCOME_COLOURS[o])) for s, o in present.items() if n[s]]
    for style, label in (("failed", "failed (X)"), ("abandoned", "abandoned by terminate()"),
                         ("running", "running"), ("killed", "killed by terminate()")):
        if n[style]:
            kw = STYLE_KW[style]
            entries.append((label, dict(fc="white", ec=kw["edgecolors"], lw=kw["linewidths"],
                                        ls=kw.get("linestyles", "-"), hatch=kw.get("hatch"))))
    if view.options["show_wait"] and len(geo.waits):
        entries.append(("queue wait", dict(line=True)))
    if n["blocked"]:
        entries.append(("caller blocked", dict(fc=GREY)))
    if n["callback"]:
        entries.append(("callback", dict(fc=BLACK)))
    return entries


def _legend(ax: Any, entries: list[tuple[str, dict]]) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if not entries:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        return
    handles = [Line2D([], [], color=WAIT_GREY, lw=2, label=label) if kw.get("line")
               else Patch(label=label, **kw) for label, kw in entries]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7,
              frameon=False, borderaxespad=0)

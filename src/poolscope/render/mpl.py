"""The matplotlib timeline: a lane per worker, caller and result-handler thread.

    >>> from poolscope.trace import Trace, Task, FINISHED
    >>> t = Task(0, "map", 0, 0, "Thread-1 (worker)", 0, 0.0, 0.0, 0.2, FINISHED)
    >>> ax = plot_timeline(Trace.from_records([t]))
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['Thread-1 (worker)']
    >>> close(ax)

Bars of one style share one ``PolyCollection`` (never one artist per bar), so 100,000
tasks draw about as fast as the bare rectangles; above 100,000 bars of one style,
neighbours on a lane in one colour less than 1/10,000 of the time axis apart are drawn
as one bar (matplotlib spends ~10 us a bar: 2,000,000 bars would take 20 s; see
``_geometry.MERGE_ABOVE``; not with ``labels="always"``); :class:`TimelineView` swaps new
arrays into the same collections for a live view. matplotlib is imported only here,
inside functions, and no ``rcParams`` are changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from .._options import choice
from ._lanes import Lane
from ._palette import MARK_GREY, MAX_LABELS, STYLE_KW, WAIT_GREY

if TYPE_CHECKING:
    from ..trace import Trace

__all__ = ["MAX_LABELS", "TimelineView", "close", "plot_timeline"]


def plot_timeline(trace: Trace, ax: Any = None, color_by: Literal["call", "outcome"] = "call",
                  show_wait: bool = True, labels: Literal["auto", "always", "never"] = "auto",
                  lane_names: Literal["thread", "stable"] = "thread", legend: bool = True) -> Any:
    """Draw ``trace`` on ``ax`` (a new figure if None) and return the Axes.

    ``color_by`` colours bars by call or by outcome; ``show_wait`` draws queue waits
    (submitted -> started) as a thin grey line under the bars; ``labels`` puts item
    indices on bars ("auto": when they fit, there are at most 300 bars and the trace
    is not live);
    ``lane_names="stable"`` labels lanes "worker 0" instead of the thread names.
    """
    view = TimelineView(ax, color_by=color_by, show_wait=show_wait, labels=labels,
                        lane_names=lane_names, legend=legend, xlim="fit")
    return view.update(trace).ax


def close(ax: Any) -> None:
    """Close the figure of ``ax`` (pyplot's if it has one): no figures left behind."""
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


class TimelineView:
    """A timeline that redraws fast: ``update(trace)`` swaps new arrays into its
    collections instead of building a new figure, and ``draw()`` repaints only what
    changed over a cached background (axes, lane names, legend), which is redone only
    when those change. With ``xlim="grow"`` (the default here) the x axis grows in
    1-2-5 steps, so a live view rarely has to redraw its axes.

        >>> from poolscope.trace import Trace
        >>> view = TimelineView()
        >>> view.update(Trace.from_records()).ax.texts[0].get_text()
        'no tasks recorded'
        >>> view.close()
    """

    def __init__(self, ax: Any = None, *, color_by: str = "call", show_wait: bool = True,
                 labels: str = "auto", lane_names: str = "thread", legend: bool = True,
                 xlim: str = "grow", figsize: tuple[float, float] | None = None):
        choice("color_by", color_by, ("call", "outcome"))
        choice("show_wait", show_wait, (True, False))
        choice("labels", labels, ("auto", "always", "never"))
        choice("lane_names", lane_names, ("thread", "stable"))
        choice("xlim", xlim, ("grow", "fit"))
        from matplotlib.collections import LineCollection, PolyCollection

        self._own = ax is None
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=figsize or (9, 3))
        self.ax, self.figure = ax, ax.figure
        self.options = dict(color_by=color_by, show_wait=show_wait, labels=labels,
                            lane_names=lane_names, legend=legend, xlim=xlim)
        self.collections = {name: PolyCollection([], **kw) for name, kw in STYLE_KW.items()}
        for c in self.collections.values():
            ax.add_collection(c)
        self.waits = LineCollection([], colors=WAIT_GREY, linewidths=2, zorder=1)
        ax.add_collection(self.waits)
        self._marks = ax.vlines([], 0, 1, transform=ax.get_xaxis_transform(), colors=MARK_GREY,
                                linestyles=":", linewidths=1, zorder=3)
        self._now = ax.axvline(0, color=MARK_GREY, lw=1, ls="--", visible=False, zorder=3)
        self._static_texts: list[Any] = []  # pool-event labels: redone with the background
        self._dynamic_texts: list[Any] = []  # bar labels, notes, "now": redone each update
        self._lanes: list[Lane] | None = None
        self._static_key: tuple | None = None  # what the cached background shows
        self._bg: Any = None  # the cached background (canvas.copy_from_bbox)
        self._handles: dict[str, Any] = {}  # legend entries so far (xlim="grow")
        ax.set_xlabel("seconds from start of recording")

    def update(self, trace: Trace) -> TimelineView:
        """Show ``trace`` (one snapshot of it); returns self. Call ``draw()`` to paint."""
        from ._decorate import decorate
        from ._geometry import layout

        data = trace.data()
        if not data.tasks:
            self._empty()
            return self
        geo = layout(data, self.options["color_by"], trace.live,
                     merge=self.options["labels"] != "always")
        for name, coll in self.collections.items():
            bars = geo.bars[name]
            coll.set_verts(bars.verts)
            coll.set_facecolor(bars.colours)
        # White edges between bars, except where bars are too many to see them; then
        # no snapping to pixels either: it shrinks sub-pixel bars to nothing, leaving
        # white seams, and no antialiasing (faster, and invisible at that density).
        few = geo.bars["task"].count <= 2000
        for coll in (self.collections["task"],):
            coll.set_linewidth(0.5 if few else 0)
            coll.set_antialiased(few)
            coll.set_snap(None if few else False)
        self.waits.set_segments(geo.waits if self.options["show_wait"] else [])
        decorate(self, geo, data)
        return self

    def _empty(self) -> None:
        for coll in self.collections.values():
            coll.set_verts([])
        self.waits.set_segments([])
        self._marks.set_segments([])
        self._now.set_visible(False)
        for t in self._static_texts + self._dynamic_texts:
            t.remove()
        self._static_texts, self._lanes, self._static_key, self._bg = [], None, None, None
        self._handles = {}
        if self.ax.get_legend() is not None:
            self.ax.get_legend().remove()
        self._dynamic_texts = [self.ax.text(0.5, 0.5, "no tasks recorded", ha="center",
                                            va="center", transform=self.ax.transAxes)]
        self.ax.set_yticks([])

    def _dynamic(self) -> list[Any]:
        return [*self.collections.values(), self.waits, self._now, *self._dynamic_texts]

    def draw(self) -> None:
        """Repaint: the cached background, then only the changing artists (blitting).
        Falls back to ``canvas.draw_idle()`` on canvases that cannot blit."""
        canvas = self.figure.canvas
        if not getattr(canvas, "supports_blit", False) or not hasattr(canvas, "copy_from_bbox"):
            canvas.draw_idle()
            return
        size = (canvas.get_width_height(), self.figure.dpi)
        if self._bg is None or self._bg[0] != size:
            dynamic = self._dynamic()
            shown = [a.get_visible() for a in dynamic]
            for a in dynamic:
                a.set_visible(False)
            canvas.draw()
            self._bg = (size, canvas.copy_from_bbox(self.figure.bbox))
            for a, v in zip(dynamic, shown):
                a.set_visible(v)
        else:
            canvas.restore_region(self._bg[1])
        for a in self._dynamic():
            if a.get_visible():
                self.figure.draw_artist(a)
        canvas.blit(self.figure.bbox)

    def png(self) -> bytes:
        """``draw()``, then the canvas as PNG bytes (for an ``ipywidgets.Image``)."""
        import io

        from PIL import Image

        self.draw()
        canvas = self.figure.canvas
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(),
                                 "raw", "RGBA", 0, 1)
        out = io.BytesIO()
        image.save(out, format="png", compress_level=1)  # speed over size: 10 fps
        return out.getvalue()

    def close(self) -> None:
        """Close the figure (pyplot's registry too): no figure left behind."""
        import matplotlib.pyplot as plt

        plt.close(self.figure)

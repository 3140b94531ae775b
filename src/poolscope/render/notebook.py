"""Notebook display of a trace: the timeline as a PNG and a one-line summary.

    >>> from poolscope.trace import Trace, Task, FINISHED
    >>> t = Task(0, "map", 0, 0, "w", 0, 0.0, 0.0, 0.2, FINISHED)
    >>> summary_line(Trace.from_records([t]).data())
    '<poolscope.Trace: 1 task (1 finished) on 1 worker>'

The summary has no times or addresses, so notebook outputs checked with nbval stay
the same from run to run. The figure is a bare ``matplotlib.figure.Figure``, never
registered with pyplot: it cannot be shown a second time by the inline backend, and
nothing is left open once the PNG is made.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

from .._model import OUTCOMES, TraceData
from . import snapshot

if TYPE_CHECKING:
    from ..trace import Trace


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary_line(data: TraceData, live: bool = False) -> str:
    """``<poolscope.Trace: 8 tasks (7 finished, 1 failed) on 2 workers>``."""
    import numpy as np

    head = "<poolscope.Trace (live)" if live else "<poolscope.Trace"
    if not data.tasks:
        return f"{head}: no tasks recorded>"
    counts = {o: 0 for o in OUTCOMES}
    codes, values = data.tasks.codes("outcome")
    for code, n in enumerate(np.bincount(codes.astype(np.int64) + 1)[1:].tolist()):
        if n:
            counts[values[code]] = counts.get(values[code], 0) + n
    parts = ", ".join(f"{n} {o}" for o, n in counts.items() if n)
    workers = (sum(p.size for p in data.pools) or len(data.workers)
               or len(_threads(data, started=True)))
    pools = f" in {len(data.pools)} pools" if len(data.pools) > 1 else ""
    return f"{head}: {_n(len(data.tasks), 'task')} ({parts}) on {_n(workers, 'worker')}{pools}>"


def _threads(data: TraceData, started: bool = False) -> list[tuple[int, int]]:
    """The distinct (pool, lane) of the tasks (lane -1: None), of started ones only if
    ``started``."""
    from ._lanes import distinct_rows

    pool, lane = data.tasks.ints("pool"), data.tasks.ints("lane")
    if started:
        pool, lane = pool[lane >= 0], lane[lane >= 0]
    return distinct_rows(pool, lane + 1)


def png(trace: Trace, dpi: int = 100) -> bytes:
    """The timeline of ``trace`` as PNG bytes, drawn without pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .mpl import plot_timeline

    data = trace.data()
    lanes = len(_threads(data)) + 2
    fig = Figure(figsize=(9, max(2.0, 0.4 * lanes + 1.0)), dpi=dpi)
    FigureCanvasAgg(fig)
    plot_timeline(trace, ax=fig.add_subplot())
    out = io.BytesIO()
    fig.savefig(out, format="png", bbox_inches="tight")  # the legend sits outside the axes
    return out.getvalue()


def mimebundle(trace: Trace) -> dict[str, str]:
    """``{"image/png": base64 PNG, "text/plain": summary}`` (no image when empty)."""
    snap = snapshot(trace)
    data = snap.data()
    bundle = {"text/plain": summary_line(data, snap.live)}
    if data.tasks:
        bundle["image/png"] = base64.b64encode(png(snap)).decode("ascii")
    return bundle

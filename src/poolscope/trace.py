"""The public trace: the data of :mod:`poolscope._model` with the methods learners call.

    >>> t = Trace.from_records(
    ...     tasks=[Task(pool=0, call="map", call_id=0, index=0, worker="w0", lane=0,
    ...                 submitted=0.0, started=0.0, finished=0.2, outcome=FINISHED)],
    ...     workers=[Worker(pool=0, lane=0, name="w0", started=0.0)],
    ...     pools=[PoolInfo(index=0, kind="ThreadPool", size=1, created=0.0)])
    >>> t.summary().makespan
    0.2

Layering: the records, tables and constants live in ``_model`` (re-exported here, so
``from poolscope.trace import Task`` keeps working); the summary, JSON and renderers
take that data and never import this module. ``Trace`` sits above them all and only
hands itself over: each method below is one call.
"""

from __future__ import annotations

from typing import Any

from ._model import (
    FINISHED,
    FAILED,
    RUNNING,
    ABANDONED,
    KILLED,
    NEVER_STARTED,
    OUTCOMES,
    QUEUED,
    TERMINATED,
    CHUNK_FAILED,
    CANCELLED,
    CANCELLED_BY_SHUTDOWN,
    CANCELLED_BY_MAP,
    BROKEN,
    KILLED_WITH_CHUNK,
    NOT_SENT,
    RESULT_NOT_SENT,
    Task,
    Event,
    Worker,
    PoolInfo,
    TaskTable,
    EventTable,
    TraceData,
    TraceBase,
)
from ._json import dumps, loads
from .render.chrome import chrome_trace
from .render.mpl import plot_timeline  # imports matplotlib only when it draws
from .render.notebook import mimebundle
from .render.text import text_timeline
from .summary import Summary, summarize

__all__ = [
    "FINISHED", "FAILED", "RUNNING", "ABANDONED", "KILLED", "NEVER_STARTED", "OUTCOMES",
    "QUEUED", "TERMINATED", "CHUNK_FAILED", "CANCELLED", "CANCELLED_BY_SHUTDOWN",
    "CANCELLED_BY_MAP", "BROKEN", "KILLED_WITH_CHUNK", "NOT_SENT", "RESULT_NOT_SENT",
    "Task", "Event", "Worker", "PoolInfo", "TaskTable", "EventTable", "TraceData", "Trace",
]


class Trace(TraceBase):
    """What a recording saw. Live while recording (each access takes a fresh look),
    frozen afterwards or when loaded from JSON.

    Attributes: ``tasks``, ``events``, ``workers``, ``pools``, ``duration``.
    """

    def summary(self) -> Summary:
        """Makespan, utilisation, queue waits, throughput, the ideal makespan."""
        return summarize(self.data())

    # -- export ----------------------------------------------------------------------
    def to_json(self, path: Any = None) -> str:
        """The trace as JSON text (written to ``path`` too, if given)."""
        text = dumps(self.data())
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text

    @classmethod
    def from_json(cls, source: Any) -> Trace:
        """Load a trace written by :meth:`to_json` (JSON text or a path)."""
        return cls(loads(source))

    # -- rendering (renderers take a trace, never a pool) ------------------------------
    def text(self, tick: float = 0.1, **options: Any) -> str:
        """The timeline as characters, quantised to ``tick`` seconds (see render/text.py)."""
        return text_timeline(self, tick=tick, **options)

    def plot(self, ax: Any = None, **options: Any) -> Any:
        """Draw the timeline with matplotlib; returns the Axes (see render/mpl.py)."""
        return plot_timeline(self, ax=ax, **options)

    def to_chrome_trace(self, path: Any = None) -> dict:
        """Chrome/Perfetto trace-event JSON (written to ``path`` if given)."""
        return chrome_trace(self, path)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        """Notebook display: the timeline as PNG plus a summary line without times."""
        return mimebundle(self)

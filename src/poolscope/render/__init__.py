"""Renderers: a trace in, a picture out (text, matplotlib, Chrome trace, notebook).

Each renderer takes a trace (a :class:`~poolscope._model.TraceBase`, such as the public
:class:`~poolscope.trace.Trace`), never a pool, and looks at it once (``trace.data()``),
so a live trace is drawn from one consistent snapshot. Renderers import the data model,
never :mod:`poolscope.trace`, which imports them.

    >>> from poolscope._model import TraceBase
    >>> snapshot(TraceBase.from_records()).live
    False
"""

from __future__ import annotations

from .._model import TraceBase, TraceData


class _Snapshot(TraceBase):
    """A frozen look at a trace that remembers whether the trace was live."""

    def __init__(self, data: TraceData, live: bool):
        super().__init__(data)
        self._was_live = live

    @property
    def live(self) -> bool:
        return self._was_live


def snapshot(trace: TraceBase) -> TraceBase:
    """One consistent look at ``trace``, to hand to several renderers."""
    return _Snapshot(trace.data(), trace.live)

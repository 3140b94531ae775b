"""Renderers: a trace in, a picture out (text, matplotlib, Chrome trace, notebook).

Each renderer takes a :class:`~poolscope.trace.Trace`, never a pool, and looks at it
once (``trace.data()``), so a live trace is drawn from one consistent snapshot.

    >>> from poolscope.trace import Trace
    >>> snapshot(Trace.from_records()).live
    False
"""

from __future__ import annotations

from ..trace import Trace, TraceData


class _Snapshot(Trace):
    """A frozen look at a trace that remembers whether the trace was live."""

    def __init__(self, data: TraceData, live: bool):
        super().__init__(data)
        self._was_live = live

    @property
    def live(self) -> bool:
        return self._was_live


def snapshot(trace: Trace) -> Trace:
    """One consistent look at ``trace``, to hand to several renderers."""
    return _Snapshot(trace.data(), trace.live)

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

from .._model import TraceBase


def snapshot(trace: TraceBase) -> TraceBase:
    """One consistent look at ``trace``, to hand to several renderers
    (:meth:`TraceBase.snapshot`)."""
    return trace.snapshot()

"""Building blocks for the synthetic traces the render tests draw (text, matplotlib, Chrome).

A plain module next to the tests, like ``core/invariants.py``: pytest's prepend import
mode puts ``tests/render/`` on ``sys.path``, so a test says ``from render_samples import task``.

    >>> task(0, 1, 0.0, 0.2).worker, workers(2)[1].name
    ('Thread-2 (worker)', 'Thread-2 (worker)')
"""

from __future__ import annotations

from poolscope.trace import FINISHED, Task, Worker


def task(index, lane, start, end, outcome=FINISHED, *, call="map", call_id=0, pool=0,
         submitted=0.0, error=None, note=None, caller="MainThread", chunk=None):
    """A task record; ``lane`` None for a task no worker took."""
    worker = None if lane is None else f"Thread-{lane + 1} (worker)"
    return Task(pool, call, call_id, index, worker, lane, submitted, start, end, outcome,
                error, note, chunk, caller)


def workers(n, pool=0):
    """``n`` worker records of ``pool``, named like a ThreadPool's threads."""
    return [Worker(pool, i, f"Thread-{i + 1} (worker)", 0.0) for i in range(n)]

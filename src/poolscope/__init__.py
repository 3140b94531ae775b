"""poolscope: see what a ``multiprocessing.pool.ThreadPool`` really does.

    >>> from multiprocessing.pool import ThreadPool
    >>> import poolscope
    >>> with poolscope.record() as trace:
    ...     with ThreadPool(2) as pool:
    ...         _ = pool.map(abs, range(4))
    >>> [t.outcome for t in trace.tasks]
    ['finished', 'finished', 'finished', 'finished']
"""

from __future__ import annotations

from .recording import Recording, record
from .trace import Trace

__all__ = ["record", "Recording", "Trace"]
__version__ = "0.1.0"

"""poolscope: see what a ``multiprocessing.pool.ThreadPool`` really does.

    >>> from multiprocessing.pool import ThreadPool
    >>> import poolscope
    >>> with poolscope.record() as trace:
    ...     with ThreadPool(2) as pool:
    ...         _ = pool.map(abs, range(4))
    >>> [t.outcome for t in trace.tasks]
    ['finished', 'finished', 'finished', 'finished']

In a notebook, ``%load_ext poolscope`` adds the ``%%timeline`` cell magic.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__
from .recording import Recording, record
from .trace import Trace

__all__ = ["record", "Recording", "Trace", "explore", "__version__"]


def explore(*args: Any, **settings: Any) -> Any:
    """The playground widget: ``poolscope.explore(workers=4, tasks=12)``.

    ipywidgets and matplotlib are imported only when it is called.
    """
    from .tutorial.playground import explore as _explore

    return _explore(*args, **settings)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext poolscope``: registers the ``%%timeline`` cell magic."""
    from .magic import load_ipython_extension as load

    load(ipython)

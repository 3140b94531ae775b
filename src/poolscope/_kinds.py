"""The pool kinds poolscope records: one row per stdlib pool, and the facts they differ in.

Everything that depends on the kind of a pool reads this table (``recording`` builds
its constructor hooks from it; the trace stores the facts, ``PoolInfo.process`` and
``Event.blocking``, so renderers never compare kind names).

    >>> from concurrent.futures import ProcessPoolExecutor
    >>> from multiprocessing.pool import ThreadPool
    >>> kind_of(ThreadPool).name, kind_of(ProcessPoolExecutor).process
    ('ThreadPool', True)
    >>> print(table())
    kind                 class                                           hooks                    size          workers    map blocks  clock
    ThreadPool           multiprocessing.pool.ThreadPool                 poolscope._pool          _processes    threads    yes         any
    Pool                 multiprocessing.pool.Pool                       poolscope._procpool      _processes    processes  yes         time.monotonic_ns
    ThreadPoolExecutor   concurrent.futures.thread.ThreadPoolExecutor    poolscope._executor      _max_workers  threads    no          any
    ProcessPoolExecutor  concurrent.futures.process.ProcessPoolExecutor  poolscope._procexecutor  _max_workers  processes  no          time.monotonic_ns
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.pool import Pool, ThreadPool


@dataclass(frozen=True)
class PoolKind:
    """One stdlib pool class and what recording and the trace need to know about it."""

    name: str  # the display name, stored as PoolInfo.kind
    cls: type  # the stdlib class whose __init__ recording hooks
    hooks: str  # the module whose HOOKS record it (imported by recording)
    size_attr: str  # where the stdlib keeps the number of workers
    process: bool  # workers are processes (else threads of the caller's process)
    map_blocks: bool  # map() waits for every result (ThreadPool.map), or only submits
    # Workers time themselves, in other processes, with the one clock all processes
    # share: a recording with another clock cannot record this kind.
    own_clock: bool
    # An initializer that raises breaks the whole pool (BrokenThreadPool,
    # BrokenProcessPool); a multiprocessing pool starts a new worker instead.
    init_error_breaks: bool
    # Callbacks run in the pool's one result-handler thread (multiprocessing pools);
    # an executor runs a done-callback in whichever thread completes the future.
    result_handler: bool
    noun: str  # "pool" or "executor": how warnings name it

    @property
    def title(self) -> str:
        """How messages name it: "ThreadPool", "process Pool", ..."""
        return "process Pool" if self.cls is Pool else self.name


KINDS: tuple[PoolKind, ...] = (
    PoolKind("ThreadPool", ThreadPool, "poolscope._pool", "_processes", process=False,
             map_blocks=True, own_clock=False, init_error_breaks=False, result_handler=True, noun="pool"),
    PoolKind("Pool", Pool, "poolscope._procpool", "_processes", process=True,
             map_blocks=True, own_clock=True, init_error_breaks=False, result_handler=True, noun="pool"),
    PoolKind("ThreadPoolExecutor", ThreadPoolExecutor, "poolscope._executor", "_max_workers",
             process=False, map_blocks=False, own_clock=False, init_error_breaks=True,
             result_handler=False, noun="executor"),
    PoolKind("ProcessPoolExecutor", ProcessPoolExecutor, "poolscope._procexecutor",
             "_max_workers", process=True, map_blocks=False, own_clock=True,
             init_error_breaks=True, result_handler=False, noun="executor"),
)
_BY_NAME = {k.name: k for k in KINDS}
_BY_CLASS = {k.cls: k for k in KINDS}
NAMES: tuple[str, ...] = tuple(_BY_NAME)


def kind_of(pool: object) -> PoolKind:
    """The kind of a pool, or of a pool class: the most derived stdlib class it is
    (a ThreadPool is also a Pool; a user's subclass is its stdlib base's kind).

        >>> kind_of(Pool).name
        'Pool'
        >>> kind_of(3)
        Traceback (most recent call last):
        TypeError: int is not a pool poolscope records (one of ThreadPool, Pool, ThreadPoolExecutor, ProcessPoolExecutor)
    """
    cls = pool if isinstance(pool, type) else type(pool)
    for base in cls.__mro__:
        kind = _BY_CLASS.get(base)
        if kind is not None:
            return kind
    raise TypeError(f"{cls.__qualname__} is not a pool poolscope records "
                    f"(one of {', '.join(NAMES)})")


def by_name(name: str) -> PoolKind:
    """The kind stored as ``PoolInfo.kind``.

        >>> by_name("ThreadPoolExecutor").map_blocks
        False
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown pool kind {name!r}; expected one of "
                         f"{', '.join(NAMES)}") from None


def get(name: str, default: PoolKind = KINDS[0]) -> PoolKind:
    """The kind stored as ``PoolInfo.kind``, or ``default`` (ThreadPool) for a name
    not in the table (a trace made by hand).

        >>> get("ProcessPoolExecutor").result_handler, get("my pool").name
        (False, 'ThreadPool')
    """
    return _BY_NAME.get(name, default)


def table() -> str:
    """The table as text (README, reports)."""
    rows = [("kind", "class", "hooks", "size", "workers", "map blocks", "clock")]
    rows += [(k.name, f"{k.cls.__module__}.{k.cls.__qualname__}", k.hooks, k.size_attr,
              "processes" if k.process else "threads", "yes" if k.map_blocks else "no",
              "time.monotonic_ns" if k.own_clock else "any") for k in KINDS]
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows)

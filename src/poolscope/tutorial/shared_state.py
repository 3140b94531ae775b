"""Pages to count, and a race test, for ``10-Shared-State.ipynb``.

The tasks there count the words of web pages. :func:`fetch` stands in for the download:
it waits 0.1 s (like a slow server; the GIL is released meanwhile), then returns the
page's text, always the same 100 words.

    >>> len(fetch("home", seconds=0).split()), PAGES[:4]
    (100, ('home', 'news', 'blog', 'shop'))

:func:`race_test` runs a task that updates the global dict ``stats`` on several pages at
once, with the worst interleaving, and reports what the task did: how many words were
lost, whether every read and write of ``stats`` held the lock, and whether a task held
the lock while :func:`fetch` waited.

    >>> stats, lock = {"words": 0}, threading.Lock()
    >>> def add_words(page):
    ...     stats["words"] += len(fetch(page, seconds=0).split())
    >>> report = race_test(add_words)
    >>> report.lost, report.unprotected
    (300, 4)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from multiprocessing.pool import ThreadPool
from typing import Any

PAGES = ("home", "news", "blog", "shop", "help", "jobs", "team", "docs")
WORDS = ("pool", "task", "thread", "lock", "queue", "race", "wait", "result")
PAGE_WORDS = 100  # every page has this many words
DELAY = 0.1  # seconds fetch() waits, like a slow server

# The race test: an unprotected read waits until every task has read, or until no task
# has arrived for PATIENCE seconds (a task blocked elsewhere cannot hang the test).
PATIENCE = 2.0
# A task waiting for the test's lock gives up (LockNeverReleased) as soon as the task
# holding it has ended without releasing it, and after STUCK seconds whatever happens:
# far longer than a correct task ever waits, even one that holds the lock while fetching.
STUCK = 5.0
POLL = 0.05  # how often a waiting task looks whether the lock was abandoned
DEADLINE = 60.0  # the whole test gives up after this long (it never hangs a notebook)

_LOCK_TYPE, _RLOCK_TYPE = type(threading.Lock()), type(threading.RLock())


# -- the pages ---------------------------------------------------------------------------

def text(page: str) -> str:
    """The text of ``page``: 100 words, the same on every call and every Python version
    (integer arithmetic, not the ``random`` module, picks them).

        >>> text("home").split()[:4]
        ['queue', 'pool', 'lock', 'wait']
    """
    if not isinstance(page, str):
        raise TypeError(f"page should be a page name (a str), like 'home'; got {page!r}")
    x = int.from_bytes(page.encode(), "big")  # each page has a sequence of its own
    words = []
    for _ in range(PAGE_WORDS):
        x = (x * 1103515245 + 12345) % 2**31  # a linear congruential generator
        words.append(WORDS[(x >> 16) % len(WORDS)])
    return " ".join(words)


def fetch(page: str, seconds: float = DELAY) -> str:
    """Wait ``seconds`` (like a download; other threads run meanwhile), then return the
    text of ``page``.

        >>> fetch("news", seconds=0).count(" ") + 1
        100
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not 0 <= seconds <= 10:
        raise ValueError(f"seconds should be a number from 0 to 10; got {seconds!r}")
    page_text = text(page)
    watch = getattr(_local, "watch", None)
    if watch is not None:  # inside a race test: note whether this task holds a lock
        watch.fetched()
    time.sleep(seconds)
    return page_text


def words_of(pages: Any) -> int:
    """How many words ``pages`` have together: what a correct count gives.

        >>> words_of(PAGES[:4])
        400
    """
    return sum(len(text(p).split()) for p in pages)


# -- the race test -----------------------------------------------------------------------

_local = threading.local()  # .watch: the race test the current thread's task runs in


class LockNeverReleased(RuntimeError):
    """A task of the race test waited for a lock that a finished task still held (or
    waited ``STUCK`` seconds for it)."""


class _Watch:
    """What the tasks of one race test did; the rendezvous of unprotected reads."""

    def __init__(self, tasks: int, patience: float):
        self.tasks, self.patience = tasks, patience
        self.locks: list[_WatchedLock] = []
        self._cond = threading.Condition()  # guards every field below
        self._arrived: set[int] = set()  # tasks that made an unprotected read
        self._last = time.monotonic()
        self.unprotected: set[int] = set()  # tasks that touched stats without the lock
        self.fetched_locked: set[int] = set()  # tasks that fetched holding the lock
        self.fetches = 0
        self._reading: set[int] = set()  # tasks between an unprotected read and a write
        self.waited_between: set[int] = set()  # tasks that fetched between the two

    def holding(self) -> bool:
        """Whether the calling thread holds one of the test's locks."""
        return any(lock.held_by_me() for lock in self.locks)

    def fetched(self) -> None:
        with self._cond:
            self.fetches += 1
            if self.holding():
                self.fetched_locked.add(_local.task)
            if _local.task in self._reading:
                self.waited_between.add(_local.task)

    def touched(self, reading: bool) -> None:
        """A read or a write of stats by the calling task. An unprotected read waits
        until every task has made one (the worst interleaving: all read, then all
        write), or until no task has arrived for ``patience`` seconds."""
        if self.holding():
            return
        task = _local.task
        with self._cond:
            self.unprotected.add(task)
            if not reading:
                self._reading.discard(task)
                return
            self._reading.add(task)
            if task in self._arrived:
                return
            self._arrived.add(task)
            self._last = time.monotonic()
            self._cond.notify_all()
            while len(self._arrived) < self.tasks:
                left = self._last + self.patience - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)


class _WatchedLock:
    """Stands in for the learner's lock during a race test: the same behaviour, and it
    knows which thread holds it. A task waiting ``STUCK`` seconds raises
    :class:`LockNeverReleased` instead of hanging the test."""

    def __init__(self, reentrant: bool):
        self._lock = threading.RLock() if reentrant else threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self.abandoned = False  # a task ended while holding it: it is never released

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        forever = blocking and (timeout is None or timeout < 0)
        limit = STUCK if forever else min(timeout, STUCK) if blocking else 0.0
        start = time.monotonic()
        got = self._lock.acquire(False)
        while not got and blocking:
            left = start + limit - time.monotonic()
            if self.abandoned or left <= 0:
                break
            got = self._lock.acquire(True, min(POLL, left))
        if not got and forever:
            raise LockNeverReleased("a task waited for the lock, but the task that "
                                    "acquired it never released it")
        if got:
            self._owner = threading.get_ident()
            self._depth += 1
        return got

    def release(self) -> None:
        if self._owner != threading.get_ident():
            raise RuntimeError("release unlocked lock")
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
        self._lock.release()

    def locked(self) -> bool:
        return self._owner is not None

    def held_by_me(self) -> bool:
        return self._owner == threading.get_ident()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: Any) -> None:
        self.release()


class _WatchedStats(dict):
    """Stands in for the global ``stats`` during a race test: a dict whose reads and
    writes tell the watch, so that an unprotected read can wait for the other tasks."""

    def __init__(self, watch: _Watch, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._watch = watch

    def _read(self) -> None:
        if getattr(_local, "watch", None) is self._watch:
            self._watch.touched(reading=True)

    def _write(self) -> None:
        if getattr(_local, "watch", None) is self._watch:
            self._watch.touched(reading=False)

    # A read takes the value first, then waits: the others read the same value meanwhile.
    def __getitem__(self, key: Any) -> Any:
        value = super().__getitem__(key)
        self._read()
        return value

    def get(self, key: Any, default: Any = None) -> Any:
        value = super().get(key, default)
        self._read()
        return value

    def __contains__(self, key: Any) -> bool:
        found = super().__contains__(key)
        self._read()
        return found

    def __setitem__(self, key: Any, value: Any) -> None:
        self._write()
        super().__setitem__(key, value)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        value = super().setdefault(key, default)
        self._read()
        return value

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._write()
        super().update(*args, **kwargs)


@dataclass
class RaceReport:
    """What :func:`race_test` saw. ``lost``: words missing from ``stats["words"]``;
    ``unprotected``: tasks that read or wrote ``stats`` without holding the lock;
    ``fetched_locked``: tasks that held the lock while :func:`fetch` waited;
    ``waited_between``: tasks that fetched between an unprotected read of ``stats`` and
    their next write (like ``stats["words"] += len(fetch(page).split())``)."""

    name: str
    tasks: int
    expected: int
    got: Any
    unprotected: int
    fetched_locked: int
    fetches: int
    waited_between: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int | None:
        """Words lost (None when ``stats["words"]`` is not a number)."""
        if isinstance(self.got, bool) or not isinstance(self.got, int):
            return None
        return self.expected - self.got

    def __str__(self) -> str:
        lost = self.lost
        said = ("none lost" if lost == 0 else f"{lost} lost" if lost and lost > 0
                else "more than expected" if lost is not None else "not a number")
        lines = [f"race test of {self.name}: {self.tasks} tasks at once",
                 f"  stats['words']: {self.got!r}, expected {self.expected} ({said})",
                 f"  tasks that read or wrote stats without holding the lock: "
                 f"{self.unprotected} of {self.tasks}",
                 f"  tasks that held the lock while fetch() waited: "
                 f"{self.fetched_locked} of {self.tasks}"]
        lines += [f"  a task raised {error}" for error in self.errors[:2]]
        return "\n".join(lines)


def race_test(task: Any, pages: Any = PAGES[:4], patience: float = PATIENCE) -> RaceReport:
    """Run ``task(page)`` for each of ``pages`` at once, each on a thread of its own, with
    the worst interleaving, and report what it did to the global dict ``stats``.

    For the length of the test the task's global ``stats`` is replaced by a dict of the
    test's own (``{"words": 0}``), and every global lock by a lock of the test's own
    that knows who holds it (both are put back after). A read of ``stats`` made without
    holding the lock waits until every task has made one: they all read the same value,
    then all write, as a thread switch at the wrong moment or a free-threaded build can
    make happen. A correct task (the read and the write of ``stats`` inside one
    ``with lock:``) loses nothing, however the threads are scheduled.

        >>> stats, lock = {"words": 0}, threading.Lock()
        >>> def add_words(page):
        ...     words = len(fetch(page, seconds=0).split())
        ...     with lock:
        ...         stats["words"] += words
        >>> print(race_test(add_words))
        race test of add_words: 4 tasks at once
          stats['words']: 400, expected 400 (none lost)
          tasks that read or wrote stats without holding the lock: 0 of 4
          tasks that held the lock while fetch() waited: 0 of 4
    """
    names = getattr(task, "__globals__", None)
    if not callable(task) or not isinstance(names, dict):
        raise TypeError(f"race_test needs a function defined in the notebook; got {task!r}")
    if not isinstance(names.get("stats"), dict):
        raise ValueError("race_test needs the task's global dict stats (stats = {'words': 0})")
    pages = list(pages)
    if not pages:
        raise ValueError("race_test needs at least one page")
    watch = _Watch(len(pages), patience)
    shared = _WatchedStats(watch, words=0)
    saved = {"stats": names["stats"]}
    saved.update({k: v for k, v in names.items() if isinstance(v, (_LOCK_TYPE, _RLOCK_TYPE))})
    swapped = {k: _WatchedLock(isinstance(v, _RLOCK_TYPE)) for k, v in saved.items()
               if k != "stats"}
    watch.locks = list(swapped.values())

    def one(index_page: tuple[int, str]) -> None:
        _local.watch, _local.task = watch, index_page[0]
        try:
            task(index_page[1])
        finally:
            _local.watch = None
            for lock in watch.locks:  # still held when the task is over: never released
                if lock.held_by_me():
                    lock.abandoned = True

    errors: list[str] = []
    names.update(swapped, stats=shared)
    try:
        with ThreadPool(len(pages)) as pool:
            results = [pool.apply_async(one, (item,)) for item in enumerate(pages)]
            for result in results:
                try:
                    result.get(DEADLINE)
                except Exception as exc:  # the task's own error, reported, not raised
                    errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        for key, value in saved.items():  # put the notebook's own objects back
            names[key] = value
    got = dict.get(shared, "words")
    return RaceReport(getattr(task, "__name__", "the task"), len(pages), words_of(pages), got,
                      len(watch.unprotected), len(watch.fetched_locked), watch.fetches,
                      len(watch.waited_between), errors)

"""Tasks and measurements for ``09-The-GIL.ipynb``: waiting, computing in Python, and
computing in C code that releases the GIL.

    >>> fetch(0.01)
    b'reply'
    >>> lets_others_run(time.sleep, 0.1).released
    True
    >>> lets_others_run(python_work, calibrate(python_work, 0.1)).released
    False

The tasks:

- :func:`fetch` waits for a reply on a socket, like a slow server (the GIL is released
  while a thread waits);
- :func:`python_work` computes in pure Python (it holds the GIL, handing it over every
  ``sys.getswitchinterval()`` seconds, 5 ms by default: threads take turns);
- :func:`hash_work` (hashlib) and :func:`sort_work` (numpy) compute in C code that
  releases the GIL while it works on its own buffer.

The measurements: :func:`compare` runs the same tasks on pools of several sizes (elapsed
time, speed-up, and *cores busy*: CPU seconds of the tasks per elapsed second);
:func:`lets_others_run` tells whether a call releases the GIL, whatever the load on the
machine; :func:`cores_busy` measures one call. numpy and matplotlib are imported only by
the functions that use them.
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.pool import ThreadPool
from typing import Any

from .._options import number
from ..recording import record
from ..summary import Summary, most_at_once
from ..trace import Trace
from ._calibrate import steps_per_second

MIB = 1 << 20
SORT_SIZE = 200_000  # floats per sort_work repeat: about 10 ms, in cache on most machines
# hashlib lets go of the GIL for an update() of more than this many bytes (from 3.15),
# or of this many or more (3.11-3.14): HASHLIB_GIL_MINSIZE in CPython's Modules/hashlib.h.
HASHLIB_GIL_MINSIZE = 2048
STALL = 0.02  # a longer pause of the probe thread means it was kept from running
PROBE_SECONDS = 0.2  # the probe repeats a call until it has watched it this long
PROBE_ATTEMPTS = 3  # measurements at most, while the answer is not clear-cut
MOST_ONE_CORE = 1.25  # "cores busy" up to this counts as one core (a margin for clock steps)


# -- the tasks ---------------------------------------------------------------------------

def fetch(delay: float, timeout: float = 5.0) -> bytes:
    """Wait for the reply a socket peer sends after ``delay`` seconds (a slow server).

    The thread blocks in ``recv()``, which releases the GIL: waiting threads overlap.

        >>> fetch(0)
        b'reply'
    """
    if not (isinstance(delay, (int, float)) and 0 <= delay <= timeout):
        raise ValueError(f"delay must be a number of seconds from 0 to timeout ({timeout}); "
                         f"got {delay!r}")
    ours, theirs = socket.socketpair()
    server = threading.Timer(delay, theirs.sendall, (b"reply",))
    try:
        server.start()
        ours.settimeout(timeout)  # never hang, even if the peer never answers
        return ours.recv(64)
    finally:
        server.cancel()  # if recv() failed, the peer must not send to a closed socket
        server.join()
        ours.close()
        theirs.close()


def python_work(loops: int) -> int:
    """Pure-Python arithmetic: ``loops`` additions, holding the GIL.

        >>> python_work(4)
        14
    """
    total = 0
    for i in range(loops):
        total += i * i
    return total


@functools.lru_cache(maxsize=1)
def _mebibyte() -> bytes:
    return bytes(range(256)) * (MIB // 256)


def hash_work(mib: int) -> str:
    """SHA-256 of ``mib`` MiB, fed 1 MiB per ``update()``.

    hashlib lets go of the GIL while one call hashes more than 2 KiB (2048 bytes; up
    to 3.14, 2048 bytes or more): ``HASHLIB_GIL_MINSIZE`` in CPython's
    ``Modules/hashlib.h``. 1 MiB per call is far above it on every version.

        >>> hash_work(1) == hashlib.sha256(bytes(range(256)) * 4096).hexdigest()
        True
    """
    h = hashlib.sha256()
    block = _mebibyte()
    for _ in range(mib):
        h.update(block)
    return h.hexdigest()


@functools.lru_cache(maxsize=4)
def random_array(size: int = SORT_SIZE) -> Any:
    """``size`` random floats (numpy), the same on every call (seeded, cached)."""
    import numpy as np

    return np.random.default_rng(8).random(size)


def sort_work(repeats: int) -> float:
    """``numpy.sort`` of 200,000 floats, ``repeats`` times; returns the smallest.

    numpy sorts in its own C code, on one thread, with the GIL released (unlike a matrix
    product, which BLAS may spread over every core by itself).

        >>> 0 <= sort_work(1) < 0.001
        True
    """
    import numpy as np

    data = random_array()
    smallest = 0.0
    for _ in range(repeats):
        smallest = float(np.sort(data)[0])
    return smallest


def calibrate(task: Callable[[int], Any], seconds: float) -> int:
    """The ``n`` for which ``task(n)`` takes about ``seconds`` on one thread, here and now
    (the fastest of three timed runs: see :func:`._calibrate.steps_per_second`).

        >>> calibrate(python_work, 0.05) > 1000
        True
    """
    number("seconds", seconds, 0, 60, seconds=True, above=True)
    return max(1, round(steps_per_second(task) * seconds))


# -- running tasks on pools of several sizes ----------------------------------------------

def _timed(task: Callable[[Any], Any], item: Any) -> tuple[Any, float]:
    # In the worker: the CPU time this thread spent on the task. A thread waiting for
    # the GIL sleeps, so under the GIL these add up to at most the elapsed time.
    start = time.thread_time()
    result = task(item)
    return result, time.thread_time() - start


@dataclass(frozen=True)
class Run:
    """One ``pool.map(task, items)`` on a ``ThreadPool(workers)``, recorded and timed."""

    workers: int
    elapsed: float  # seconds, from map() called to map() returned
    cpu: float  # CPU seconds the worker threads spent in the tasks
    trace: Trace
    results: tuple

    @property
    def cores(self) -> float:
        """Cores busy on average: CPU seconds per elapsed second (1.0 = one core)."""
        return self.cpu / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self) -> Summary:
        """The recorded run's summary figures (makespan, utilisation, ...)."""
        return self.trace.summary()


def measure(task: Callable[[Any], Any], items: Sequence, workers: int) -> Run:
    """Record and time ``ThreadPool(workers).map(task, items)`` (one item per task)."""
    with record() as trace:
        with ThreadPool(workers) as pool:
            start = time.perf_counter()
            out = pool.map(functools.partial(_timed, task), items, chunksize=1)
            elapsed = time.perf_counter() - start
    return Run(workers, elapsed, sum(cpu for _, cpu in out), trace,
               tuple(result for result, _ in out))


@dataclass(frozen=True)
class Comparison:
    """The same tasks on pools of several sizes; the first run is the baseline."""

    name: str
    runs: tuple[Run, ...]

    def run(self, workers: int) -> Run:
        """The run on ``ThreadPool(workers)``."""
        for run in self.runs:
            if run.workers == workers:
                return run
        raise ValueError(f"no run with {workers} workers; the runs had "
                         f"{[r.workers for r in self.runs]}")

    def speedup(self, workers: int) -> float:
        """Elapsed time of the baseline divided by that of ``ThreadPool(workers)``."""
        return self.runs[0].elapsed / self.run(workers).elapsed

    def table(self) -> str:
        """The summary figures of each run, one line each."""
        lines = [f"{self.name}: {len(self.runs[0].results)} tasks",
                 "pool             makespan s  utilisation  mean task s  speed-up  cores busy"]
        for run in self.runs:
            s = run.summary()
            mean = sum(s.busy.values()) / max(s.completed, 1)
            lines.append(f"ThreadPool({run.workers})".ljust(17)
                         + f"{s.makespan:10.2f}  {s.utilisation:11.0%}  {mean:11.2f}"
                         f"  {self.speedup(run.workers):8.1f}  {run.cores:10.1f}")
        return "\n".join(lines)

    def plot(self, figsize: tuple[float, float] | None = None) -> Any:
        """The timelines one above the other, on one time axis; returns the Axes."""
        import matplotlib.pyplot as plt

        n = len(self.runs)
        fig, axes = plt.subplots(n, 1, sharex=True, squeeze=False,
                                 figsize=figsize or (9, 1.0 + 1.3 * n), layout="constrained")
        right = 0.0
        for ax, run in zip(axes[:, 0], self.runs):
            run.trace.plot(ax=ax, lane_names="stable", legend=False, labels="never")
            right = max(right, ax.get_xlim()[1])  # each plot fits its own run
            ax.set_title(f"{self.name}: ThreadPool({run.workers})", loc="left", fontsize=10)
            ax.set_xlabel("")
        axes[-1, 0].set_xlim(0, right)  # shared: the longest run sets the time axis
        axes[-1, 0].set_xlabel("seconds from the start of each run")
        return axes[:, 0]

    def __repr__(self) -> str:
        return f"<Comparison {self.name!r}: ThreadPool sizes {[r.workers for r in self.runs]}>"


def compare(task: Callable[[Any], Any], items: Sequence, workers: Sequence[int] = (1, 2, 4),
            name: str = "") -> Comparison:
    """Run ``pool.map(task, items)`` on a ``ThreadPool`` of each size in ``workers``.

        >>> c = compare(time.sleep, [0.01] * 4, workers=(1, 4), name="sleep")
        >>> [run.workers for run in c.runs], c.run(4).results
        ([1, 4], (None, None, None, None))
    """
    sizes = list(workers)
    if not sizes or not all(isinstance(w, int) and w >= 1 for w in sizes):
        raise ValueError(f"workers must be pool sizes of at least 1; got {workers!r}")
    if not items:
        raise ValueError("items is empty: there is nothing to run")
    name = name or getattr(task, "__name__", "tasks")
    return Comparison(name, tuple(measure(task, items, w) for w in sizes))


# -- verdicts that hold under load -------------------------------------------------------

def gil_enabled() -> bool:
    """Whether this interpreter runs with the GIL (always before 3.13; a free-threaded
    build, 3.13t or 3.14t, runs without it unless it was turned back on)."""
    return getattr(sys, "_is_gil_enabled", lambda: True)()


def python_verdict(comparison: Comparison, gil: bool | None = None) -> str:
    """What the largest pool did with pure-Python work, as checks that hold under load.

    With the GIL, the threads' CPU seconds can never add up to more than the elapsed
    seconds, however busy the machine; without it, they can (if cores are free).
    ``gil`` defaults to :func:`gil_enabled`.
    """
    gil = gil_enabled() if gil is None else gil
    run = max(comparison.runs, key=lambda r: r.workers)
    overlap = (f"  their bars overlapped (tasks in progress at the same time): "
               f"{_most_at_once(run.trace.tasks) >= 2}\n")
    head = f"ThreadPool({run.workers}) on pure-Python work"
    if gil:
        return (f"{head}, with the GIL (this build):\n{overlap}"
                f"  yet together they kept at most one core busy: {run.cores <= MOST_ONE_CORE}")
    return (f"{head}, without the GIL (a free-threaded build):\n{overlap}"
            f"  and together they kept more than one core busy: {run.cores > MOST_ONE_CORE}")


def _most_at_once(tasks: Sequence[Any]) -> int:
    """The largest number of tasks in progress at the same moment (finished ones)."""
    return most_at_once((t.started, t.finished) for t in tasks if t.finished is not None)


@dataclass(frozen=True)
class Probe:
    """What :func:`lets_others_run` saw: how long it watched the call (``calls`` times
    in a row), and for how much of that time another thread was kept from running."""

    name: str
    seconds: float
    stopped: float
    calls: int = 1

    @property
    def share(self) -> float:
        """The share of the time the other thread was kept from running (0 to 1)."""
        return self.stopped / self.seconds if self.seconds > 0 else 1.0

    @property
    def released(self) -> bool:
        """True when the other thread ran during most of the call: the GIL was free."""
        return self.share < 0.5

    @property
    def clear_cut(self) -> bool:
        """True when the answer is far from the 50% line: a call that holds the GIL
        stops the other thread all along (a share near 1), one that lets go of it
        hardly at all (near 0)."""
        # Calls that let go of the GIL measured at most 0.23 with 3 busy-loop processes
        # on 2 cores (load average 10); calls that hold it, 1.0.
        return not 0.3 <= self.share <= 0.7

    def __str__(self) -> str:
        # No times: they change with the load, and the verdict does not.
        unsure = "" if self.clear_cut else " (only partly: probe it again)"
        return f"{self.name}: other threads could run meanwhile: {self.released}{unsure}"


def lets_others_run(call: Callable[..., Any], *args: Any, name: str | None = None,
                    tick: float = 0.001, seconds: float = PROBE_SECONDS,
                    attempts: int = PROBE_ATTEMPTS) -> Probe:
    """Call ``call(*args)`` while another thread wakes every ``tick`` s: did it keep running?

    During the probe the switch interval is raised to 10 s (and then restored), so no
    thread is forced to hand the GIL over: code that holds the GIL, Python or C, stops
    the other thread for the whole call; code that releases it (a wait, or C code such
    as hashlib on big buffers) does not. The call is repeated until the probe has
    watched it for ``seconds`` (a short call is never judged on a few milliseconds),
    and measured again, up to ``attempts`` times, while the share of time the other
    thread was stopped is not clear-cut. A busy machine delays the other thread now
    and then (for at most a quarter of the time, measured with a load average of 10 on
    2 cores), far from the half of the time that decides, so the answer does not depend
    on the load. (On a free-threaded build running without the GIL, every call lets the
    other thread run.)

        >>> lets_others_run(time.sleep, 0.05).released
        True
    """
    if not (isinstance(seconds, (int, float)) and 0 < seconds <= 10):
        raise ValueError(f"seconds must be a number above 0 and at most 10; got {seconds!r}")
    name = name or getattr(call, "__qualname__", repr(call))
    probe = _probe_once(call, args, name, tick, seconds)
    for _ in range(attempts - 1):
        if probe.clear_cut:
            break
        probe = _probe_once(call, args, name, tick, seconds)
    return probe


def _probe_once(call: Callable[..., Any], args: tuple, name: str, tick: float,
                seconds: float) -> Probe:
    """One measurement of :func:`lets_others_run`."""
    pauses: list[tuple[float, float]] = []
    ready, stop = threading.Event(), threading.Event()

    def other() -> None:
        last = time.perf_counter()
        ready.set()
        while not stop.is_set():
            time.sleep(tick)
            now = time.perf_counter()
            if now - last > 2 * tick:  # woke up late: kept from running for a while
                pauses.append((last, now))
            last = now

    saved = sys.getswitchinterval()
    sys.setswitchinterval(10.0)
    thread = threading.Thread(target=other, name="lets_others_run", daemon=True)
    calls = 0
    try:
        thread.start()
        ready.wait()
        start = end = time.perf_counter()
        while calls == 0 or end - start < seconds:  # long enough to judge, under any load
            call(*args)
            calls += 1
            end = time.perf_counter()
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(saved)
    # Pauses shorter than this are the scheduler's doing, not the GIL's; a call that
    # holds the GIL stops the other thread for all of it.
    limit = max(2 * tick, min(STALL, (end - start) / 4))
    stopped = sum(max(0.0, min(b, end) - max(a, start)) for a, b in pauses if b - a > limit)
    return Probe(name, end - start, stopped, calls)


def cores_busy(call: Callable[..., Any], *args: Any) -> float:
    """CPU seconds of the whole process per elapsed second during ``call(*args)``: more
    than 1 means the call itself kept several cores busy (e.g. BLAS's own threads)."""
    cpu, start = time.process_time(), time.perf_counter()
    call(*args)
    elapsed = time.perf_counter() - start
    return (time.process_time() - cpu) / elapsed if elapsed > 0 else 0.0


def default_pool_size() -> int:
    """What ``ThreadPool()`` chooses: ``os.process_cpu_count()`` from 3.13 on (the CPUs
    this process may use), ``os.cpu_count()`` before; 1 if unknown."""
    if sys.version_info >= (3, 13):
        return os.process_cpu_count() or 1  # type: ignore[attr-defined]
    return os.cpu_count() or 1

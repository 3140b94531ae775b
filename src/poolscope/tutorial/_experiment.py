"""The playground's experiment runner: one configuration in, one recorded trace out.

    >>> exp = Experiment(workers=4, tasks=8, duration=0.01)
    >>> trace = run(exp)
    >>> trace.count("finished"), exp.waves
    (8, 2)

No widget here (the widget in playground.py drives this module), so it is tested and
used headless. Each run gets a pool of its own, recorded only by the run's own
recording (:func:`~poolscope.recording.recorded_pool`): a learner's ``record()``
blocks and the playground never see each other's pools.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.pool import RUN, AsyncResult, ThreadPool
from typing import Literal

from .._options import choice_problem, instance, number, number_problem, shown
from ..recording import Recording, recorded_pool
from ..trace import Trace
from .workloads import METHODS, Method, _loops_per_second, _spin

Work = Literal["io", "cpu"]
Shutdown = Literal["close-join", "terminate", "with"]
WORKS: tuple[str, ...] = ("io", "cpu")
SHUTDOWNS: tuple[str, ...] = ("close-join", "terminate", "with")
APPLY = ("apply", "apply_async")  # one task per call: no chunksize
ASYNC = ("apply_async", "map_async", "starmap_async")  # the ones that take callbacks

MAX_WORKERS = 64  # more lanes than that cannot be read on a timeline
MAX_TASKS = 1_000  # the live view is measured (and promised) up to this many
MAX_SECONDS = 60.0  # a playground run should not take longer than a minute
# Seconds between live frames: faster than 100 a second is a busy loop that starves the
# run it shows; slower than a minute is no live view (and no run is longer).
MIN_INTERVAL, MAX_INTERVAL = 0.01, 60.0


def check_interval(interval: object) -> None:
    """Raise ``ValueError`` unless ``interval`` is a sane number of seconds between frames.

        >>> check_interval(0)
        Traceback (most recent call last):
        ValueError: interval must be a number of seconds from 0.01 to 60 (got 0)
    """
    number("interval", interval, MIN_INTERVAL, MAX_INTERVAL, seconds=True)


def check_experiment(experiment: object, caller: str) -> None:
    """Raise ``TypeError`` unless ``experiment`` is an :class:`Experiment`."""
    if not isinstance(experiment, Experiment):
        raise TypeError(f"{caller} needs an Experiment, e.g. {caller[:-1]}"
                        f"Experiment(workers=4)) (got {shown(experiment)})")


@dataclass(frozen=True)
class Experiment:
    """One playground configuration: ``tasks`` tasks of about ``duration`` seconds.

    ``jitter`` (0-1) spreads durations evenly over ``duration * (1 +/- jitter)``,
    always the same way (seeded by ``seed``); ``work="io"`` sleeps (the GIL is free),
    ``"cpu"`` computes; ``chunksize=None`` is the method's default.

        >>> for problem in Experiment(workers=0, method="apply", chunksize=2).validate():
        ...     print(problem)
        workers must be a whole number from 1 to 64 (got 0)
        chunksize cannot be used with apply: it submits one task per call
    """

    workers: int = 4
    tasks: int = 12
    duration: float = 0.2
    jitter: float = 0.0
    work: Work = "io"
    method: Method = "map"
    chunksize: int | None = None
    callbacks: bool = False
    shutdown: Shutdown = "close-join"
    seed: int = 0

    def validate(self) -> list[str]:
        """What is wrong with this configuration, one message each (empty: runnable)."""
        problems = [
            number_problem("workers", self.workers, 1, MAX_WORKERS, whole=True),
            number_problem("tasks", self.tasks, 1, MAX_TASKS, whole=True),
            number_problem("seed", self.seed, whole=True),
            number_problem("duration", self.duration, 0, seconds=True),
            number_problem("jitter", self.jitter, 0, 1),
            choice_problem("work", self.work, WORKS),
            choice_problem("method", self.method, METHODS),
            choice_problem("shutdown", self.shutdown, SHUTDOWNS),
        ]
        callbacks = choice_problem("callbacks", self.callbacks, (True, False))
        problems.append(callbacks)
        if self.chunksize is not None and self.method in APPLY:
            problems.append(f"chunksize cannot be used with {self.method}: "
                            "it submits one task per call")
        else:
            problems.append(number_problem("chunksize", self.chunksize, 1, whole=True,
                                           none=True))
        if not callbacks and self.callbacks and self.method in METHODS \
                and self.method not in ASYNC:
            problems.append(f"{self.method} takes no callback: callbacks need "
                            "apply_async, map_async or starmap_async")
        problems = [p for p in problems if p]
        if not problems and self.estimate() > MAX_SECONDS:
            problems.append(f"this would take about {self.estimate():.0f} s; keep it under "
                            f"{MAX_SECONDS:.0f} s (fewer or shorter tasks, or more workers)")
        return problems

    # -- what to expect ---------------------------------------------------------------
    @property
    def chunk(self) -> int:
        """The chunksize the pool really uses (the stdlib's default when None)."""
        if self.method in APPLY:
            return 1
        if self.chunksize is not None:
            return self.chunksize
        if self.method.startswith("imap"):
            return 1
        size, extra = divmod(self.tasks, self.workers * 4)  # Pool._map_async's formula
        return size + 1 if extra else size

    @property
    def chunks(self) -> int:
        return math.ceil(self.tasks / self.chunk)

    @property
    def waves(self) -> int:
        """How many task lengths the busiest worker runs in a row, if tasks are equal:
        ``ceil(tasks / workers)`` one at a time; a chunk's tasks run in a row; with
        ``apply``, which waits for each task, all of them.

            >>> Experiment(workers=4, tasks=17).waves  # 9 chunks of 2 (the last of 1)
            5
        """
        if self.method == "apply":
            return self.tasks
        rounds = math.ceil(self.chunks / self.workers)  # chunks go out a round at a time
        in_last = self.chunks - (rounds - 1) * self.workers
        # The last round's longest chunk is a full one, unless it is the short last alone.
        last = self.chunk if in_last > 1 else self.tasks - (self.chunks - 1) * self.chunk
        return (rounds - 1) * self.chunk + last

    @property
    def drops(self) -> bool:
        """Whether the shutdown comes while async work is pending (terminate drops it)."""
        return self.shutdown != "close-join" and self.method in ASYNC

    def durations(self) -> list[float]:
        """Each task's duration in seconds: the same list for the same experiment."""
        rng = random.Random(self.seed)
        return [round(self.duration * (1 + self.jitter * rng.uniform(-1, 1)), 6)
                for _ in range(self.tasks)]

    def estimate(self) -> float:
        """Roughly how long a run takes, in seconds (for the time limit)."""
        longest = self.duration * (1 + self.jitter)
        if self.drops:  # only the first wave runs
            return self.chunk * longest
        if self.work == "cpu":  # under the GIL the tasks run one at a time
            return self.tasks * self.duration
        return self.waves * longest


class _Work:
    """The task function: IO (a wait) or CPU (arithmetic) that ends early on ``stop``.

    It also counts started tasks, so a run can shut the pool down once the first
    wave is running: then what terminate() drops does not depend on thread timing.
    """

    def __init__(self, work: str, stop: threading.Event, first_wave: int):
        self.stop, self.cpu = stop, work == "cpu"
        self.first_wave, self._target = threading.Event(), first_wave
        self._started = 0
        self._lock = threading.Lock()  # guards _started (tasks start on many workers)
        self._slice = int(_loops_per_second() * 0.002) if self.cpu else 0  # ~2 ms of work

    def __call__(self, seconds: float) -> float:
        with self._lock:
            self._started += 1
            if self._started >= self._target:
                self.first_wave.set()
        if not self.cpu:
            self.stop.wait(seconds)  # like time.sleep, but a Stop ends it at once
            return seconds
        loops = int(_loops_per_second() * seconds)
        while loops > 0 and not self.stop.is_set():
            _spin(min(loops, self._slice))
            loops -= self._slice
        return seconds


def _noop(result: object) -> None:
    """The callback: does nothing, so the timeline shows where callbacks run."""


def run(experiment: Experiment, on_update: Callable[[Trace], object] | None = None,
        stop_event: threading.Event | None = None, interval: float = 1 / 12) -> Trace:
    """Run ``experiment`` in a recorded pool of its own; returns the frozen trace.

    ``on_update(trace)`` is called with the live trace every ``interval`` seconds from
    a thread of its own (an exception it raises ends the updates and is raised here
    after the run), and once more with the finished trace. Setting ``stop_event``
    ends the run early: unstarted tasks return at once, running ones stop waiting.
    Raises ``ValueError`` with :meth:`Experiment.validate`'s messages if invalid, or if
    ``interval`` is not from 0.01 to 60 seconds; ``TypeError`` for arguments of the wrong
    kind. Nothing runs then.

        >>> run(Experiment(workers=0))
        Traceback (most recent call last):
        ValueError: workers must be a whole number from 1 to 64 (got 0)
    """
    # Every argument is checked here, before a thread starts: a bad one must never
    # surface as a traceback printed by the refresh thread.
    check_experiment(experiment, "run()")
    if on_update is not None and not callable(on_update):
        raise TypeError(f"on_update must be a function of the trace or None "
                        f"(got {shown(on_update)})")
    instance("stop_event", stop_event, (threading.Event, type(None)),
             "a threading.Event or None")
    check_interval(interval)
    problems = experiment.validate()
    if problems:
        raise ValueError("; ".join(problems))
    stop = stop_event if stop_event is not None else threading.Event()
    work = _Work(experiment.work, stop, min(experiment.workers, experiment.chunks))
    durations = experiment.durations()
    recording = _private_recording()
    trace = recording.start()
    ticker = _Ticker(trace, on_update, interval) if on_update is not None else None
    try:
        pool = recorded_pool(recording, experiment.workers)
        try:
            _drive(pool, experiment, work, durations)
        finally:
            _wait_for_threads(pool, stop)
    finally:
        if ticker is not None:
            ticker.stop()
        recording.stop()
    if ticker is not None and ticker.error is not None:
        raise ticker.error  # a bug in on_update: surfaced here, in the caller's thread
    if on_update is not None:
        on_update(trace)
    return trace


def _private_recording() -> Recording:
    """A recording that sees only the pool :func:`recorded_pool` makes for it.

    A plain recording also records every ThreadPool created anywhere while it runs,
    so a learner's pool made in another cell during a run would join the run's trace.
    """
    return Recording(private=True)


def _drive(pool: ThreadPool, exp: Experiment, work: _Work, durations: list[float]) -> None:
    """What the learner's code would do: submit, then shut down as ``exp.shutdown`` says."""
    if exp.shutdown == "with":
        with pool:
            pending = _submit(pool, exp, work, durations)
            _first_wave(work, pending)
        return  # __exit__ called terminate(); nothing here waits (run() does, unrecorded)
    pending = _submit(pool, exp, work, durations)
    if exp.shutdown == "terminate":
        _first_wave(work, pending)
        pool.terminate()
    else:
        pool.close()
    pool.join()
    if exp.shutdown == "close-join":
        for result in pending:
            result.get()  # ready after join(): collected like a learner would


def _submit(pool: ThreadPool, exp: Experiment, work: _Work,
            durations: list[float]) -> list[AsyncResult]:
    """Submit the tasks with ``exp.method``; the async results still pending."""
    method, chunksize = exp.method, exp.chunksize
    callback = {"callback": _noop} if exp.callbacks else {}
    if method == "apply":  # one call at a time: each blocks until its task is done
        for d in durations:
            pool.apply(work, (d,))
        return []
    if method == "apply_async":
        return [pool.apply_async(work, (d,), **callback) for d in durations]
    if method in ("imap", "imap_unordered"):
        list(getattr(pool, method)(work, durations, chunksize or 1))
        return []
    items = [(d,) for d in durations] if method.startswith("starmap") else durations
    if method in ("map", "starmap"):
        getattr(pool, method)(work, items, chunksize)
        return []
    return [getattr(pool, method)(work, items, chunksize, **callback)]


def _first_wave(work: _Work, pending: list[AsyncResult]) -> None:
    # The caller "does something else" until every worker has a task, then shuts the
    # pool down: that makes what terminate() drops the same on every run.
    while pending and not work.first_wave.wait(0.01):
        if work.stop.is_set() or all(r.ready() for r in pending):
            return


def _wait_for_threads(pool: ThreadPool, stop: threading.Event) -> None:
    """Wait until the pool's threads have ended, without a recorded ``join()``.

    Threads cannot be killed (gh-113205): after terminate() a running task goes on in
    the background. Waiting here gives the trace their real end and leaves no thread
    behind, while the timeline shows only what the learner's code itself did.
    """
    if pool._state == RUN:  # type: ignore[attr-defined]
        # Only after an error (the normal paths have shut it down): end the tasks.
        stop.set()
        pool.terminate()
    ThreadPool.join(pool)  # the stdlib's join, not the recorded subclass's


class _Ticker:
    """Calls ``on_update(trace)`` every ``interval`` seconds from its own thread.

    At a fixed rate (not a fixed pause), so a frame that takes long is not followed
    by a full pause; if ``on_update`` raises, updates stop and ``error`` keeps it.
    """

    def __init__(self, trace: Trace, on_update: Callable[[Trace], object], interval: float):
        self.trace, self.on_update, self.interval = trace, on_update, interval
        self.error: BaseException | None = None
        self.frames = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="poolscope-refresh",
                                        daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        next_at = time.monotonic()
        while not self._done.is_set():
            try:
                self.on_update(self.trace)
                self.frames += 1
            except Exception as exc:  # the run goes on; the caller can read .error
                self.error = exc
                return
            next_at = max(next_at + self.interval, time.monotonic())
            self._done.wait(next_at - time.monotonic())

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

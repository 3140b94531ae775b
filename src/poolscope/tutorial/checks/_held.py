"""Results whose readiness a check controls: for checks that call a learner's function
on ``AsyncResult`` objects (exercises 4.1 and 4.2).

A check that submits ``time.sleep`` tasks and then measures how long the learner's
function took is at the mercy of the machine: on a loaded hub a 0.2 s task can finish
late, and a right answer fails. Here each task waits on an event the check sets, at a
moment the check chooses (``after=`` seconds after :meth:`HeldTasks.go`), so what is
ready when depends on the check's own schedule, with margins of a good part of a second.
The results are real ``AsyncResult`` objects of a real ``ThreadPool`` (not recorded).

    >>> with HeldTasks(3) as held:
    ...     done = held.done("early")
    ...     late = held.hold("late", after=0.2)
    ...     failed = held.failed(ValueError("bad item"))
    ...     held.go()
    ...     print(done.ready(), late.ready(), failed.successful())
    ...     print(late.get(timeout=5))
    True False False
    late

Every held task is released at the latest ``SAFETY`` seconds after :meth:`go` (a
learner's ``wait()`` without a timeout must not hang the notebook), and all of them when
the ``with`` block ends; the pool is then closed and joined, so no thread outlives the
check.
"""

from __future__ import annotations

import threading
from multiprocessing.pool import AsyncResult, ThreadPool
from typing import Any

SAFETY = 3.0  # seconds after go(): every held task is released by then
SETTLE = 10.0  # seconds to wait for a task that is meant to be ready at once


def _held(event: threading.Event, value: Any) -> Any:
    """A task: wait until the check releases it, then return ``value``."""
    event.wait()
    return value


def _raise(error: BaseException) -> Any:
    """A task that fails with ``error``."""
    raise error


class HeldTasks:
    """A ``ThreadPool(workers)`` of the check's own, whose tasks finish when told to."""

    def __init__(self, workers: int):
        self._pool = ThreadPool(workers)
        self._workers = workers
        self._events: list[threading.Event] = []
        self._timers: list[threading.Timer] = []
        self._count = 0

    def __enter__(self) -> HeldTasks:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for timer in self._timers:
            timer.cancel()
        for event in self._events:
            event.set()
        # close() + join(): every task ends now that its event is set; none outlives us.
        self._pool.close()
        self._pool.join()

    def _submit(self, func: Any, args: tuple) -> AsyncResult:
        self._count += 1
        if self._count > self._workers:  # a queued task would start late: a bug here
            raise ValueError(f"HeldTasks({self._workers}) holds at most {self._workers} tasks")
        return self._pool.apply_async(func, args)

    def hold(self, value: Any, after: float | None = None) -> AsyncResult:
        """A result that becomes ready ``after`` seconds after :meth:`go` (by ``SAFETY``
        at the latest; ``None``: at ``SAFETY``, or when the block ends if sooner)."""
        event = threading.Event()
        self._events.append(event)
        self._timers.append(threading.Timer(SAFETY if after is None else min(after, SAFETY),
                                            event.set))
        return self._submit(_held, (event, value))

    def done(self, value: Any) -> AsyncResult:
        """A result that is ready (with ``value``) before the learner's code runs."""
        result = self._submit(_held, (_set_event(), value))
        result.wait(SETTLE)
        return result

    def failed(self, error: BaseException) -> AsyncResult:
        """A result whose task has raised ``error``, ready before the learner's code runs."""
        result = self._submit(_raise, (error,))
        result.wait(SETTLE)
        return result

    def go(self) -> None:
        """Start the clocks of the held results: call it just before the learner's code."""
        for timer in self._timers:
            timer.daemon = True  # never keeps an interpreter alive
            timer.start()


def _set_event() -> threading.Event:
    event = threading.Event()
    event.set()
    return event


class Watched:
    """An ``AsyncResult`` that notes the timeouts the learner's code passes to ``get`` and
    ``wait`` (and otherwise does exactly what the result does).

        >>> with HeldTasks(1) as held:
        ...     watched = Watched(held.done(7))
        ...     watched.get(timeout=0.1), watched.timeouts
        (7, [0.1])
    """

    def __init__(self, result: AsyncResult):
        self._result = result
        self.timeouts: list[float | None] = []

    def get(self, timeout: float | None = None) -> Any:
        self.timeouts.append(timeout)
        return self._result.get(timeout)

    def wait(self, timeout: float | None = None) -> None:
        self.timeouts.append(timeout)
        return self._result.wait(timeout)

    def ready(self) -> bool:
        return self._result.ready()

    def successful(self) -> bool:
        return self._result.successful()

    def __repr__(self) -> str:
        return repr(self._result)

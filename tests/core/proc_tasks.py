"""Task functions for the pool tests: importable, so that spawned workers can
unpickle them (a spawned child imports this small module, not the test module). The
thread-pool tests use the same ones, so that each task is written once. Keep it free of
test imports: every spawned worker imports it."""

from __future__ import annotations

import multiprocessing
import os
import time

_initialised = None  # set by init() in a worker process


def square(x):
    return x * x


def slow_square(x, delay=0.02):
    time.sleep(delay)
    return x * x


def sleep_return(delay):
    time.sleep(delay)
    return delay


def fail_on(x, bad=3):
    if x == bad:
        raise ValueError(f"bad item {x}")
    return x


def fail_every_hundredth(x):
    if x % 100 == 0:
        raise ValueError(f"item {x}")
    return x


def star_fail_every_hundredth(x):
    return fail_every_hundredth(x)


class CustomError(Exception):
    """An exception with several args, to compare type and args after the trip back."""


def raise_custom(*args):
    raise CustomError(*args)


def process_name(_=None):
    return multiprocessing.current_process().name


def pid_after(delay):
    """The worker's pid; but only after ``delay`` seconds."""
    time.sleep(delay)
    return os.getpid()


def report_pid(path, delay):
    """Write the worker's pid to ``path``, then sleep (a task to be killed)."""
    with open(path, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(delay)
    return "late"


def unpicklable_result(x):
    return lambda: x


def init(value):
    global _initialised
    _initialised = value


def initialised(_=None):
    return _initialised


def fail_init():
    raise RuntimeError("init failed")


def exit_on(x, bad=1):
    if x == bad:
        raise SystemExit("bye")
    return x


def fail_init_value(_=None):
    raise ValueError("init failed")


def pid_and_value(x):
    """(the worker's pid, x): which process ran an item."""
    return os.getpid(), x

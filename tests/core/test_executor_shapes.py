"""The recorded ThreadPoolExecutor on the worker shape of CPython 3.14+.

From 3.14 (the worker-context refactor that came with InterpreterPoolExecutor) a
ThreadPoolExecutor makes a worker context per thread (``_create_worker_context()``),
turns ``(fn, args, kwargs)`` into a task (``_resolve_work_item_task``), builds
``_WorkItem(future, task)``, and its ``_worker(ref, ctx, work_queue)`` calls
``ctx.initialize()`` and then ``work_item.run(ctx)``. 3.14 cannot be installed here, so
this test gives a 3.11-3.13 executor that shape (a small stand-in written from the
3.14 source's signatures, not a copy of it) and checks that recording still records
every task once, times the initializer, and changes no result.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import thread as _cft

import pytest

import poolscope
from poolscope.trace import FAILED, FINISHED


class Context:
    """3.14's WorkerContext shape: runs the initializer and each task."""

    def __init__(self, initializer, initargs):
        self.initializer, self.initargs = initializer, initargs
        self.finalized = False

    def initialize(self):
        if self.initializer is not None:
            self.initializer(*self.initargs)

    def finalize(self):
        self.finalized = True

    def run(self, task):
        fn, args, kwargs = task
        return fn(*args, **kwargs)


def worker_314(ref, ctx, work_queue):
    """3.14's ``_worker`` shape: the context first, the queue last."""
    try:
        ctx.initialize()
    except BaseException:
        executor = ref()
        if executor is not None:
            executor._initializer_failed()
        return
    try:
        while True:
            item = work_queue.get(block=True)
            if item is not None:
                item.run(ctx)
                del item
                executor = ref()
                if executor is not None:
                    executor._idle_semaphore.release()
                del executor
                continue
            executor = ref()
            if _cft._shutdown or executor is None or executor._shutdown:
                if executor is not None:
                    executor._shutdown = True
                work_queue.put(None)
                return
            del executor
    finally:
        ctx.finalize()


def item_init_314(self, future, task):
    self.future, self.task = future, task


@pytest.fixture
def shape_314(monkeypatch):
    """Make executors created in the test look like 3.14's to the recorder."""
    monkeypatch.setattr(_cft, "_worker", worker_314)
    monkeypatch.setattr(_cft._WorkItem, "__init__", item_init_314)
    contexts: list[Context] = []

    def give_shape(executor, initializer=None, initargs=()):
        def make():
            contexts.append(Context(initializer, initargs))
            return contexts[-1]
        executor._create_worker_context = make
        executor._resolve_work_item_task = lambda fn, args, kwargs: (fn, args, kwargs)
        return executor

    give_shape.contexts = contexts
    return give_shape


def half(x):
    if x == 3:
        raise ValueError("three")
    return x / 2


def test_recorded_tasks_on_the_314_shape(shape_314):
    started = []
    with poolscope.record() as trace:
        executor = shape_314(ThreadPoolExecutor(2), started.append, ("init",))
        with executor:
            futures = [executor.submit(half, x) for x in range(5)]
            mapped = list(executor.map(half, [0, 2, 4], timeout=5))  # never hang
            done = [f.exception(timeout=5) is None for f in futures]
    assert mapped == [0, 1, 2]
    assert done == [True, True, True, False, True]
    assert [f.result() for f in futures if f.exception() is None] == [0, 0.5, 1, 2]
    assert isinstance(futures[3].exception(), ValueError)
    assert started == ["init"] * len(shape_314.contexts)
    assert all(ctx.finalized for ctx in shape_314.contexts)
    tasks = list(trace.tasks)
    assert len(tasks) == 8  # 5 submits + 3 map items, each once
    assert sorted(t.outcome for t in tasks) == sorted([FINISHED] * 7 + [FAILED])
    assert [t.error for t in tasks if t.outcome == FAILED] == ["ValueError: three"]
    assert all(w.init_started is not None and w.init_error is None for w in trace.workers)


def test_a_failing_initializer_on_the_314_shape(shape_314):
    def broken():
        raise OSError("no connection")

    with poolscope.record() as trace:
        executor = shape_314(ThreadPoolExecutor(1), broken)
        with executor:
            future = executor.submit(half, 2)
            with pytest.raises(_cft.BrokenThreadPool):
                future.result(timeout=5)
    assert trace.workers[0].init_error == "OSError: no connection"
    assert [t.outcome for t in trace.tasks] == ["never started"]

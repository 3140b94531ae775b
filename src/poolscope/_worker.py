"""The worker loop of a recorded ThreadPool: CPython's own, with a clock around each task.

Each worker thread runs :func:`make_worker`'s copy of ``multiprocessing.pool.worker``
and writes its records into its own :class:`~poolscope._log.WorkerLog`: wrapping each
task in one more Python function instead measured 1.2x slower on trivial tasks, because
the extra frame is amplified by GIL hand-offs.

    >>> import queue, time
    >>> from poolscope._log import PoolLog
    >>> plog = PoolLog(clock=time.monotonic_ns)
    >>> inq, outq = queue.SimpleQueue(), queue.SimpleQueue()
    >>> inq.put((7, 0, abs, (-2,), {})); inq.put(None)
    >>> make_worker(plog)(inq, outq)
    >>> outq.get(), plog.workers[0].records[:3].tolist()
    ((7, 0, (True, 2)), [7, 0, 1])
"""

from __future__ import annotations

import itertools
from queue import Empty as _Empty
from multiprocessing import pool as mp_pool
from typing import Any

from . import _log
from ._log import GROUP_END, PoolLog, describe

_mapstar = mp_pool.mapstar
_starmapstar = mp_pool.starmapstar
_reraise = mp_pool._helper_reraises_exception
_starmap = itertools.starmap
_islice = itertools.islice
_NOTHING = object()  # "no task taken yet" (None is the pool's sentinel)


def make_worker(plog: PoolLog):
    """CPython's ``multiprocessing.pool.worker`` for threads, timing each task.

    Named ``worker`` so that thread names stay ``Thread-N (worker)``.
    """
    clock = plog.clock

    def worker(inqueue, outqueue, initializer=None, initargs=(), maxtasks=None,
               wrap_exception=False):
        # ThreadPool always passes maxtasks=None and wrap_exception=False.
        put = outqueue.put
        get = inqueue.get
        wlog = plog.new_worker()
        if initializer is not None:
            wlog.init_started = clock()
            try:
                initializer(*initargs)
            except BaseException as e:  # the worker dies, as in the stdlib
                wlog.init_error = describe(e)
                raise
            finally:
                wlog.init_finished = clock()
        records = wlog.records
        extend = records.fromlist  # a list: fromlist takes it in one C loop
        append = records.append
        fail = wlog.failures.append
        # Cross-task grouping (see _log.GROUP_END): after a one-item task that took less than
        # FAST_NS, the next task is taken with get_nowait(); if one is there, it starts
        # without a clock read. A clock read costs about as much as the stdlib spends on a
        # trivial task: reading two per task measured 1.3-1.4x on map(chunksize=1). Groups
        # grow 1, 2, 4, ... MAX_RUN while they stay fast. The price: a slow task that runs
        # inside a group shares the group's span with its fast mates (Task.measured is
        # False for them all); a group of one is timed exactly, from the end of the task
        # before it, and after a slow group the next task is timed on its own.
        get_nowait = getattr(inqueue, "get_nowait", None)
        grouping = False  # may the next task skip its clock reads?
        group = 0         # tasks in the open group
        limit = 1         # the open group's maximum size
        last = 0          # the worker's last stamp: where the open group began
        last_job = -1     # the job of the last task logged

        def close(now: int) -> None:
            """End the open group at ``now``; grow the next one only if this was fast."""
            nonlocal group, limit, grouping, last
            extend([GROUP_END, now])
            if now - last < FAST_NS * group:
                limit = min(limit * 2, MAX_RUN)
            else:
                limit, grouping = 1, False
            group, last = 0, now

        try:
            while True:
                task = _NOTHING
                if grouping:
                    try:
                        task = get_nowait()
                    except _Empty:  # it would wait: close the group, time what comes
                        grouping = False
                if task is _NOTHING:
                    if group:
                        close(clock())
                    grouping = False
                    try:
                        task = get()  # may wait: the next task is timed on its own
                    except (EOFError, OSError):
                        break
                if task is None:  # sentinel from close()/terminate()
                    break
                job, i, func, args, kwds = task
                if not plog.on:  # recording over: run exactly as the stdlib does
                    grouping = False
                    try:
                        result = (True, func(*args, **kwds))
                    except Exception as e:
                        result = (False, e)
                else:
                    if func is _mapstar or func is _starmapstar:
                        n = len(args[0][1])  # a chunk of a map()-family call
                    else:
                        n = _log.INPUT_ERROR if func is _reraise else 1
                    if grouping and n == 1 and group < limit:
                        if job == last_job:  # one array append: ~50 ns, a header ~140
                            append(~i)
                        else:
                            extend([job, ~i])
                            last_job = job
                        group += 1
                        try:
                            result = (True, func(*args, **kwds))
                        except Exception as e:
                            # Close the group before the failure is logged: a reader that
                            # sees the failure then also sees the task's span.
                            close(clock())
                            grouping = False
                            fail((job, i, 0, describe(e), False))
                            result = (False, e)
                        except BaseException as e:
                            close(clock())
                            fail((job, i, 0, describe(e), True))
                            raise
                    else:
                        now = clock()
                        if group:  # a full group, or a task that must be timed
                            close(now)
                        extend([job, i, n, now])
                        last_job = job
                        if n > 1:
                            grouping = False
                            fn, chunk = args[0]
                            out: list[Any] = []
                            try:  # the very map()/starmap() the stdlib runs: same errors
                                items = (map(fn, chunk) if func is _mapstar
                                         else _starmap(fn, chunk))
                                _run_chunk(items, n, out, extend, clock)
                                result = (True, out)
                            except Exception as e:
                                fail((job, i, len(out), describe(e), False))
                                result = (False, e)
                            except BaseException as e:  # SystemExit etc. kill the worker
                                fail((job, i, len(out), describe(e), True))
                                raise
                        else:  # one item: an apply, an imap item, a chunk of one
                            try:
                                result = (True, func(*args, **kwds))
                                last = clock()
                                append(last)
                                grouping = get_nowait is not None and last - now < FAST_NS
                            except Exception as e:
                                append(clock())
                                fail((job, i, 0, describe(e), False))
                                result = (False, e)
                                grouping = False
                            except BaseException as e:
                                append(clock())
                                fail((job, i, 0, describe(e), True))
                                raise
                try:
                    put((job, i, result))
                except Exception as e:
                    wrapped = mp_pool.MaybeEncodingError(e, result[1])
                    put((job, i, (False, wrapped)))
                task = job = result = func = args = kwds = None
        finally:
            if group:  # the worker ends inside a group (after the sentinel)
                extend([GROUP_END, clock()])
            wlog.exited = clock()

    return worker


# Items of a chunk are timed one by one while they take FAST_NS or more; faster ones
# are run in groups of up to MAX_GROUP items between two clock reads. A clock read
# (~80 ns here) costs more than a trivial item (~30 ns): timing each one measured 5x
# slower; grouping keeps map() with the default chunksize within 2x. A group's items
# share its measured span evenly (Task.measured is False for them).
FAST_NS = 10_000
MAX_GROUP = 64
# Fast one-item tasks run back to back are grouped up to MAX_RUN: fewer than in a chunk,
# because a slow task among them would share the span of the whole group.
MAX_RUN = 16


def _run_chunk(items, n: int, out: list, extend, clock) -> None:
    """Run ``items`` into ``out``, logging ``stamp`` after a timed item and
    ``-count, stamp`` after a group. On an exception the items so far, including the
    failing one, get their stamp before it propagates."""
    step, done = 1, 0
    last = None
    add = out.extend
    while done < n:
        try:
            add(_islice(items, step))
        except BaseException:
            got = len(out) - done + 1  # the failing item ran too
            extend([clock()] if got == 1 else [-got, clock()])
            raise
        now = clock()
        got = len(out) - done
        extend([now] if got == 1 else [-got, now])
        done += got
        if last is not None and now - last < FAST_NS * got:
            step = min(step * 2, MAX_GROUP, n - done) or 1
        else:
            step = 1
        last = now

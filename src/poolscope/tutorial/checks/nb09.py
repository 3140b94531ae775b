"""Checks for the exercises of ``09-The-GIL.ipynb``.

    >>> ok = ex9_2("c")
    Exercise 9.2 - Four pure-Python tasks on four threads: solved!
      4 x 0.1 s of work, one thread at a time: about 0.4 s (a little more for the hand-overs).
    >>> ex9_3([False, True, True, True])
    Exercise 9.3 - Which calls release the GIL?: not solved yet.
      (c) json.dumps(records) is not right yet
      hint: json builds Python str objects from Python dicts: C code needs the GIL to touch Python objects
    False

Exercise 9.1 reads the trace the learner's cell recorded. Exercise 9.4 calls the
learner's ``digest``, notes the size of every piece it feeds to hashlib (the rule that
decides whether an ``update()`` lets go of the GIL changed in 3.15, so the check applies
the rule that holds on every version), and probes it with
:func:`poolscope.tutorial.gil_workloads.lets_others_run`. None judges a timing: each holds however
busy the machine is.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .. import gil_workloads
from . import NotYet, exercise, expect, expect_true
from ._feedback import expect_letter
from ._traces import as_list, most_at_once, recorded_tasks

# -- 9.1 -------------------------------------------------------------------------------

REPLIES = 10


@exercise("9.1", "Ten slow replies at once")
def ex9_1(replies: Any, trace: Any) -> str:
    tasks = recorded_tasks(trace, "ex9_1_trace")
    expect_true(tasks, "the pool ran no tasks",
                hint="with ThreadPool(...) as pool: replies = pool.map(gw.fetch, [0.2] * 10)")
    expect_true(len(tasks) == REPLIES, f"your pool ran {len(tasks)} tasks, not {REPLIES}",
                hint="one gw.fetch(0.2) task per reply: pool.map(gw.fetch, [0.2] * 10)")
    unfinished = [f"item {t.index}: {t.outcome}" for t in tasks if t.outcome != "finished"]
    expect_true(not unfinished, f"not every task finished ({', '.join(unfinished)})",
                hint="collect the replies inside the with block (map does that for you)")
    at_once = most_at_once(tasks)
    expect_true(at_once == REPLIES,
                f"at most {at_once} of the {REPLIES} replies were awaited at the same time",
                hint="a thread that waits uses no CPU: give the pool one thread per reply, "
                     "ThreadPool(10), even on a machine with 2 cores")
    return expect(replies, [b"reply"] * REPLIES, message="replies is not right yet",
                  hint="replies = pool.map(gw.fetch, [0.2] * 10), inside the with block",
                  explain="10 threads waited at the same time: about 0.2 s in all, on any "
                          "number of cores.")


# -- 9.2 -------------------------------------------------------------------------------

_HINTS_9_2 = {
    "a": "0.1 s would need four cores, and threads that compute at the same time",
    "b": "there are two cores, but with the GIL only one thread runs Python code at a time",
    "d": "the threads take turns, but the total work stays 4 x 0.1 s: they do not slow each "
         "other down that much",
}


@exercise("9.2", "Four pure-Python tasks on four threads")
def ex9_2(answer: Any) -> str:
    expect_letter(answer, "c", _HINTS_9_2)
    return ("4 x 0.1 s of work, one thread at a time: about 0.4 s (a little more for the "
            "hand-overs).")


# -- 9.3 -------------------------------------------------------------------------------

CALLS_9_3 = ("(a) sorted(numbers)", "(b) zlib.compress(blob)", "(c) json.dumps(records)",
             "(d) bz2.compress(blob[:2**20])")
EXPECTED_9_3 = [False, True, False, True]
_HINTS_9_3 = [
    "sorted() compares Python float objects, and C code needs the GIL to touch Python objects",
    "zlib compresses a bytes buffer it has to itself: it lets go of the GIL while it works",
    "json builds Python str objects from Python dicts: C code needs the GIL to touch Python "
    "objects",
    "bz2.compress makes a BZ2Compressor, whose C code, like zlib's, works on a bytes buffer "
    "of its own and lets go of the GIL around each step of the compression",
]


@exercise("9.3", "Which calls release the GIL?")
def ex9_3(releases: Any) -> str:
    got = as_list(releases, "releases", "[True, False, True, False]")
    expect_true(len(got) == len(EXPECTED_9_3),
                f"releases should have {len(EXPECTED_9_3)} answers, one per call; it has "
                f"{len(got)}", hint="one True or False for each of (a), (b), (c) and (d)")
    expect_true(all(isinstance(x, bool) for x in got),
                "each answer should be True or False", hint="like [True, False, True, False]")
    for call, answer, right, hint in zip(CALLS_9_3, got, EXPECTED_9_3, _HINTS_9_3):
        expect_true(answer == right, f"{call} is not right yet", hint=hint)
    return ("C code can release the GIL only while it works on memory of its own (bytes, "
            "arrays), never while it touches Python objects.")


# -- 9.4 -------------------------------------------------------------------------------

PROBE_MIB = 64  # hashed in a loop by the probe until it has watched for 0.2 s
SIZES_9_4 = (0, 10, 5_000, 3 * gil_workloads.MIB + 7)
MINSIZE = gil_workloads.HASHLIB_GIL_MINSIZE


@functools.lru_cache(maxsize=1)
def _probe_data() -> bytes:
    return gil_workloads._mebibyte() * PROBE_MIB


def _callable(answer: Any) -> Callable[[bytes], Any]:
    if not callable(answer):
        raise NotYet("digest should be a function", expected="def digest(data): ...",
                     got=answer, hint="keep the def digest(data): of the cell and fix it")
    return answer


class _Watched:
    """A hash object that notes the size of each piece it is fed, then hashes it."""

    def __init__(self, real: Any, sizes: list[int]):
        self._real, self._sizes = real, sizes

    def update(self, data: Any) -> None:
        self._sizes.append(_size(data))
        self._real.update(data)

    def __getattr__(self, name: str) -> Any:  # hexdigest, digest, copy, name, ...
        return getattr(self._real, name)


def _size(data: Any) -> int:
    try:
        return memoryview(data).nbytes
    except TypeError:  # not bytes-like: hashlib's own update() raises the learner's error
        return -1


@contextlib.contextmanager
def _watching(fn: Any) -> Iterator[list[list[int]]]:
    """While active, ``hashlib.sha256`` and ``hashlib.new`` (also where ``fn``'s module
    imported them by name) make :class:`_Watched` objects in this thread; yields the
    sizes fed to each object, one list per object (constructor data first)."""
    log: list[list[int]] = []
    owner = threading.get_ident()
    real = {"sha256": hashlib.sha256, "new": hashlib.new}

    def watched(which: str) -> Callable[..., Any]:
        make = real[which]
        data_at = 0 if which == "sha256" else 1  # sha256(data) / new(name, data)

        def construct(*args: Any, **kwargs: Any) -> Any:
            obj = make(*args, **kwargs)
            if threading.get_ident() != owner:  # another thread of the kernel: not ours
                return obj
            data = args[data_at] if len(args) > data_at else kwargs.get(
                "data", kwargs.get("string"))
            size = 0 if data is None else _size(data)
            sizes = [size] if size else []
            log.append(sizes)
            return _Watched(obj, sizes)
        return construct

    fakes = {which: watched(which) for which in real}
    module_globals = getattr(fn, "__globals__", {})
    imported = [(name, which) for name, value in list(module_globals.items())
                for which in real if value is real[which]]  # from hashlib import sha256
    try:
        for which, fake in fakes.items():
            setattr(hashlib, which, fake)
        for name, which in imported:
            module_globals[name] = fakes[which]
        yield log
    finally:
        for which, make in real.items():
            setattr(hashlib, which, make)
        for name, which in imported:
            module_globals[name] = real[which]


def _most(sizes: list[int]) -> int:
    return max(set(sizes), key=sizes.count)


def _judge_pieces(log: list[list[int]]) -> None:
    """NotYet unless every piece but the last of each hash object is over 2 KiB."""
    expect_true(log, "the check could not see digest() make its hash object",
                hint="make it inside digest(), with h = hashlib.sha256(), as in the cell")
    for sizes in log:
        # Up to 3.14 a first piece of 2 KiB or more makes later small ones let go too.
        later = [s for s in sizes[1:-1] if s < MINSIZE]
        if sizes and sizes[0] >= MINSIZE and later:
            raise NotYet(f"after a first update() of {sizes[0]:,} bytes, digest() feeds "
                         f"hashlib pieces of {_most(later):,} bytes", show=False,
                         hint="up to 3.14 a hash object that once got 2 KiB or more lets go "
                              "of the GIL on every later update(), however small; from 3.15 "
                              "each update() decides by its own size, so these small ones "
                              "would hold it. Make every piece more than 2 KiB, such as 1 MiB")
    small = [s for sizes in log for s in sizes[:-1] if s <= MINSIZE]
    if not small:
        return
    if _most(small) == MINSIZE:
        raise NotYet(f"digest() feeds hashlib pieces of exactly {MINSIZE:,} bytes",
                     show=False,
                     hint="2048 bytes is enough up to 3.14, but from 3.15 hashlib lets go "
                          "of the GIL only for more than 2048 bytes: make the pieces bigger, "
                          "such as 1 MiB (1024 * 1024)")
    raise NotYet(f"digest() feeds hashlib pieces of {_most(small):,} bytes", show=False,
                 hint="hashlib holds the GIL for an update() of 2 KiB (2048 bytes) or "
                      "less: make each piece more than 2 KiB, such as 1 MiB (1024 * 1024)")


@exercise("9.4", "Hashing that lets other threads run")
def ex9_4(digest: Any) -> str:
    fn = _callable(digest)
    for size in SIZES_9_4:
        data = bytes(range(256)) * (size // 256) + bytes(size % 256)
        expect(fn(data), hashlib.sha256(data).hexdigest(),
               message=f"digest() of {size:,} bytes is not the SHA-256 hex digest",
               hint="keep h.hexdigest() at the end, and feed every byte of data to "
                    "h.update(), in order")
    with _watching(fn) as log:  # what digest() does with 64 MiB, watched and probed
        probe = gil_workloads.lets_others_run(fn, _probe_data())
    _judge_pieces(log)
    # Without the GIL (a free-threaded build) the probe cannot fail: the sizes decide.
    expect_true(probe.released or not gil_workloads.gil_enabled(),
                f"other threads could not run while digest() hashed {PROBE_MIB} MiB, "
                "although each piece was more than 2 KiB",
                hint="outside its update() calls digest() holds the GIL for much of the "
                     "time (Python code, or copying the data): slice a memoryview of data, "
                     "as the cell does, and keep only h.update() in the loop")
    return ("every update() hashes more than 2 KiB, enough to let go of the GIL on any "
            "version: other threads run while it hashes.")

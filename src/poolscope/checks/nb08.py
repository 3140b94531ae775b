"""Checks for the exercises of ``08-The-GIL.ipynb``.

    >>> ok = ex8_2("c")
    Exercise 8.2 - Four pure-Python tasks on four threads: solved!
      4 x 0.1 s of work, one thread at a time: about 0.4 s (a little more for the hand-overs).
    >>> ex8_3([False, True, True, True])
    Exercise 8.3 - Which calls release the GIL?: not solved yet.
      (c) json.dumps(records) is not right yet
      hint: json builds Python str objects from Python dicts: C code needs the GIL to touch Python objects
    False

Exercise 8.1 reads the trace the learner's cell recorded; exercise 8.4 calls the
learner's ``digest`` and probes it with :func:`poolscope.gil_workloads.lets_others_run`.
Neither judges a timing: both hold however busy the machine is.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from .. import gil_workloads
from . import NotYet, exercise, expect, expect_true
from ._feedback import expect_letter
from ._traces import as_list, most_at_once, recorded_tasks

# -- 8.1 -------------------------------------------------------------------------------

REPLIES = 10


@exercise("8.1", "Ten slow replies at once")
def ex8_1(replies: Any, trace: Any) -> str:
    tasks = recorded_tasks(trace, "ex8_1_trace")
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


# -- 8.2 -------------------------------------------------------------------------------

_HINTS_8_2 = {
    "a": "0.1 s would need four cores, and threads that compute at the same time",
    "b": "there are two cores, but with the GIL only one thread runs Python code at a time",
    "d": "the threads take turns, but the total work stays 4 x 0.1 s: they do not slow each "
         "other down that much",
}


@exercise("8.2", "Four pure-Python tasks on four threads")
def ex8_2(answer: Any) -> str:
    expect_letter(answer, "c", _HINTS_8_2)
    return ("4 x 0.1 s of work, one thread at a time: about 0.4 s (a little more for the "
            "hand-overs).")


# -- 8.3 -------------------------------------------------------------------------------

CALLS_8_3 = ("(a) sorted(numbers)", "(b) zlib.compress(blob)", "(c) json.dumps(records)",
             "(d) bz2.compress(blob)")
EXPECTED_8_3 = [False, True, False, True]
_HINTS_8_3 = [
    "sorted() compares Python float objects, and C code needs the GIL to touch Python objects",
    "zlib compresses a bytes buffer it has to itself: it lets go of the GIL while it works",
    "json builds Python str objects from Python dicts: C code needs the GIL to touch Python "
    "objects",
    "bz2, like zlib, works on a bytes buffer of its own: it lets go of the GIL while it works",
]


@exercise("8.3", "Which calls release the GIL?")
def ex8_3(releases: Any) -> str:
    got = as_list(releases, "releases", "[True, False, True, False]")
    expect_true(len(got) == len(EXPECTED_8_3),
                f"releases should have {len(EXPECTED_8_3)} answers, one per call; it has "
                f"{len(got)}", hint="one True or False for each of (a), (b), (c) and (d)")
    expect_true(all(isinstance(x, bool) for x in got),
                "each answer should be True or False", hint="like [True, False, True, False]")
    for call, answer, right, hint in zip(CALLS_8_3, got, EXPECTED_8_3, _HINTS_8_3):
        expect_true(answer == right, f"{call} is not right yet", hint=hint)
    return ("C code can release the GIL only while it works on memory of its own (bytes, "
            "arrays), never while it touches Python objects.")


# -- 8.4 -------------------------------------------------------------------------------

PROBE_MIB = 64  # long enough (about 0.1 s) for a clear answer from the probe
SIZES_8_4 = (0, 10, 5_000, 3 * gil_workloads.MIB + 7)


@functools.lru_cache(maxsize=1)
def _probe_data() -> bytes:
    return gil_workloads._mebibyte() * PROBE_MIB


def _callable(answer: Any) -> Callable[[bytes], Any]:
    if not callable(answer):
        raise NotYet("digest should be a function", expected="def digest(data): ...",
                     got=answer, hint="keep the def digest(data): of the cell and fix it")
    return answer


@exercise("8.4", "Hashing that lets other threads run")
def ex8_4(digest: Any) -> str:
    fn = _callable(digest)
    for size in SIZES_8_4:
        data = bytes(range(256)) * (size // 256) + bytes(size % 256)
        expect(fn(data), hashlib.sha256(data).hexdigest(),
               message=f"digest() of {size:,} bytes is not the SHA-256 hex digest",
               hint="keep h.hexdigest() at the end, and feed every byte of data to "
                    "h.update(), in order")
    # The probe's answer does not depend on the load, but a released GIL can be missed
    # on a very busy machine: try up to three times. Held, it is never seen released.
    for _ in range(3):
        probe = gil_workloads.lets_others_run(fn, _probe_data())
        if probe.released:
            return ("each update() now hashes enough to let go of the GIL: other threads "
                    "run while it hashes.")
    raise NotYet("other threads could not run while digest() hashed 64 MiB",
                 hint="hashlib lets go of the GIL only for 2 KiB or more per update(), and "
                      "takes it back when update() returns: make the pieces big, such as "
                      "1 MiB (1024 * 1024)", show=False)

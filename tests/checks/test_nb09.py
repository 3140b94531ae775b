"""The checks of 09-The-GIL.ipynb, and the GIL demos they and the notebook use
(poolscope.tutorial.gil_workloads): right answers pass, wrong ones get a hint, nothing raises,
and the verdicts the notebook prints follow from what was measured, on either kind of
build.

The wrong-answer corpus (``CORPUS``) runs each answer's code for real: the learner's
cell, recorded with ``poolscope.record()`` where the check reads a trace.

No test asserts a wall-clock time: timing ratios are measured by benchmarks/bench_gil.py.
The probe (`lets_others_run`) is tested for what it decides, which does not depend on the
load: code that holds the GIL stops the other thread for the whole call.
"""

from __future__ import annotations

import hashlib
import random
import sys
import threading
import time
from hashlib import sha256 as imported_sha256  # as a learner's `from hashlib import ...`
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope.tutorial import gil_workloads as gw
from poolscope.tutorial.checks import nb09
from poolscope.trace import FINISHED, PoolInfo, Task, Trace, Worker

from check_helpers import (empty_trace, every_check_tests, letter_question_tests, not_yet, run,
                           says_replace_the_dots)
from corpus import corpus_test, right, wrong

_RNG = random.Random(1)
NUMBERS = [_RNG.random() for _ in range(600_000)]  # sorted in about 0.1 s
GARBAGE = [None, "c", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb09.ex9_1, 2), (nb09.ex9_2, 1), (nb09.ex9_3, 1), (nb09.ex9_4, 1)]
TOO_FEW = "ThreadPool(10), even on a machine with 2 cores"


# --- 9.1 ten slow replies at once ----------------------------------------------------------

def fetch_all(workers: int, n: int = 10, delay: float = 0.2):
    """The answer cell: ``pool.map(gw.fetch, [delay] * n)`` on ``ThreadPool(workers)``."""
    with poolscope.record() as trace:
        with ThreadPool(workers) as pool:
            replies = pool.map(gw.fetch, [delay] * n)
    return replies, trace


def fetch_in_a_loop():
    with poolscope.record() as trace:
        replies = [gw.fetch(0.2) for _ in range(10)]
    return replies, trace


def map_async_dropped_by_the_with_block():
    with poolscope.record() as trace:
        with ThreadPool(10) as pool:
            pending = pool.map_async(gw.fetch, [0.2] * 10)
            time.sleep(0.05)
    return pending.ready(), trace


CORPUS_9_1 = [
    right("9.1", "ThreadPool(10).map", lambda: fetch_all(10),
          praise="10 threads waited at the same time"),
    right("9.1", "more threads than replies", lambda: fetch_all(16)),
    wrong("9.1", "ThreadPool(4)", lambda: fetch_all(4), hint=TOO_FEW),
    wrong("9.1", "one thread per core, ThreadPool(2)", lambda: fetch_all(2), hint=TOO_FEW),
    wrong("9.1", "a loop without a pool", fetch_in_a_loop,
          hint="pool.map(gw.fetch, [0.2] * 10)"),
    wrong("9.1", "map_async left behind by the with block",
          map_async_dropped_by_the_with_block,
          hint="collect the replies inside the with block"),
    wrong("9.1", "five replies", lambda: fetch_all(10, n=5),
          hint="one gw.fetch(0.2) task per reply"),
]


def test_ex8_1_says_how_many_waited_at_once(capsys):
    ok, out = run(nb09.ex9_1, capsys, *fetch_all(4))
    assert ok is False and "at most 4 of the 10 replies" in out


def test_ex8_1_says_how_many_tasks_ran(capsys):
    ok, out = run(nb09.ex9_1, capsys, *fetch_all(10, n=5, delay=0.05))
    assert ok is False and "ran 5 tasks, not 10" in out


def test_ex8_1_names_the_abandoned_tasks(capsys):
    ok, out = run(nb09.ex9_1, capsys, *map_async_dropped_by_the_with_block())
    assert ok is False and "abandoned" in out


def test_ex8_1_wrong_replies(capsys):
    replies, trace = fetch_all(10, delay=0.05)
    ok, out = run(nb09.ex9_1, capsys, replies[:9], trace)
    assert ok is False and not_yet(out, "replies = pool.map(gw.fetch, [0.2] * 10)"), out


def test_ex8_1_not_a_trace(capsys):
    ok, out = run(nb09.ex9_1, capsys, [b"reply"] * 10, "ex9_1_trace")
    assert ok is False and not_yet(out, "%%timeline --out ex9_1_trace"), out


# --- 9.2 four pure-Python tasks on four threads -------------------------------------------

CORPUS_9_2 = [
    right("9.2", "(c) about 0.4 s", ("c",), praise="one thread at a time"),
    wrong("9.2", "(a) 0.1 s, four threads at once", ("a",), hint="would need four cores"),
    wrong("9.2", "(b) 0.2 s, one thread per core", ("b",),
          hint="only one thread runs Python code at a time"),
    wrong("9.2", "(d) 1.6 s, threads slow each other down", ("d",),
          hint="the total work stays 4 x 0.1 s"),
]

test_ex8_2_spellings, test_ex8_2_not_a_letter = letter_question_tests(
    nb09.ex9_2, "c", "one thread at a time", [
        ("e", "one of the letters"),
        (3, "write the letter as a string"),
    ])


@pytest.mark.parametrize("letter", ["a", "b", "d"])
def test_ex8_2_a_wrong_letter_does_not_give_the_right_one_away(capsys, letter):
    ok, out = run(nb09.ex9_2, capsys, letter)
    assert ok is False and "(c)" not in out and "'c'" not in out


# --- 9.3 which calls release the GIL ------------------------------------------------------

CORPUS_9_3 = [
    right("9.3", "only zlib and bz2", ([False, True, False, True],),
          praise="never while it touches Python objects"),
    right("9.3", "as a tuple", ((False, True, False, True),)),
    wrong("9.3", "all four are C code, so all release it", ([True, True, True, True],),
          hint="sorted() compares Python float objects"),
    wrong("9.3", "json is C code too", ([False, True, True, True],),
          hint="json builds Python str objects"),
    wrong("9.3", "only zlib (bz2.compress is Python)", ([False, True, False, False],),
          hint="bz2.compress makes a BZ2Compressor"),
    wrong("9.3", "compression holds it, it returns a new object", ([False, False, False, True],),
          hint="zlib compresses a bytes buffer"),
    wrong("9.3", "sorting numbers releases it, like numpy", ([True, True, False, True],),
          hint="sorted() compares Python float objects"),
]


def test_ex8_3_names_the_call_it_asks_about(capsys):
    ok, out = run(nb09.ex9_3, capsys, [False, True, False, False])
    assert ok is False and "(d) bz2.compress(blob[:2**20]) is not right yet" in out


@pytest.mark.parametrize("answer, hint", [
    ([False, True, False], "one True or False for each"),
    ([0, 1, 0, 1], "like [True, False, True, False]"),
    ("FTFT", "write a list"),
])
def test_ex8_3_wrong_shape(capsys, answer, hint):
    ok, out = run(nb09.ex9_3, capsys, answer)
    assert ok is False and not_yet(out, hint), out


def test_the_answer_key_of_ex8_3_is_what_the_probe_finds():
    # The check's key is not taken on trust: each call is probed here.
    import bz2
    import json
    import zlib

    rng = random.Random(8)
    numbers = [rng.random() for _ in range(400_000)]  # as the notebook makes them
    records = [{"id": i, "name": f"item {i}"} for i in range(100_000)]
    blob = rng.randbytes(4 * 2**20)
    calls = [(sorted, numbers), (zlib.compress, blob), (json.dumps, records),
             (bz2.compress, blob[:2**20])]
    found = [gw.lets_others_run(call, arg).released for call, arg in calls]
    assert found == nb09.EXPECTED_9_3


# --- 9.4 hashing that lets other threads run ---------------------------------------------

def cell_9_4(piece: int):
    """The answer cell of 9.4, with ``PIECE = piece``."""
    def digest(data):
        h = hashlib.sha256()
        view = memoryview(data)
        for start in range(0, len(view), piece):
            h.update(view[start:start + piece])
        return h.hexdigest()
    return digest


def big_first(first: int, piece: int = 1024):
    """One update() of ``first`` bytes, then ``piece`` bytes at a time (the quirk of 3.11-3.14)."""
    def digest(data):
        h = hashlib.sha256()
        view = memoryview(data)
        h.update(view[:first])
        for start in range(first, len(view), piece):
            h.update(view[start:start + piece])
        return h.hexdigest()
    return digest


def imported_by_name(data):
    """The cell, after `from hashlib import sha256` (left at 1 KiB pieces)."""
    h = imported_sha256()
    view = memoryview(data)
    for start in range(0, len(view), 1024):
        h.update(view[start:start + 1024])
    return h.hexdigest()


SMALL = "hashlib holds the GIL for an update() of 2 KiB (2048 bytes) or less"
QUIRK = "up to 3.14 a hash object that once got 2 KiB or more"
CORPUS_9_4 = [
    right("9.4", "1 MiB pieces", (cell_9_4(2**20),),
          praise="other threads run while it hashes"),
    right("9.4", "4 KiB pieces", (cell_9_4(4096),)),
    right("9.4", "2049-byte pieces", (cell_9_4(2049),)),
    right("9.4", "one call, no pieces", (lambda data: hashlib.sha256(data).hexdigest(),)),
    right("9.4", "hashlib.new with the data", (lambda data: hashlib.new("sha256", data).hexdigest(),)),
    wrong("9.4", "left at 1 KiB", (cell_9_4(1024),), hint=SMALL),
    wrong("9.4", "just under 2 KiB", (cell_9_4(2047),), hint=SMALL),
    wrong("9.4", "exactly 2 KiB", (cell_9_4(2048),),
          hint="2048 bytes is enough up to 3.14, but from 3.15"),
    wrong("9.4", "one 2 KiB update first, then 1 KiB", (big_first(2048),), hint=QUIRK),
    wrong("9.4", "one 1 MiB update first, then 1 KiB", (big_first(2**20),), hint=QUIRK),
    wrong("9.4", "from hashlib import sha256, 1 KiB", (imported_by_name,), hint=SMALL),
    wrong("9.4", "md5 instead of sha256", (lambda data: hashlib.md5(data).hexdigest(),),
          hint="is not the SHA-256 hex digest"),
    wrong("9.4", "the last byte left out", (lambda data: hashlib.sha256(data[:-1]).hexdigest(),),
          hint="feed every byte of data"),
    wrong("9.4", "digest() instead of hexdigest()", (lambda data: hashlib.sha256(data).digest(),),
          hint="keep h.hexdigest() at the end"),
]


def test_ex8_4_says_which_pieces_it_saw(capsys):
    ok, out = run(nb09.ex9_4, capsys, big_first(2048))
    assert ok is False
    assert "after a first update() of 2,048 bytes, digest() feeds hashlib pieces of 1,024" in out
    ok, out = run(nb09.ex9_4, capsys, cell_9_4(1024))
    assert "digest() feeds hashlib pieces of 1,024 bytes" in out


def test_ex8_4_the_sizes_decide_even_where_the_probe_cannot(monkeypatch, capsys):
    # On a free-threaded build every call lets other threads run: the probe always says
    # so. The check must still turn small pieces down, and still pass big ones.
    monkeypatch.setattr(gw, "gil_enabled", lambda: False)
    monkeypatch.setattr(gw, "lets_others_run", lambda call, *args, **kw: (
        call(*args), gw.Probe("free", 1.0, 0.0))[1])
    ok, out = run(nb09.ex9_4, capsys, cell_9_4(1024))
    assert ok is False and not_yet(out, SMALL), out
    ok, out = run(nb09.ex9_4, capsys, big_first(2048))
    assert ok is False and not_yet(out, QUIRK), out
    assert run(nb09.ex9_4, capsys, cell_9_4(2**20))[0] is True


def test_ex8_4_big_pieces_with_the_gil_held_in_between(capsys):
    def digest(data):
        h = hashlib.sha256()
        view = memoryview(data)
        for start in range(0, len(view), 2**20):
            h.update(view[start:start + 2**20])
        # Python work holds the GIL, here for longer than all the hashing: a short hold
        # between pieces would not do (the other thread runs between them).
        gw.python_work(6_000_000 if len(data) > 2**20 else 1)
        return h.hexdigest()
    ok, out = run(nb09.ex9_4, capsys, digest)
    assert ok is False and not_yet(out, "outside its update() calls digest() holds the GIL"), out


def test_ex8_4_a_digest_that_raises_is_feedback(capsys):
    def digest(data):
        raise RuntimeError("oops")
    ok, out = run(nb09.ex9_4, capsys, digest)
    assert ok is False and "could not use your answer: RuntimeError: oops" in out


def test_ex8_4_not_a_function(capsys):
    ok, out = run(nb09.ex9_4, capsys, "sha256")
    assert ok is False and not_yet(out, "keep the def digest(data)"), out


def test_ex8_4_a_hash_object_the_check_cannot_see(capsys):
    def digest(data, make=hashlib.sha256):  # bound before the check looks
        h = make()
        h.update(data)
        return h.hexdigest()
    ok, out = run(nb09.ex9_4, capsys, digest)
    assert ok is False and not_yet(out, "with h = hashlib.sha256(), as in the cell"), out


def test_watching_hashlib_restores_everything_even_when_digest_raises():
    real_sha256, real_new = hashlib.sha256, hashlib.new
    with pytest.raises(ZeroDivisionError):
        with nb09._watching(imported_by_name) as log:
            assert hashlib.sha256 is not real_sha256 and hashlib.new is not real_new
            assert globals()["imported_sha256"] is not real_sha256  # imported by name too
            imported_by_name(bytes(3000))
            1 / 0
    assert log == [[1024, 1024, 952]]
    assert hashlib.sha256 is real_sha256 and hashlib.new is real_new
    assert globals()["imported_sha256"] is real_sha256


def test_watching_hashlib_leaves_other_threads_alone():
    made = []
    with nb09._watching(cell_9_4(1024)) as log:
        thread = threading.Thread(target=lambda: made.append(hashlib.sha256(b"x" * 5000)))
        thread.start()
        thread.join()
        hashlib.new("sha256", b"y" * 5000).update(b"z")
    assert type(made[0]) is type(hashlib.sha256())  # a real hash object, not watched
    assert log == [[5000, 1]]  # only this thread's object


# --- the corpus: every exercise's right and plausible wrong answers ------------------------

CORPUS = CORPUS_9_1 + CORPUS_9_2 + CORPUS_9_3 + CORPUS_9_4
test_corpus = corpus_test(nb09, CORPUS)


# --- every check: the stub, garbage, quiet -------------------------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE, right=[(nb09.ex9_2, "c")])


def test_the_stub_with_a_recorded_trace_says_replace_the_dots(capsys):
    # The stub of 9.1 records an empty trace.
    says_replace_the_dots(capsys, nb09.ex9_1, ..., empty_trace())


def test_quiet_prints_nothing(capsys):
    assert nb09.ex9_2("c", quiet=True) is True
    assert nb09.ex9_3([True] * 4, quiet=True) is False
    assert capsys.readouterr().out == ""


# --- the probe -----------------------------------------------------------------------------

@pytest.mark.parametrize("call, args, released", [
    (time.sleep, (0.15,), True),
    (gw.fetch, (0.15,), True),
    (hashlib.sha256, (bytes(64 * 2**20),), True),
    (sorted, (NUMBERS,), False),
], ids=["sleep", "socket", "hashlib", "sorted"])
def test_the_probe_tells_which_calls_release_the_gil(call, args, released):
    assert gw.lets_others_run(call, *args).released is released


def test_the_probe_sees_pure_python_hold_the_gil_for_the_whole_call():
    probe = gw.lets_others_run(gw.python_work, gw.calibrate(gw.python_work, 0.1))
    assert probe.released is False
    assert probe.stopped == pytest.approx(probe.seconds, rel=0.2)


def test_the_probe_restores_the_switch_interval_even_when_the_call_raises():
    before = sys.getswitchinterval()
    with pytest.raises(ZeroDivisionError):
        gw.lets_others_run(lambda: 1 / 0)
    assert sys.getswitchinterval() == before
    assert gw.lets_others_run(time.sleep, 0.01).released  # and its own thread is gone


def test_the_probe_repeats_a_short_call_until_it_can_tell():
    probe = gw.lets_others_run(sorted, NUMBERS[:20_000])  # a few milliseconds a call
    assert probe.calls > 1 and probe.seconds >= gw.PROBE_SECONDS
    assert probe.released is False and probe.clear_cut
    assert str(probe).endswith("could run meanwhile: False")


def test_the_probe_measures_again_while_the_answer_is_not_clear_cut(monkeypatch):
    shares = iter([0.5, 0.4, 0.9, 0.0])
    made = []

    def once(call, args, name, tick, seconds):
        made.append(gw.Probe(name, 1.0, next(shares)))
        return made[-1]
    monkeypatch.setattr(gw, "_probe_once", once)
    assert gw.lets_others_run(print, name="p") is made[2]  # the third is clear-cut
    assert gw.lets_others_run(print, name="p", attempts=1) is made[3]


def test_a_probe_prints_no_times():
    probe = gw.Probe("f(x)", seconds=0.123, stopped=0.1)
    assert str(probe) == "f(x): other threads could run meanwhile: False"
    assert str(gw.Probe("g()", 1.0, 0.6)).endswith("False (only partly: probe it again)")
    assert gw.Probe("g()", 1.0, 0.4).released and not gw.Probe("g()", 1.0, 0.4).clear_cut


@pytest.mark.parametrize("bad", [0, -1, "0.2", None, 11])
def test_the_probe_refuses_bad_seconds(bad):
    with pytest.raises(ValueError, match="seconds must be"):
        gw.lets_others_run(time.sleep, 0, seconds=bad)


@pytest.mark.skipif(not gw.gil_enabled(), reason="without the GIL every call lets others run")
def test_hashlib_lets_go_of_the_gil_as_the_notebook_says():
    """The rule the notebook teaches and exercise 9.4 applies, on this version."""
    data = bytes(8 * 2**20)
    assert gw.lets_others_run(cell_9_4(1024), data).released is False
    assert gw.lets_others_run(cell_9_4(2047), data).released is False
    assert gw.lets_others_run(cell_9_4(2049), data).released is True
    up_to_3_14 = sys.version_info < (3, 15)
    assert gw.lets_others_run(cell_9_4(2048), data).released is up_to_3_14
    assert gw.lets_others_run(big_first(2048), data).released is up_to_3_14


# --- the tasks and measurements ------------------------------------------------------------

def test_fetch_waits_for_the_reply_and_refuses_bad_delays():
    assert gw.fetch(0.01) == b"reply"
    for bad in (-1, "0.2", None, 6.0):
        with pytest.raises(ValueError, match="delay must be"):
            gw.fetch(bad)


def test_the_workloads_compute_what_they_say():
    assert gw.python_work(5) == sum(i * i for i in range(5))
    assert gw.hash_work(2) == hashlib.sha256(gw._mebibyte() * 2).hexdigest()
    assert gw.sort_work(1) == float(gw.random_array().min())


@pytest.mark.parametrize("bad", [0, -1, "0.1", None, 61])
def test_calibrate_refuses_bad_seconds(bad):
    with pytest.raises(ValueError, match="seconds must be"):
        gw.calibrate(gw.python_work, bad)


def test_compare_runs_each_pool_size_and_reports_them():
    c = gw.compare(time.sleep, [0.01] * 3, workers=(1, 3), name="naps")
    assert [r.workers for r in c.runs] == [1, 3]
    assert all(r.trace.count("finished") == 3 for r in c.runs)
    assert [p.size for p in c.run(3).trace.pools] == [3]
    lines = c.table().splitlines()
    assert lines[0] == "naps: 3 tasks" and lines[2].startswith("ThreadPool(1) ")
    assert lines[3].startswith("ThreadPool(3) ")
    assert c.speedup(1) == 1.0
    with pytest.raises(ValueError, match="no run with 2 workers"):
        c.run(2)


@pytest.mark.parametrize("items, workers, message", [
    ([], (1,), "nothing to run"),
    ([0.01], (0,), "pool sizes of at least 1"),
    ([0.01], (), "pool sizes of at least 1"),
])
def test_compare_refuses_bad_input(items, workers, message):
    with pytest.raises(ValueError, match=message):
        gw.compare(time.sleep, items, workers=workers)


def test_the_side_by_side_plot_shares_one_time_axis():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    c = gw.compare(time.sleep, [0.02] * 2, workers=(1, 2))
    axes = c.plot()
    try:
        assert len(axes) == 2
        assert axes[0].get_xlim() == axes[1].get_xlim()
        assert axes[0].get_xlim()[1] >= c.runs[0].summary().makespan  # the longest run fits
        assert [ax.get_title(loc="left") for ax in axes] == [
            "sleep: ThreadPool(1)", "sleep: ThreadPool(2)"]
    finally:
        plt.close(axes[0].figure)


def test_waiting_keeps_no_core_busy():
    assert gw.cores_busy(time.sleep, 0.05) < 0.5  # sleeping uses (almost) no CPU


def test_default_pool_size_is_what_threadpool_chooses():
    with poolscope.record() as trace:
        with ThreadPool():
            pass
    assert trace.pools[0].size == gw.default_pool_size()


# --- the verdict, on either kind of build --------------------------------------------------

TOGETHER = [(0.0, 1.0), (0.01, 0.99), (0.02, 0.98), (0.03, 0.97)]


def comparison(cpu: float, spans=TOGETHER) -> gw.Comparison:
    """A made-up ThreadPool(4) run of 4 tasks (start, finish) over 1 s that used ``cpu``
    CPU seconds."""
    tasks = [Task(0, "map", 0, i, f"w{i}", i, 0.0, start, end, FINISHED)
             for i, (start, end) in enumerate(spans)]
    trace = Trace.from_records(tasks, workers=[Worker(0, i, f"w{i}", 0.0) for i in range(4)],
                               pools=[PoolInfo(0, "ThreadPool", 4, 0.0)])
    return gw.Comparison("python_work", (gw.Run(4, 1.0, cpu, trace, (0,) * 4),))


def test_with_the_gil_the_verdict_checks_for_one_core_at_most():
    text = gw.python_verdict(comparison(cpu=0.97), gil=True)
    assert text.splitlines() == [
        "ThreadPool(4) on pure-Python work, with the GIL (this build):",
        "  their bars overlapped (tasks in progress at the same time): True",
        "  yet together they kept at most one core busy: True"]


def test_the_gil_verdict_would_say_false_if_threads_ran_python_in_parallel():
    assert gw.python_verdict(comparison(cpu=1.9), gil=True).endswith(
        "together they kept at most one core busy: False")


def test_without_the_gil_the_verdict_checks_for_more_than_one_core():
    text = gw.python_verdict(comparison(cpu=1.9), gil=False)
    assert "without the GIL (a free-threaded build)" in text
    assert text.endswith("and together they kept more than one core busy: True")
    assert gw.python_verdict(comparison(cpu=0.97), gil=False).endswith("busy: False")


def test_tasks_that_ran_one_after_another_did_not_overlap():
    one_by_one = comparison(cpu=1.0, spans=[(0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0)])
    assert "at the same time): False" in gw.python_verdict(one_by_one, gil=True)
    two_then_two = comparison(cpu=1.0, spans=[(0.0, 0.5), (0.0, 0.5), (0.5, 1.0), (0.5, 1.0)])
    assert "at the same time): True" in gw.python_verdict(two_then_two, gil=True)


def test_the_verdict_follows_the_detected_build(monkeypatch):
    # Only GIL builds exist here: fake the detection of a free-threaded one.
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    assert gw.gil_enabled() is False
    assert "without the GIL" in gw.python_verdict(comparison(cpu=1.9))
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: True, raising=False)
    assert gw.gil_enabled() is True
    assert "with the GIL (this build)" in gw.python_verdict(comparison(cpu=0.97))


def test_before_3_13_there_is_no_detection_and_the_gil_is_on(monkeypatch):
    monkeypatch.delattr(sys, "_is_gil_enabled", raising=False)
    assert gw.gil_enabled() is True


def test_this_build_has_the_gil_as_the_notebook_says():
    assert gw.gil_enabled() is True

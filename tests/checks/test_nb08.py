"""The checks of 08-The-GIL.ipynb, and the GIL demos they and the notebook use
(poolscope.gil_workloads): right answers pass, wrong ones get a hint, nothing raises,
and the verdicts the notebook prints follow from what was measured, on either kind of
build.

No test asserts a wall-clock time: timing ratios are measured by benchmarks/bench_gil.py.
The probe (`lets_others_run`) is tested for what it decides, which does not depend on the
load: code that holds the GIL stops the other thread for the whole call.
"""

from __future__ import annotations

import hashlib
import random
import sys
import time
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope import gil_workloads as gw
from poolscope.checks import nb08
from poolscope.trace import FINISHED, PoolInfo, Task, Trace, Worker

from check_helpers import (empty_trace, every_check_tests, letter_question_tests, not_yet, run,
                           says_replace_the_dots)

_RNG = random.Random(1)
NUMBERS = [_RNG.random() for _ in range(600_000)]  # sorted in about 0.1 s
GARBAGE = [None, "c", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb08.ex8_1, 2), (nb08.ex8_2, 1), (nb08.ex8_3, 1), (nb08.ex8_4, 1)]


# --- 8.1 ten slow replies at once ----------------------------------------------------------

def fetch_all(workers: int, n: int = 10):
    with poolscope.record() as trace:
        with ThreadPool(workers) as pool:
            replies = pool.map(gw.fetch, [0.05] * n)
    return replies, trace


def test_ex8_1_right(capsys):
    ok, out = run(nb08.ex8_1, capsys, *fetch_all(10))
    assert ok is True and "10 threads waited at the same time" in out


def test_ex8_1_more_threads_than_replies_is_fine(capsys):
    ok, out = run(nb08.ex8_1, capsys, *fetch_all(16))
    assert ok is True, out


def test_ex8_1_too_few_threads(capsys):
    ok, out = run(nb08.ex8_1, capsys, *fetch_all(4))
    assert ok is False and not_yet(out, "ThreadPool(10), even on a machine with 2 cores"), out
    assert "at most 4 of the 10 replies" in out


def test_ex8_1_wrong_number_of_tasks(capsys):
    ok, out = run(nb08.ex8_1, capsys, *fetch_all(10, n=5))
    assert ok is False and not_yet(out, "one gw.fetch(0.2) task per reply"), out
    assert "ran 5 tasks, not 10" in out


def test_ex8_1_no_pool(capsys):
    with poolscope.record() as trace:
        replies = [gw.fetch(0) for _ in range(10)]
    ok, out = run(nb08.ex8_1, capsys, replies, trace)
    assert ok is False and not_yet(out, "pool.map(gw.fetch, [0.2] * 10)"), out


def test_ex8_1_results_dropped_by_the_with_block(capsys):
    with poolscope.record() as trace:
        with ThreadPool(10) as pool:
            pending = pool.map_async(gw.fetch, [0.2] * 10)
            time.sleep(0.05)
    ok, out = run(nb08.ex8_1, capsys, pending.ready(), trace)
    assert ok is False and not_yet(out, "collect the replies inside the with block"), out
    assert "abandoned" in out


def test_ex8_1_wrong_replies(capsys):
    replies, trace = fetch_all(10)
    ok, out = run(nb08.ex8_1, capsys, replies[:9], trace)
    assert ok is False and not_yet(out, "replies = pool.map(gw.fetch, [0.2] * 10)"), out


def test_ex8_1_not_a_trace(capsys):
    ok, out = run(nb08.ex8_1, capsys, [b"reply"] * 10, "ex8_1_trace")
    assert ok is False and not_yet(out, "%%timeline --out ex8_1_trace"), out


# --- 8.2 four pure-Python tasks on four threads -------------------------------------------

test_ex8_2_right, test_ex8_2_wrong_does_not_give_the_letter_away = letter_question_tests(
    nb08.ex8_2, "c", "one thread at a time", [
        ("a", "would need four cores"),
        ("b", "only one thread runs Python code at a time"),
        ("d", "the total work stays 4 x 0.1 s"),
        ("e", "one of the letters"),
        (3, "write the letter as a string"),
    ], giveaways=["(c)", "'c'"])


# --- 8.3 which calls release the GIL ------------------------------------------------------

def test_ex8_3_right(capsys):
    ok, out = run(nb08.ex8_3, capsys, [False, True, False, True])
    assert ok is True and "never while it touches Python objects" in out


def test_ex8_3_a_tuple_is_fine(capsys):
    assert run(nb08.ex8_3, capsys, (False, True, False, True))[0] is True


@pytest.mark.parametrize("position, hint", [
    (0, "sorted() compares Python float objects"),
    (1, "zlib compresses a bytes buffer"),
    (2, "json builds Python str objects"),
    (3, "bz2, like zlib"),
])
def test_ex8_3_each_wrong_answer_gets_its_own_hint(capsys, position, hint):
    answer = [False, True, False, True]
    answer[position] = not answer[position]
    ok, out = run(nb08.ex8_3, capsys, answer)
    assert ok is False and not_yet(out, hint), out
    assert nb08.CALLS_8_3[position] in out


@pytest.mark.parametrize("answer, hint", [
    ([False, True, False], "one True or False for each"),
    ([0, 1, 0, 1], "like [True, False, True, False]"),
    ("FTFT", "write a list"),
])
def test_ex8_3_wrong_shape(capsys, answer, hint):
    ok, out = run(nb08.ex8_3, capsys, answer)
    assert ok is False and not_yet(out, hint), out


def test_the_answer_key_of_ex8_3_is_what_the_probe_finds():
    # The check's key is not taken on trust: each call is probed here.
    import bz2
    import json
    import zlib

    rng = random.Random(8)
    numbers = [rng.random() for _ in range(1_000_000)]
    records = [{"id": i, "name": f"item {i}"} for i in range(300_000)]
    blob = rng.randbytes(8 * 2**20)
    calls = [(sorted, numbers), (zlib.compress, blob), (json.dumps, records),
             (bz2.compress, blob[:2**20])]
    found = [gw.lets_others_run(call, arg).released for call, arg in calls]
    assert found == nb08.EXPECTED_8_3


# --- 8.4 hashing that lets other threads run ---------------------------------------------

def digest_in_pieces(piece: int):
    def digest(data):
        h = hashlib.sha256()
        view = memoryview(data)
        for start in range(0, len(view), piece):
            h.update(view[start:start + piece])
        return h.hexdigest()
    return digest


@pytest.mark.parametrize("digest", [digest_in_pieces(2**20),
                                    lambda data: hashlib.sha256(data).hexdigest()],
                         ids=["1 MiB pieces", "one call"])
def test_ex8_4_right(capsys, digest):
    ok, out = run(nb08.ex8_4, capsys, digest)
    assert ok is True and "other threads run while it hashes" in out


@pytest.mark.parametrize("piece", [1024, 2047])
def test_ex8_4_pieces_below_2_kib_hold_the_gil(capsys, piece):
    ok, out = run(nb08.ex8_4, capsys, digest_in_pieces(piece))
    assert ok is False and not_yet(out, "only for 2 KiB or more per update()"), out


@pytest.mark.parametrize("digest, hint", [
    (lambda data: hashlib.md5(data).hexdigest(), "is not the SHA-256 hex digest"),
    (lambda data: hashlib.sha256(data[:-1]).hexdigest(), "feed every byte of data"),
    (lambda data: hashlib.sha256(data).digest(), "keep h.hexdigest() at the end"),
])
def test_ex8_4_wrong_digest(capsys, digest, hint):
    ok, out = run(nb08.ex8_4, capsys, digest)
    assert ok is False and not_yet(out, hint), out


def test_ex8_4_a_digest_that_raises_is_feedback(capsys):
    def digest(data):
        raise RuntimeError("oops")
    ok, out = run(nb08.ex8_4, capsys, digest)
    assert ok is False and "could not use your answer: RuntimeError: oops" in out


def test_ex8_4_not_a_function(capsys):
    ok, out = run(nb08.ex8_4, capsys, "sha256")
    assert ok is False and not_yet(out, "keep the def digest(data)"), out


# --- every check: the stub, garbage, quiet -------------------------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE, right=[(nb08.ex8_2, "c")])


def test_the_stub_with_a_recorded_trace_says_replace_the_dots(capsys):
    # The stub of 8.1 records an empty trace.
    says_replace_the_dots(capsys, nb08.ex8_1, ..., empty_trace())


def test_quiet_prints_nothing(capsys):
    assert nb08.ex8_2("c", quiet=True) is True
    assert nb08.ex8_3([True] * 4, quiet=True) is False
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


def test_the_probe_sees_a_short_call_hold_the_gil_too():
    probe = gw.lets_others_run(sorted, NUMBERS[:20_000])  # a few milliseconds
    assert probe.released is False
    assert str(probe).endswith("False (too short a call to be sure)")


def test_a_probe_prints_no_times():
    probe = gw.Probe("f(x)", seconds=0.123, stopped=0.1)
    assert str(probe) == "f(x): other threads could run meanwhile: False"


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

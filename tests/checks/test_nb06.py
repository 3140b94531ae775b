"""The checks of 06-Playground.ipynb: right answers pass, wrong ones get a hint, nothing raises."""

from __future__ import annotations

import pytest

from poolscope.checks import nb06
from poolscope.playground import Experiment

from check_helpers import run

GARBAGE = [None, "3", 3 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]


@pytest.mark.parametrize("check, arity", [(nb06.ex6_1, 2), (nb06.ex6_2, 2), (nb06.ex6_3, 1),
                                          (nb06.ex6_4, 1)])
def test_unanswered_and_garbage_never_raise(check, arity, capsys):
    ok, out = run(check, capsys, *[...] * arity)
    assert ok is False and "not solved yet (replace the ... with your answer)" in out
    for junk in GARBAGE:
        ok, out = run(check, capsys, *[junk] * arity)
        assert ok is False and "not solved yet." in out and out.isascii()


# --- 6.1 waves --------------------------------------------------------------------------

def test_ex6_1_right(capsys):
    ok, out = run(nb06.ex6_1, capsys, 3, 0.3)
    assert ok and "solved!" in out and "waves of 4, 4 and 2" in out
    assert nb06.ex6_1(3.0, 0.31, quiet=True)


@pytest.mark.parametrize("answer, hint", [
    ((2, 0.2), "hold only 8 tasks"),
    ((10, 1.0), "one task at a time"),
    ((2.5, 0.25), "count whole rounds"),
    ((4, 0.4), "divide the tasks by the workers and round up"),
    ((3, 0.25), "the last wave has only 2 tasks"),
    ((3, 1.0), "each wave takes as long as one task"),
])
def test_ex6_1_wrong_gets_a_hint(answer, hint, capsys):
    ok, out = run(nb06.ex6_1, capsys, *answer)
    assert ok is False and hint in out


# --- 6.2 chunks -------------------------------------------------------------------------

def test_ex6_2_right(capsys):
    ok, out = run(nb06.ex6_2, capsys, 0.4, 2)
    assert ok and "two get nothing" in out


@pytest.mark.parametrize("answer, hint", [
    ((0.2, 0), "takes 4 items at once"),
    ((0.8, 2), "how many items does one worker run in a row"),
    ((0.4, 0), "make 2 chunks"),
])
def test_ex6_2_wrong_gets_a_hint(answer, hint, capsys):
    ok, out = run(nb06.ex6_2, capsys, *answer)
    assert ok is False and hint in out


# --- 6.4 drop six tasks (runs the experiment) --------------------------------------------

@pytest.mark.parametrize("answer", [
    Experiment(workers=4, tasks=10, duration=0.1, method="apply_async", shutdown="with"),
    Experiment(workers=4, tasks=10, duration=0.05, method="map_async", shutdown="terminate"),
    Experiment(workers=4, tasks=10, duration=0.05, method="starmap_async", shutdown="with",
               callbacks=True),
])
def test_ex6_4_right(answer, capsys):
    ok, out = run(nb06.ex6_4, capsys, answer)
    assert ok and "the 6 never ran" in out


@pytest.mark.parametrize("answer, hint", [
    (Experiment(workers=4, tasks=12, method="map_async", shutdown="with"), "keep workers=4"),
    (Experiment(workers=4, tasks=10, method="map", shutdown="terminate"),
     "submit with apply_async"),
    (Experiment(workers=4, tasks=10, method="map_async"), "shut the pool down with terminate"),
    (Experiment(workers=4, tasks=10, duration=2.0, method="map_async", shutdown="with"),
     "0.1 s is plenty"),
    (Experiment(workers=4, tasks=10, duration=0.05, method="map_async", chunksize=2,
                shutdown="with"), "a running chunk takes several items with it"),
    (Experiment(workers=0, tasks=10), "cannot run: workers must be at least 1"),
])
def test_ex6_4_wrong_gets_a_hint(answer, hint, capsys):
    ok, out = run(nb06.ex6_4, capsys, answer)
    assert ok is False and hint in out


# --- 6.3 chunks of three ----------------------------------------------------------------

@pytest.mark.parametrize("method", ["map", "map_async", "imap", "imap_unordered", "starmap",
                                    "starmap_async"])
def test_ex6_3_right(method, capsys):
    ok, out = run(nb06.ex6_3, capsys, Experiment(workers=4, tasks=12, method=method,
                                                 chunksize=3))
    assert ok and "4 chunks of 3" in out


def test_ex6_3_right_without_saying_so(capsys):
    # map's default for 12 items on 1 worker is divmod(12, 4) = 3: right, but keep workers=4
    ok, out = run(nb06.ex6_3, capsys, Experiment(workers=1, tasks=12))
    assert ok is False and "keep workers=4" in out


@pytest.mark.parametrize("answer, hint", [
    (Experiment(workers=4, tasks=12, method="apply_async", chunksize=3), "takes no chunksize"),
    (Experiment(workers=4, tasks=12, method="map", chunksize=4), "pass chunksize=3"),
    (Experiment(workers=4, tasks=12, method="map"), "pass chunksize=3"),
])
def test_ex6_3_wrong_gets_a_hint(answer, hint, capsys):
    ok, out = run(nb06.ex6_3, capsys, answer)
    assert ok is False and hint in out

"""The tutorial's one CPU calibration and its one "most at once" sweep, used everywhere.

No wall-clock assertion: the calibration is checked through a fake clock, and the sweep
through hand-made intervals.
"""

from __future__ import annotations

import pytest

from poolscope.tutorial import beyond, compare_workloads, gil_workloads, workloads
from poolscope.tutorial._calibrate import steps_per_second


class FakeClock:
    """Each task(n) takes n * per_step seconds, plus ``extra`` on chosen runs."""

    def __init__(self, per_step: float, slow_runs=()):
        self.now, self.per_step, self.slow_runs, self.runs = 0.0, per_step, set(slow_runs), 0

    def __call__(self) -> float:
        return self.now

    def task(self, n: int) -> None:
        self.now += n * self.per_step + (1.0 if self.runs in self.slow_runs else 0.0)
        self.runs += 1


def test_steps_per_second_doubles_until_a_run_is_long_enough():
    clock = FakeClock(per_step=1e-6)
    rate = steps_per_second(clock.task, clock=clock, least=0.02)
    assert rate == pytest.approx(1e6)
    # 1 untimed warm-up, doubling 1, 2, ..., 32768 (16 runs; 32768 steps >= 20 ms), 2 more.
    assert clock.runs == 1 + 16 + 2


def test_steps_per_second_keeps_the_fastest_run():
    # The run that reached `least` and the next one were interrupted (1 s longer each):
    # the third, undisturbed, counts.
    clock = FakeClock(per_step=1e-6, slow_runs={16, 17})
    assert steps_per_second(clock.task, clock=clock, least=0.02) == pytest.approx(1e6)
    clock = FakeClock(per_step=1e-6, slow_runs={16, 17})
    assert steps_per_second(clock.task, clock=clock, least=0.02, runs=2) < 1e5  # no clean run


def test_every_workload_sizes_its_tasks_with_it(monkeypatch):
    seen = []

    def fake(task, **kw):
        seen.append((getattr(task, "__name__", task), kw))
        return 1000.0

    monkeypatch.setattr(workloads, "steps_per_second", fake)
    monkeypatch.setattr(gil_workloads, "steps_per_second", fake)
    monkeypatch.setattr(compare_workloads, "steps_per_second", fake)
    workloads._loops_per_second.cache_clear()
    compare_workloads._steps_per_cpu_second.cache_clear()
    try:
        assert workloads._loops_per_second() == 1000.0
        assert gil_workloads.calibrate(gil_workloads.python_work, 0.5) == 500
        assert compare_workloads.loops_for(2) == 2000
    finally:
        workloads._loops_per_second.cache_clear()
        compare_workloads._steps_per_cpu_second.cache_clear()
    assert [name for name, _ in seen] == ["_spin", "python_work", "crunch"]
    assert seen[2][1]["least"] == 0.05  # CPU time, at least 50 ms of it


def test_the_playground_uses_the_same_calibration():
    from poolscope.tutorial import _experiment

    assert _experiment._loops_per_second is workloads._loops_per_second


def test_the_tutorial_counts_at_once_with_the_one_sweep():
    calls = beyond.Calls([beyond.Call("w", i, 1, "t", a, b, True)
                          for i, (a, b) in enumerate([(0.0, 1.0), (1.0, 2.0), (0.5, 1.5)])])
    assert calls.most_at_once() == 2
    assert beyond.Calls().most_at_once() == 0
    assert compare_workloads.computing_at_once([[0.0, 1.0], [1.0, 2.0]]) == 1  # touching

    class T:
        def __init__(self, started, finished):
            self.started, self.finished = started, finished

    # Touching tasks do not overlap; the unfinished one is left out.
    assert gil_workloads._most_at_once([T(0.0, 1.0), T(1.0, 2.0), T(0.2, None)]) == 1
    assert gil_workloads._most_at_once([T(0.0, 1.0), T(0.5, 2.0)]) == 2

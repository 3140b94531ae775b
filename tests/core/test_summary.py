from __future__ import annotations

import pytest

from poolscope import trace as T
from poolscope.summary import ideal_makespan, summarize
from poolscope.trace import PoolInfo, Task, TraceData, Worker


def task(index, lane, start, end, submitted=0.0, outcome=T.FINISHED):
    return Task(0, "map", 0, index, f"w{lane}", lane, submitted, start, end, outcome)


def test_figures_of_a_two_worker_run():
    tasks = [task(0, 0, 0.0, 0.2), task(1, 1, 0.0, 0.2), task(2, 0, 0.2, 0.4),
             task(3, 0, 0.4, 0.6)]
    data = TraceData(tasks, [], [Worker(0, 0, "w0", 0.0), Worker(0, 1, "w1", 0.0)],
                     [PoolInfo(0, "ThreadPool", 2, 0.0)], 0.6)
    s = summarize(data)
    assert (s.tasks, s.completed, s.workers) == (4, 4, 2)
    assert s.makespan == 0.6 and s.ideal_makespan == 0.4
    assert s.busy == {"w0": 0.6, "w1": 0.2}
    assert s.utilisation_per_worker == {"w0": 1.0, "w1": pytest.approx(0.3333, abs=1e-4)}
    assert s.utilisation == pytest.approx(0.6667, abs=1e-4)
    assert (s.mean_wait, s.max_wait) == (0.15, 0.4)
    assert s.throughput == pytest.approx(6.667, abs=1e-3)
    assert "makespan         0.600 s (ideal 0.400 s)" in str(s)


def test_never_started_tasks_count_but_do_not_complete():
    tasks = [task(0, 0, 0.0, 0.1),
             Task(0, "map", 0, 1, None, None, 0.0, None, None, T.NEVER_STARTED)]
    s = summarize(TraceData(tasks, [], [Worker(0, 0, "w0", 0.0)], [], 0.1))
    assert (s.tasks, s.completed, s.mean_wait) == (2, 1, 0.0)


def test_empty_trace():
    s = summarize(TraceData())
    assert (s.tasks, s.makespan, s.utilisation) == (0, 0.0, 0.0)


@pytest.mark.parametrize("durations, workers, expected", [
    ([0.2] * 12, 4, 0.6), ([0.2] * 5, 4, 0.4), ([3, 3, 2, 2, 2], 2, 7), ([], 3, 0.0),
    ([1.0], 8, 1.0)])
def test_ideal_makespan_longest_first(durations, workers, expected):
    assert ideal_makespan(durations, workers) == pytest.approx(expected)

"""Consistency checks every recorded trace must pass."""

from __future__ import annotations

from collections import Counter, defaultdict

from poolscope.trace import OUTCOMES, Trace


def check_invariants(trace: Trace) -> None:
    """No duplicate task; times ordered; the tasks of one worker never overlap."""
    tasks = trace.tasks
    dupes = [k for k, n in Counter((t.call_id, t.index) for t in tasks).items() if n > 1]
    assert not dupes, f"duplicated task records: {dupes[:5]}"
    lanes = defaultdict(list)
    for t in tasks:
        assert t.outcome in OUTCOMES
        if t.started is not None:
            assert t.submitted <= t.started, t
            lanes[t.pool, t.lane].append(t)
        if t.finished is not None:
            assert t.started is not None and t.started <= t.finished, t
    for runs in lanes.values():
        runs.sort(key=lambda t: t.started)
        for a, b in zip(runs, runs[1:]):
            assert a.finished is not None and a.finished <= b.started, (a, b)

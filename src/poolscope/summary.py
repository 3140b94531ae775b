"""Summary figures of a trace: how well did the pool use its workers?

    >>> from poolscope.trace import Task, TraceData, Worker, FINISHED
    >>> tasks = [Task(0, "map", 0, i, "w", 0, 0.0, 0.2 * i, 0.2 * i + 0.2, FINISHED)
    ...          for i in range(2)]
    >>> s = summarize(TraceData(tasks, [], [Worker(0, 0, "w", 0.0)], [], 0.4))
    >>> s.makespan, s.ideal_makespan, s.utilisation
    (0.4, 0.4, 1.0)
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ._model import ABANDONED, FAILED, FINISHED, TraceData

# Tasks that ran to an end. Not "killed" ones (a process pool's task stopped by
# terminate(): its finish is when terminate() returned, not when the work ended), nor
# failed ones that never started (a process pool could not send them).
_DONE = (FINISHED, FAILED, ABANDONED)


@dataclass(frozen=True)
class Summary:
    """Figures in seconds (rounded to the microsecond) unless said otherwise."""

    tasks: int  # task items recorded
    completed: int  # finished or failed (or abandoned, with their real finish)
    workers: int
    makespan: float  # first submission -> last finish
    busy: dict[str, float] = field(default_factory=dict)  # per worker thread
    utilisation_per_worker: dict[str, float] = field(default_factory=dict)
    utilisation: float = 0.0  # total busy / (workers * makespan)
    mean_wait: float = 0.0  # queue wait: submitted -> started
    max_wait: float = 0.0
    throughput: float = 0.0  # completed tasks per second of makespan
    ideal_makespan: float = 0.0  # the same durations scheduled longest-first (LPT)

    def __str__(self) -> str:
        lines = [
            f"tasks            {self.tasks} ({self.completed} completed) on {self.workers} workers",
            f"makespan         {self.makespan:.3f} s (ideal {self.ideal_makespan:.3f} s)",
            f"utilisation      {self.utilisation:.0%}",
            f"queue wait       mean {self.mean_wait:.3f} s, max {self.max_wait:.3f} s",
            f"throughput       {self.throughput:.1f} tasks/s",
        ]
        return "\n".join(lines)


def ideal_makespan(durations: Any, workers: int) -> float:
    """Longest-processing-time-first schedule of ``durations`` on ``workers``.

    Optimal for tasks of equal length and never more than 4/3 of the optimum.

    >>> ideal_makespan([0.2] * 5, 4)
    0.4
    """
    if not len(durations) or workers < 1:
        return 0.0
    import numpy as np

    loads = [0.0] * min(workers, len(durations))
    replace = heapq.heapreplace
    for d in np.sort(np.asarray(durations, dtype=float))[::-1].tolist():
        replace(loads, loads[0] + d)
    return round(max(loads), 6)


def summarize(data: TraceData) -> Summary:
    """Compute the :class:`Summary` of a trace's records (whole-array: 2,000,000 tasks
    take well under a second; sums are taken in task order, as a loop would)."""
    import numpy as np

    tasks = data.tasks
    started, finished = tasks.floats("started"), tasks.floats("finished")
    done = tasks.mask("outcome", *_DONE) & ~np.isnan(finished) & ~np.isnan(started)
    workers = sum(p.size for p in data.pools) or len(data.workers)
    n_done = int(done.sum())
    if not n_done:
        return Summary(len(tasks), 0, workers, 0.0)
    submitted = tasks.floats("submitted")
    first = float(submitted.min())
    makespan = float(finished[done].max()) - first
    durations = finished[done] - started[done]
    busy: dict[str, float] = {w.name: 0.0 for w in data.workers}
    codes, names = tasks.codes("worker")
    names = [name or "?" for name in names] + ["?"]  # code -1 (no worker) is "?"
    codes = codes[done].astype(np.int64)
    codes[codes < 0] = len(names) - 1
    # bincount adds the weights in task order: the same float sums as a loop.
    sums = np.bincount(codes, weights=durations, minlength=len(names))
    for code in _first_seen(codes):
        busy[names[code]] = busy.get(names[code], 0.0) + float(sums[code])
    waits = (started - submitted)[~np.isnan(started)]
    r = round
    return Summary(
        tasks=len(tasks),
        completed=n_done,
        workers=workers,
        makespan=r(makespan, 6),
        busy={k: r(v, 6) for k, v in busy.items()},
        utilisation_per_worker={k: r(v / makespan, 4) if makespan else 0.0
                                for k, v in busy.items()},
        utilisation=r(sum(busy.values()) / (workers * makespan), 4) if makespan else 0.0,
        mean_wait=r(float(np.cumsum(waits)[-1]) / len(waits), 6) if len(waits) else 0.0,
        max_wait=r(float(waits.max()), 6) if len(waits) else 0.0,
        throughput=r(n_done / makespan, 3) if makespan else 0.0,
        ideal_makespan=ideal_makespan(durations, workers),
    )


def _first_seen(codes) -> list[int]:
    """The distinct codes in order of first appearance (few: one per worker)."""
    import numpy as np

    if not len(codes):
        return []
    present = np.flatnonzero(np.bincount(codes))
    first = [int(np.argmax(codes == c)) for c in present]
    return [int(c) for _, c in sorted(zip(first, present))]


def most_at_once(intervals: Iterable[tuple[float, float]]) -> int:
    """The most intervals ``(start, end)`` in progress at one moment (0 for none).

    One sweep over the starts and ends in time order. An interval is half-open, from its
    start up to its end: one that ends when another starts does not overlap it (at the
    same instant an end counts before a start), so tasks run back to back on one worker
    count 1, and an interval of no length counts for nothing.

        >>> most_at_once([(0.0, 2.0), (1.0, 3.0), (3.0, 4.0)])  # 1-2 overlap; 3 only touches
        2
        >>> most_at_once([])
        0
    """
    edges = []
    for start, end in intervals:
        edges += [(start, 1), (end, -1)]
    running = most = 0
    for _, step in sorted(edges):  # (t, -1) sorts before (t, 1): an end comes first
        running += step
        most = max(most, running)
    return most

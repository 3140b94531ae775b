"""The playground's words: one sentence on what a run did, and the code it stands for.

    >>> from poolscope.tutorial._experiment import Experiment, run
    >>> exp = Experiment(workers=4, tasks=12, duration=0.01)
    >>> explain(exp, run(exp)).split(";")[0]
    '4 workers, 12 IO tasks of 0.01 s: 3 waves'
    >>> print(code(Experiment(workers=2, tasks=3)).splitlines()[-3])
    values = pool.map(task, items)

Apart from the widget (``_widget.py``) and from ``playground.py`` (which opens the
widget), so that both use it and neither imports the other.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ._experiment import ASYNC, Experiment
from ..summary import summarize
from ..trace import ABANDONED, NEVER_STARTED, TERMINATED, TraceData

if TYPE_CHECKING:
    from ..trace import Trace

__all__ = ["explain", "code"]

# Calls during which the caller thread waits for the pool.
_BLOCKING = ("apply", "map", "starmap", "get", "wait", "next", "join")


def _secs(x: float) -> str:
    return f"{x:.0f}" if x >= 10 else f"{x:.1f}" if x >= 0.095 else f"{x:.2g}"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def explain(experiment: Experiment, trace: Trace, stopped: bool = False) -> str:
    """One sentence on what happened in a run of ``experiment``, from its trace.

    E.g. "4 workers, 12 IO tasks of 0.2 s: 3 waves; the caller was blocked in
    map() for 0.6 s." ``stopped``: the run was ended early with a stop event.
    """
    e, data = experiment, trace.data()
    size = f"{_secs(e.duration)} s" + (f" +/- {e.jitter:.0%}" if e.jitter else "")
    kind = "IO task" if e.work == "io" else "CPU task"
    head = f"{_n(e.workers, 'worker')}, {_n(e.tasks, kind)}"
    parts = [_shape(e, data, stopped), _blocked(e, data)]
    callbacks = sum(1 for ev in data.events if ev.kind == "callback")
    if callbacks:
        parts.append(f"{_n(callbacks, 'callback')} ran one at a time in the pool's "
                     "result-handler thread")
    return f"{head} of {size}: {'; '.join(parts)}."


def _shape(e: Experiment, data: TraceData, stopped: bool) -> str:
    """How the tasks ran: waves, one at a time, the GIL, or what shutdown dropped."""
    dropped = sum(1 for t in data.tasks if t.outcome == NEVER_STARTED and t.note == TERMINATED)
    abandoned = sum(1 for t in data.tasks if t.outcome == ABANDONED)
    if stopped:
        return "stopped early: the tasks still to run returned at once"
    if dropped or abandoned:
        what = (f"{_n(dropped, 'queued task')} never ran and the results of "
                f"{_n(abandoned, 'running task')} were discarded")
        if e.shutdown == "with":
            return f"leaving the with-block called terminate(): {what}"
        return f"terminate() came while work was pending: {what}"
    if e.method == "apply":
        shape = "one task at a time, because apply() waits for each task to finish"
    elif e.work == "cpu" and min(e.workers, e.chunks) > 1 and _gil():
        makespan = summarize(data).makespan
        shape = (f"the GIL let only one task compute at a time, so they took "
                 f"{_secs(makespan)} s, where {_n(e.waves, 'wave')} of IO tasks "
                 f"take{'s' if e.waves == 1 else ''} {_secs(e.waves * e.duration)} s")
    elif e.chunk > 1:
        per_lane: dict[tuple, int] = {}
        for t in data.tasks:
            if t.lane is not None:
                per_lane[(t.pool, t.lane)] = per_lane.get((t.pool, t.lane), 0) + 1
        busiest, idle = max(per_lane.values(), default=0), e.workers - len(per_lane)
        shape = (f"{_n(e.chunks, 'chunk')} of up to {e.chunk} tasks, so the busiest worker "
                 f"ran {busiest} tasks in a row"
                 + (f" while {_n(idle, 'worker')} had nothing to do" if idle else ""))
    else:
        shape = ("about " if e.jitter else "") + _n(e.waves, "wave")
    if e.shutdown != "close-join":
        shape += (", and terminate() came after every result was in, so it dropped nothing"
                  if e.shutdown == "terminate" else
                  ", and the with-block ended after every result was in, so nothing was lost")
    return shape


def _gil() -> bool:
    """Whether the GIL is on (always before 3.13; free-threaded builds can turn it off).

    A fact of the interpreter rather than a guess from the timeline: CPU tasks that
    were calibrated on a busy machine can look faster or slower than they are.
    """
    return getattr(sys, "_is_gil_enabled", lambda: True)()


def _blocked(e: Experiment, data: TraceData) -> str:
    caller = data.tasks[0].caller if data.tasks else "MainThread"
    spent: dict[str, float] = {}
    for ev in data.events:
        if (ev.thread == caller and ev.blocking and ev.kind in _BLOCKING
                and ev.end is not None):
            spent[ev.kind] = spent.get(ev.kind, 0.0) + ev.end - ev.start
    total = sum(spent.values())
    if total < 0.01:
        return "the caller was never blocked" + (
            " (leaving a with-block does not wait)" if e.shutdown == "with" else "")
    kinds = [k for k in sorted(spent, key=spent.get, reverse=True) if spent[k] >= 0.2 * total]
    return f"the caller was blocked in {' and '.join(k + '()' for k in kinds)} for {_secs(total)} s"


def code(experiment: Experiment) -> str:
    """The plain-ThreadPool code that ``experiment`` runs (the playground shows it)."""
    e = experiment
    task = "sleep_task" if e.work == "io" else "cpu_task"
    items = f"items = [{e.duration}] * {e.tasks}"
    if e.jitter:
        items += f"  # the playground varies them by +/- {e.jitter:.0%}"
    cs = f", chunksize={e.chunksize}" if e.chunksize is not None else ""
    cb = ", callback=on_done" if e.callbacks else ""
    submit = {
        "apply": "for d in items:\n    pool.apply(task, (d,))",
        "apply_async": f"results = [pool.apply_async(task, (d,){cb}) for d in items]",
        "map": f"values = pool.map(task, items{cs})",
        "starmap": f"values = pool.starmap(task, [(d,) for d in items]{cs})",
        "imap": f"values = list(pool.imap(task, items{cs}))",
        "imap_unordered": f"values = list(pool.imap_unordered(task, items{cs}))",
        "map_async": f"result = pool.map_async(task, items{cs}{cb})",
        "starmap_async": f"result = pool.starmap_async(task, [(d,) for d in items]{cs}{cb})",
    }[e.method].split("\n")
    if e.drops:
        submit.append("...  # the caller goes on until the first tasks have started")
    lines = ["from multiprocessing.pool import ThreadPool",
             f"from poolscope.tutorial.workloads import {task} as task", "", items]
    if e.callbacks:
        lines += ["", "def on_done(result):  # runs in the pool's result-handler thread",
                  "    pass"]
    lines.append("")
    if e.shutdown == "with":
        lines.append(f"with ThreadPool({e.workers}) as pool:")
        lines += ["    " + line for line in submit]
        lines.append("# leaving the block called pool.terminate(): nothing waited")
        return "\n".join(lines)
    lines += [f"pool = ThreadPool({e.workers})", *submit]
    lines += ["pool.close()", "pool.join()"] if e.shutdown == "close-join" else \
        ["pool.terminate()", "pool.join()"]
    if e.shutdown == "close-join" and e.method in ASYNC:
        lines.append("values = result.get()" if e.method != "apply_async" else
                     "values = [r.get() for r in results]")
    return "\n".join(lines)

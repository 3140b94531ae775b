"""Parts of the text timeline around the rows: ruler, notes, legend.

    >>> _items([0, 1, 2, 5])
    '0-2, 5'
"""

from __future__ import annotations

import math

from .._model import ABANDONED, FAILED, KILLED, NEVER_STARTED, RUNNING, TraceData

_DISCARDED = "running at terminate(); results discarded"
_KILLED = "its worker process was killed by terminate()"
_LEGEND = [  # (character, meaning), in the order the legend lists them
    ("#", "# item after z"), ("+", "+ several tasks in one cell"), ("X", "X failed"),
    ("!", "! abandoned (running at terminate())"), ("K", "K killed by terminate()"),
    ("=", "= caller blocked"),
    ("c", "c callback"), ("E", "E error_callback"), ("q", "1-9 tasks queued (+ 10 or more)"),
    ("C", "C close()"), ("T", "T terminate()"), ("J", "J join() returned"),
    ("S", "S shutdown()"),
]


def auto_tick(span: float, width: int) -> float:
    """The smallest 1, 2, 5 x 10**k seconds that fits ``span`` in ``width`` cells."""
    exp = math.floor(math.log10(max(span, 1e-6) / width))
    for e in (exp, exp + 1):
        for m in (1, 2, 5):
            tick = float(f"{m}e{e}")
            if span / tick < width - 1:
                return tick
    return float(f"1e{exp + 2}")


def ruler(tick: float, ncols: int, pad: int) -> list[str]:
    """A label every ``step`` cells, the step wide enough for the widest label."""
    def label(c: int) -> str:
        return f"{round(c * tick, 9):g}"

    step = 5
    while any(len(label(c)) >= step for c in range(0, ncols, step)):
        step *= 2
    labels = "time (s)".ljust(pad)
    marks = " " * pad
    for c in range(ncols):
        if c % step == 0:
            labels = labels.ljust(pad + c) + label(c)
        marks += "|" if c % step == 0 else "."
    return [labels.rstrip(), marks.rstrip()]


def _items(numbers) -> str:
    """``0, 1, 2, 5`` -> ``0-2, 5``: runs of three or more collapsed (whole-array: a
    note may list 2,000,000 items)."""
    import numpy as np

    numbers = np.sort(np.asarray(numbers, dtype=np.int64))
    if not len(numbers):
        return ""
    # Runs of consecutive numbers: a run breaks where the next is not one more.
    breaks = np.flatnonzero(np.diff(numbers) != 1) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [len(numbers)]]) - 1
    long = ends - starts >= 2
    count = int(np.where(long, 1, ends - starts + 1).sum())
    parts: list[str] = []
    for i, j, joined in zip(starts.tolist(), ends.tolist(), long.tolist()):
        if len(parts) >= 13:  # enough to know it is a long note
            break
        if joined:
            parts.append(f"{numbers[i]}-{numbers[j]}")
        else:
            parts.extend(str(n) for n in numbers[i:j + 1].tolist())
    if count > 12:  # a note, not a listing: the first ten and the count
        return ", ".join(parts[:10]) + f", ... ({len(numbers)} in all)"
    return ", ".join(parts)


def notes(data: TraceData,
          outcomes: tuple[str, ...] = (FAILED, ABANDONED, KILLED, NEVER_STARTED, RUNNING),
          ) -> list[str]:
    """Failed, abandoned, killed, never-started and still-running tasks, by call."""
    import numpy as np

    tasks = data.tasks
    several = len(tasks.distinct("call_id")) > 1
    rows = np.flatnonzero(tasks.mask("outcome", *outcomes))
    if not len(rows):
        return []
    picked = tasks.take(rows)
    # Group by (outcome, call_id, call, why) on integer codes; why is the error of a
    # failed task, the note of the others (a killed one without a note: _KILLED).
    o_codes, o_values = picked.codes("outcome")
    c_codes, c_values = picked.codes("call")
    e_codes, e_values = picked.codes("error")
    n_codes, n_values = picked.codes("note")
    failed = np.isin(o_codes, [i for i, v in enumerate(o_values) if v == FAILED])
    abandoned = np.isin(o_codes, [i for i, v in enumerate(o_values) if v == ABANDONED])
    killed = np.isin(o_codes, [i for i, v in enumerate(o_values) if v == KILLED])
    why_values = list(e_values) + list(n_values) + [_DISCARDED, _KILLED, None]
    e, n = len(e_values), len(n_values)
    why = np.where(n_codes >= 0, n_codes + e, e + n + 2)  # the note (None: last value)
    why = np.where(killed & (n_codes < 0), e + n + 1, why)
    why = np.where(abandoned, e + n, why)
    why = np.where(failed, np.where(e_codes >= 0, e_codes, e + n + 2), why)
    call_id = picked.ints("call_id")
    columns = (o_codes.astype(np.int64), call_id - call_id.min(), c_codes.astype(np.int64),
               why.astype(np.int64))
    groups: dict[tuple, list] = {}
    index = picked.ints("index")
    for key in distinct_keys(*columns):
        hit = np.ones(len(rows), dtype=bool)
        for column, value in zip(columns, key):
            hit &= column == value
        outcome, call = o_values[key[0]], c_values[key[2]]
        k = (outcome, key[1] + int(call_id.min()), call, why_values[key[3]])
        groups.setdefault(k, []).append(index[hit])
    order = {FAILED: 0, ABANDONED: 1, KILLED: 2, NEVER_STARTED: 3, RUNNING: 4}
    lines = []
    for (outcome, call_id_, call, why_), parts in sorted(
            groups.items(), key=lambda kv: (order[kv[0][0]], kv[0][1], str(kv[0][3]))):
        numbers = np.concatenate(parts)
        head = "still running" if outcome == RUNNING else outcome
        where = f"call {call_id_} ({call}) " if several else ""
        noun = "item" if len(numbers) == 1 else "items"
        lines.append(f"{head}: {where}{noun} {_items(numbers)}" + (f" ({why_})" if why_ else ""))
    return lines


def distinct_keys(*columns):
    """The distinct rows of some non-negative int arrays (see ``_lanes.distinct_rows``)."""
    from ._lanes import distinct_rows

    return distinct_rows(*columns)


def legend(tick: float, cells: str, used: set[str], show_wait: bool) -> list[str]:
    parts = [f"1 char = {tick:g} s from the first submission",
             "0-9a-z item index" if cells == "index" else "0-9a-z call number"]
    if show_wait:
        used = used | {"q"}  # the queued row's key
    parts += [text for ch, text in _LEGEND if ch in used]
    lines = ["legend:"]
    for i, part in enumerate(parts):  # break lines between parts, never inside one
        part += "," if i < len(parts) - 1 else ""
        if len(lines[-1]) + 1 + len(part) > 79:
            lines.append(" " * 7)
        lines[-1] += " " + part
    return lines

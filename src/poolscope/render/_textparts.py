"""Parts of the text timeline around the rows: ruler, notes, legend.

    >>> _items([0, 1, 2, 5])
    '0-2, 5'
"""

from __future__ import annotations

import math
from collections import defaultdict

from ..trace import ABANDONED, FAILED, KILLED, NEVER_STARTED, RUNNING, TraceData

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


def _items(numbers: list[int]) -> str:
    """``0, 1, 2, 5`` -> ``0-2, 5``: runs of three or more collapsed."""
    numbers, parts, i = sorted(numbers), [], 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{numbers[i]}-{numbers[j]}")
        else:
            parts.extend(str(n) for n in numbers[i:j + 1])
        i = j + 1
    if len(parts) > 12:  # a note, not a listing: the first ten and the count
        return ", ".join(parts[:10]) + f", ... ({len(numbers)} in all)"
    return ", ".join(parts)


def notes(data: TraceData,
          outcomes: tuple[str, ...] = (FAILED, ABANDONED, KILLED, NEVER_STARTED, RUNNING),
          ) -> list[str]:
    """Failed, abandoned, killed, never-started and still-running tasks, by call."""
    several = len({t.call_id for t in data.tasks}) > 1
    lines = []
    groups: dict[tuple, list[int]] = defaultdict(list)
    for t in data.tasks:
        if t.outcome in outcomes:
            why = (t.error if t.outcome == FAILED else _DISCARDED if t.outcome == ABANDONED
                   else (t.note or _KILLED) if t.outcome == KILLED else t.note)
            groups[(t.outcome, t.call_id, t.call, why)].append(t.index)
    order = {FAILED: 0, ABANDONED: 1, KILLED: 2, NEVER_STARTED: 3, RUNNING: 4}
    for (outcome, call_id, call, why), numbers in sorted(
            groups.items(), key=lambda kv: (order[kv[0][0]], kv[0][1], str(kv[0][3]))):
        head = "still running" if outcome == RUNNING else outcome
        where = f"call {call_id} ({call}) " if several else ""
        noun = "item" if len(numbers) == 1 else "items"
        lines.append(f"{head}: {where}{noun} {_items(numbers)}" + (f" ({why})" if why else ""))
    return lines


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

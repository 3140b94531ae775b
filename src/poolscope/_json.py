"""JSON round trip of a trace: the file format, written down once, and its validation.

    >>> from poolscope.trace import TraceData
    >>> loads(dumps(TraceData())) == TraceData()
    True

The format (version 2), as ``Trace.to_json()`` writes it::

    {"format": "poolscope-trace", "version": 2, "duration": D,
     "tasks":   {"columns": [...], "rows": [[...], ...]},
     "events":  {"columns": [...], "rows": [...]},
     "workers": {"columns": [...], "rows": [...]},
     "pools":   {"columns": [...], "rows": [...]}}

``version`` is the integer 2 (not 2.0, not true); files of version 1 (without the
columns marked "2+" below) are read too, their facts derived from the pool kinds. ``duration`` is a time (below). Each
table lists its column names, exactly as in :data:`TABLES`, and one list of values per
row. The columns of each table and the values they take, in order (``?``: may be null):

========  ==============  ===========================================================
table     column          value
========  ==============  ===========================================================
tasks     pool            index: a whole number >= 0 (the pool's ``pools`` row index)
          call            text: "apply", "map_async", "submit", ...
          call_id         index: the call's number, in order of submission
          index           index: the item's position in the call's input
          worker          text?: the thread (or process) that ran it
          lane            index?: the worker's lane in its pool
          submitted       time
          started         time?
          finished        time?
          outcome         outcome: one of trace.OUTCOMES
          error           text?: "ValueError: bad item"
          note            text?: why it never started, ...
          chunk           index?: the chunk it ran in
          caller          text: the thread that submitted it
          measured        flag: false for a fast task timed in a group
events    kind            text: "map", "get", "callback", "close", ...
          pool            index
          thread          text
          start           time
          end             time?: null while still going on
          status          status?: "ok", "raised", "timeout" or "stop"
          call_id         index?
          blocking        flag (2+): the thread was blocked waiting for the pool
workers   pool, lane      index, index
          name            text
          started         time
          init_started    time?
          init_finished   time?
          init_error      text?
          exited          time?
pools     index           index
          kind            pool kind: "ThreadPool", "Pool", "ThreadPoolExecutor" or
                          "ProcessPoolExecutor" (2+)
          size            size: a whole number >= 1
          created         time
          creator         text
          process         flag (2+): its workers are processes
========  ==============  ===========================================================

A *time* is a finite number of seconds from the start of the recording, >= 0 and at
most ``duration`` plus a tolerance of 10 s + 10 us per row of the file. Why a
tolerance: the recording reads its clock (``duration``) first and then copies each
thread's log, so a worker still running may log a little after ``duration``; by at
most the time the copying takes, which grows with the number of records (about 1 us
each, 2 s for 2,000,000 tasks; ten times that covers a heavily loaded machine). And
``duration`` itself is at most 1e9 s: past that, float seconds no longer resolve a
microsecond, so no recording wrote it. An *index* is below 2**63.

Every value is checked on load (:func:`loads`), driven by :data:`TABLES` alone; a bad
file raises :class:`TraceFormatError` naming the table, row and field, e.g.
``tasks row 3, field "started": expected a time (a finite number >= 0) or null, got 'abc'``.
Checks run column by column on whole arrays, so a file of 2,000,000 tasks loads in
seconds.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any

from . import _kinds
from ._columns import Column, compact, float_column
from ._model import (
    BLOCKING_KINDS,
    OUTCOMES,
    EventTable,
    PoolInfo,
    TaskTable,
    TraceData,
    Worker,
)

FORMAT = "poolscope-trace"
VERSION = 2
# Columns added by a version: absent from older files, derived from the rest on load.
ADDED = {2: {"events": ("blocking",), "pools": ("process",)}}
MAX_DURATION = 1e9  # seconds; see the module docstring
TOLERANCE_S, TOLERANCE_PER_ROW_S = 10.0, 10e-6
POOL_KINDS = _kinds.NAMES
STATUSES = ("ok", "raised", "timeout", "stop")


class TraceFormatError(ValueError):
    """A trace file that cannot be read: not JSON, not a trace, an unknown version, or
    a value of the wrong type or out of range (the message names the row and field)."""


@dataclass(frozen=True)
class Kind:
    """What a column holds: its description (for error messages) and its check."""

    name: str
    describe: str
    choices: tuple = ()  # for text kinds: the values allowed (empty: any text)


INDEX = Kind("index", "a whole number >= 0")
SIZE = Kind("size", "a whole number >= 1")
TIME = Kind("time", "a time (a finite number >= 0)")
TEXT = Kind("text", "text")
FLAG = Kind("flag", "true or false")
OUTCOME = Kind("outcome", f"one of {', '.join(OUTCOMES)}", OUTCOMES)
STATUS = Kind("status", f"one of {', '.join(STATUSES)}", STATUSES)
POOL_KIND = Kind("pool kind", f"one of {', '.join(POOL_KINDS)}", POOL_KINDS)

# The format: each table's columns as (name, kind, may be null), in order.
TABLES: dict[str, tuple[tuple[str, Kind, bool], ...]] = {
    "tasks": (("pool", INDEX, False), ("call", TEXT, False), ("call_id", INDEX, False),
              ("index", INDEX, False), ("worker", TEXT, True), ("lane", INDEX, True),
              ("submitted", TIME, False), ("started", TIME, True), ("finished", TIME, True),
              ("outcome", OUTCOME, False), ("error", TEXT, True), ("note", TEXT, True),
              ("chunk", INDEX, True), ("caller", TEXT, False), ("measured", FLAG, False)),
    "events": (("kind", TEXT, False), ("pool", INDEX, False), ("thread", TEXT, False),
               ("start", TIME, False), ("end", TIME, True), ("status", STATUS, True),
               ("call_id", INDEX, True), ("blocking", FLAG, False)),
    "workers": (("pool", INDEX, False), ("lane", INDEX, False), ("name", TEXT, False),
                ("started", TIME, False), ("init_started", TIME, True),
                ("init_finished", TIME, True), ("init_error", TEXT, True),
                ("exited", TIME, True)),
    "pools": (("index", INDEX, False), ("kind", POOL_KIND, False), ("size", SIZE, False),
              ("created", TIME, False), ("creator", TEXT, False), ("process", FLAG, False)),
}
_RECORDS = {"workers": Worker, "pools": PoolInfo}
_TABLE_CLASSES = {"tasks": TaskTable, "events": EventTable}


# -- writing ------------------------------------------------------------------------------

def dumps(data: TraceData) -> str:
    """Tables as a list of column names plus rows: compact for 100,000 tasks. Tasks and
    events are written from their columns, without making a record per row."""
    doc: dict[str, Any] = {"format": FORMAT, "version": VERSION, "duration": data.duration}
    for name, columns in TABLES.items():
        names = [c[0] for c in columns]
        table = getattr(data, name)
        if name in _TABLE_CLASSES:
            values = [table.values(n) for n in names]
        else:
            values = [[getattr(r, n) for r in table] for n in names]
        doc[name] = {"columns": names, "rows": list(map(list, zip(*values)))}
    return json.dumps(doc, separators=(",", ":"))


# -- reading ------------------------------------------------------------------------------

def loads(source: Any) -> TraceData:
    """Parse JSON text, or the file at path ``source``; errors say what is wrong."""
    doc = _parse(_text(source))
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise TraceFormatError(f"not a poolscope trace: expected \"format\": \"{FORMAT}\"")
    version = doc.get("version")
    if type(version) is not int or not 1 <= version <= VERSION:  # 1.0 and true are not 1
        raise TraceFormatError(
            f"unsupported poolscope trace version {version!r}; this poolscope reads "
            f"versions 1 to {VERSION} (integers)")
    missing = [k for k in ("duration", *TABLES) if k not in doc]
    if missing:
        raise TraceFormatError(f"corrupt poolscope trace: no \"{missing[0]}\"")
    duration = doc["duration"]
    if (type(duration) not in (int, float) or not _finite(duration) or duration < 0
            or duration > MAX_DURATION):
        raise TraceFormatError(
            "corrupt poolscope trace: \"duration\" must be a finite number of seconds "
            f"from 0 to {MAX_DURATION:g}, got {_shown(duration)}")
    tables_of = {name: _tables_of(version, name) for name in TABLES}
    rows = {name: _rows(name, doc[name], tables_of[name]) for name in TABLES}
    latest = duration + TOLERANCE_S + TOLERANCE_PER_ROW_S * sum(map(len, rows.values()))
    cols = {name: _columns(name, rows[name], latest, tables_of[name]) for name in TABLES}
    del rows
    if version < 2:
        _derive_facts(cols)
    tables: dict[str, Any] = {}
    for name, table_cls in _TABLE_CLASSES.items():
        tables[name] = table_cls.from_columns(
            len(cols[name][0]),
            **{c[0]: _typed(c, v) for c, v in zip(TABLES[name], cols[name])})
    for name, record in _RECORDS.items():
        tables[name] = [record(*r) for r in zip(*cols[name])]
    return TraceData(**tables, duration=float(duration))


def _text(source: Any) -> str:
    """JSON text from ``source``: text, bytes, or a path."""
    if isinstance(source, (bytes, bytearray)):
        return _decode(bytes(source), "the trace")
    if isinstance(source, os.PathLike) or (isinstance(source, str)
                                           and not source.lstrip().startswith(("{", "["))):
        try:
            with open(source, "rb") as f:
                data = f.read()
        except OSError as e:
            raise TraceFormatError(f"cannot read trace file {str(source)!r}: {e.strerror}") from e
        return _decode(data, f"trace file {str(source)!r}")
    if not isinstance(source, str):
        raise TraceFormatError(f"not a poolscope trace: expected JSON text or a path, "
                               f"got {type(source).__name__}")
    return source


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TraceFormatError(f"{what} is not UTF-8 text (byte {e.start}: "
                               f"{data[e.start:e.start + 1]!r})") from None


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise TraceFormatError(f"not a poolscope trace: invalid JSON ({e})") from None
    except RecursionError:
        raise TraceFormatError("not a poolscope trace: JSON nested too deeply") from None
    except ValueError as e:  # e.g. an integer of more digits than int() accepts
        raise TraceFormatError(f"not a poolscope trace: invalid JSON ({e})") from None


def _tables_of(version: int, name: str) -> tuple[tuple[str, Kind, bool], ...]:
    """The columns of table ``name`` in a file of ``version``."""
    added = {c for v, tables in ADDED.items() if v > version for c in tables.get(name, ())}
    return tuple(c for c in TABLES[name] if c[0] not in added)


def _derive_facts(cols: dict[str, list[list]]) -> None:
    """Add the columns a version-1 file lacks, derived from the pool kinds: a pool's
    workers are processes; an event blocked its thread (a "map" only in a pool whose
    map blocks, not an executor's)."""
    kinds = [_kinds.by_name(k) for k in cols["pools"][1]]
    cols["pools"].append([k.process for k in kinds])
    map_blocks = {index: k.map_blocks for index, k in zip(cols["pools"][0], kinds)}
    cols["events"].append([
        kind in BLOCKING_KINDS and (kind != "map" or map_blocks.get(pool, True))
        for kind, pool in zip(cols["events"][0], cols["events"][1])])


def _rows(name: str, table: Any, columns: tuple | None = None) -> list:
    names = [c[0] for c in (TABLES[name] if columns is None else columns)]
    if not isinstance(table, dict) or table.get("columns") != names:
        raise TraceFormatError(f"corrupt poolscope trace: table \"{name}\" must have "
                               f"columns {names}")
    rows = table.get("rows")
    if not isinstance(rows, list):
        raise TraceFormatError(f"corrupt poolscope trace: table \"{name}\" has no list "
                               "of rows")
    for i, r in enumerate(rows):
        if type(r) is not list or len(r) != len(names):
            raise TraceFormatError(f"{name} row {i}: expected a list of {len(names)} values "
                                   f"({', '.join(names)}), got {_shown(r)}")
    return rows


def _columns(name: str, rows: list, latest: float, table: tuple | None = None) -> list[list]:
    """The rows' values column by column, each checked against its kind."""
    table = TABLES[name] if table is None else table
    columns = [list(c) for c in zip(*rows)] if rows else [[] for _ in table]
    for (field, kind, null), values in zip(table, columns):
        bad = _first_bad(kind, null, values, latest)
        if bad is not None:
            i, why = bad
            expected = kind.describe + (" or null" if null else "")
            raise TraceFormatError(f"{name} row {i}, field \"{field}\": "
                                   + (why or f"expected {expected}, got {_shown(values[i])}"))
    return columns


def _first_bad(kind: Kind, null: bool, values: list, latest: float):
    """(row, reason or None) of the first value ``kind`` does not allow, or None."""
    import numpy as np

    allowed = {FLAG: {bool}, TEXT: {str}, OUTCOME: {str}, STATUS: {str},
               POOL_KIND: {str}}.get(kind, {int, float} if kind is TIME else {int})
    if null:
        allowed = allowed | {type(None)}
    if not set(map(type, values)) <= allowed:  # one C-level pass over the column
        return next(i for i, v in enumerate(values) if type(v) not in allowed), None
    if kind.choices:
        ok = set(kind.choices) | ({None} if null else set())
        if not set(values) <= ok:
            return next(i for i, v in enumerate(values) if v not in ok), None
        return None
    if kind not in (INDEX, SIZE, TIME):
        return None
    present = [i for i, v in enumerate(values) if v is not None] if null else None
    got = values if present is None else [values[i] for i in present]
    try:
        a = np.array(got, dtype=np.float64 if kind is TIME else np.int64)
    except OverflowError:  # an int beyond int64 (or beyond a float, as a time)
        limit = 2**63 if kind is not TIME else 1e308
        at = next(k for k, v in enumerate(got) if abs(v) >= limit)
        return _row(present, at), None
    low = 1 if kind is SIZE else 0
    if kind is TIME:
        wrong = ~np.isfinite(a) | (a < 0)
        if wrong.any():
            return _row(present, int(np.argmax(wrong))), None
        late = a > latest
        if late.any():
            at = int(np.argmax(late))
            return _row(present, at), (
                f"{got[at]!r} s is past the end of the trace (duration {latest:g} s "
                "with the tolerance)")
        return None
    wrong = a < low
    return (_row(present, int(np.argmax(wrong))), None) if wrong.any() else None


def _row(present: list | None, at: int) -> int:
    return at if present is None else present[at]


def _typed(column: tuple[str, Kind, bool], values: list) -> Column:
    """A checked column as a table column (times as floats: JSON may write 0)."""
    import numpy as np

    _, kind, null = column
    if kind is TIME:
        a = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        return Column("optfloat", a) if null else float_column(a)
    if kind in (INDEX, SIZE):
        if null:
            return Column("optint", compact([-1 if v is None else v for v in values], True))
        return Column("int", compact(values))
    if kind is FLAG:
        return Column("bool", np.array(values, dtype=bool))
    index: dict[str, int] = {}
    codes = [-1 if v is None else index.setdefault(v, len(index)) for v in values]
    return Column("optstr" if null else "str", compact(codes, null=True), list(index))


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(x)
    except OverflowError:
        return False


def _shown(value: Any, limit: int = 60) -> str:
    """A short repr: a bad value may be huge (a 10**400, a whole nested list)."""
    if type(value) is int and abs(value) > 10**20:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 5] + " ...]"

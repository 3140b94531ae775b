"""JSON round trip of a trace, with a format name and version.

    >>> from poolscope.trace import TraceData
    >>> loads(dumps(TraceData())) == TraceData()
    True
"""

from __future__ import annotations

import json
import os
from dataclasses import astuple, fields
from typing import Any

from .trace import OUTCOMES, Event, PoolInfo, Task, TraceData, Worker

FORMAT = "poolscope-trace"
VERSION = 1
_TABLES = {"tasks": Task, "events": Event, "workers": Worker, "pools": PoolInfo}


class TraceFormatError(ValueError):
    """A trace file that cannot be read: not JSON, not a trace, or an unknown version."""


def dumps(data: TraceData) -> str:
    """Tables as a list of column names plus rows: compact for 100,000 tasks."""
    doc: dict[str, Any] = {"format": FORMAT, "version": VERSION, "duration": data.duration}
    for name, cls in _TABLES.items():
        doc[name] = {"columns": [f.name for f in fields(cls)],
                     "rows": [list(astuple(r)) for r in getattr(data, name)]}
    return json.dumps(doc, separators=(",", ":"))


def loads(source: Any) -> TraceData:
    """Parse JSON text, or the file at path ``source``; errors say what is wrong."""
    text = source
    if isinstance(source, os.PathLike) or (isinstance(source, str)
                                           and not source.lstrip().startswith(("{", "["))):
        try:
            with open(source, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise TraceFormatError(f"cannot read trace file {str(source)!r}: {e.strerror}") from e
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, TypeError) as e:
        raise TraceFormatError(f"not a poolscope trace: invalid JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise TraceFormatError(f"not a poolscope trace: expected \"format\": \"{FORMAT}\"")
    if doc.get("version") != VERSION:
        raise TraceFormatError(
            f"unsupported poolscope trace version {doc.get('version')!r}; "
            f"this poolscope reads version {VERSION}")
    try:
        tables = {name: _table(doc[name], cls) for name, cls in _TABLES.items()}
        data = TraceData(**tables, duration=float(doc["duration"]))
    except (KeyError, TypeError, ValueError) as e:
        raise TraceFormatError(f"corrupt poolscope trace: {e}") from None
    bad = {t.outcome for t in data.tasks} - set(OUTCOMES)
    if bad:
        raise TraceFormatError(f"corrupt poolscope trace: unknown task outcome {bad.pop()!r}")
    return data


def _table(table: Any, cls: type) -> list:
    names = [f.name for f in fields(cls)]
    if not isinstance(table, dict) or table.get("columns") != names:
        raise ValueError(f"table of {cls.__name__} records must have columns {names}")
    rows = table["rows"]
    if not isinstance(rows, list) or any(not isinstance(r, list) or len(r) != len(names)
                                         for r in rows):
        raise ValueError(f"each {cls.__name__} row must be a list of {len(names)} values")
    return [cls(*r) for r in rows]

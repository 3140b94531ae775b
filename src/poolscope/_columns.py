"""Columnar tables of records: a frozen trace keeps its tasks and events as columns.

A trace of 2,000,000 tasks holds about 30 bytes a task this way, against some 500
as ``Task`` objects. A :class:`Table` is a read-only sequence: ``table[i]`` builds
the record (a ``Task``, an ``Event``) on access, iteration builds them in batches,
slices are tables, and a table equals a list of the same records.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Point:
    ...     x: float
    ...     name: str | None
    >>> class Points(Table):
    ...     record = Point
    ...     kinds = {"x": "float", "name": "optstr"}
    >>> t = Points.from_records([Point(0.5, "a"), Point(1.5, None)])
    >>> len(t), t[1], t == [Point(0.5, "a"), Point(1.5, None)]
    (2, Point(x=1.5, name=None), True)
    >>> t.floats("x").tolist(), t.mask("name", "a").tolist()
    ([0.5, 1.5], [True, False])

Column kinds (the renderers read columns through the methods, never the storage):

- ``int``: an integer array in the smallest dtype that holds it.
- ``optint``: the same, ``-1`` for None (values must be >= 0).
- ``float`` / ``optfloat``: float64, NaN for None. A ``float`` column with few distinct
  values (a task's submission time: one per call) may be dictionary-encoded instead:
  integer codes into a float64 array of values (see :func:`float_column`).
- ``str`` / ``optstr``: dictionary-encoded: integer codes into a list of values (which
  may repeat a value), ``-1`` for None.
- ``bool``: a bool array.
- ``obj``: a numpy object array, the fallback for values of an unexpected type (a
  test's synthetic record), kept exactly as given.

A long column of few runs (the tasks of one call share their pool, call, caller, ...)
is kept as runs, see :class:`Column`. numpy is imported only when a table is made or
read, so ``import poolscope`` stays light.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import astuple, fields
from typing import Any, ClassVar

_BATCH = 4096  # records built per step while iterating
_REPR_ALL = 20  # longer tables show their ends only


def compact(values: Any, null: bool = False) -> Any:
    """An int64 array as the smallest integer dtype that holds it (and -1, if
    ``null``).

    >>> import numpy as np
    >>> compact(np.array([0, 300])).dtype, compact(np.array([5]), null=True).dtype
    (dtype('int16'), dtype('int8'))
    """
    import numpy as np

    a = np.asarray(values)
    if a.dtype.kind not in "iu" or a.dtype.itemsize > 4 and a.dtype != np.int64:
        a = np.asarray(values, dtype=np.int64)
    if not len(a):
        return a.astype(np.int8)
    # min and max in the array's own dtype: no int64 copy of a 2,000,000-row int8 column.
    lo, hi = int(a.min()), int(a.max())
    if null:
        lo = min(lo, -1)
    for dtype in (np.int8, np.int16, np.int32):
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            return a.astype(dtype)
    return a.astype(np.int64, copy=False)


class Column:
    """One column: its kind, its array and, for strings, the values its codes index.

    A long column of few runs (all the tasks of one call share pool, call, caller,
    outcome, ...) is kept as runs, ``(first value, length)`` each; an ``int`` column
    counting up (item indices 0, 1, 2, ...) as runs of such counts. ``data`` then makes
    the array when it is read: a few milliseconds for 2,000,000 rows.
    """

    __slots__ = ("kind", "_data", "_runs", "values", "_has_null")

    def __init__(self, kind: str, data: Any, values: list | None = None):
        self.kind, self._data, self.values = kind, data, values
        self._runs: tuple | None = None
        self._has_null: bool | None = None

    @property
    def data(self) -> Any:
        if self._runs is None:
            return self._data
        import numpy as np

        firsts, lengths, step = self._runs
        out = np.repeat(firsts, lengths)
        if step:
            starts = np.cumsum(lengths) - lengths
            out = out + (np.arange(len(out)) - np.repeat(starts, lengths)).astype(out.dtype)
        return out

    def __len__(self) -> int:
        return len(self._data) if self._runs is None else int(self._runs[1].sum())

    def shrink(self) -> Column:
        """Keep the column as runs if that takes under a quarter of the memory."""
        import numpy as np

        d = self._data
        if self._runs is not None or self.kind == "obj" or len(d) < 1024 or (
                self.kind in ("float", "optfloat") and self.values is None):
            return self
        for step in (0, 1) if self.kind == "int" else (0,):
            jump = d[1:] != d[:-1] if step == 0 else (d[1:] - d[:-1]) != 1
            starts = np.concatenate([[0], np.flatnonzero(jump) + 1])
            if len(starts) * (d.itemsize + 8) * 4 < d.nbytes:
                lengths = np.diff(np.append(starts, len(d)))
                self._runs, self._data = (d[starts], lengths, step), None
                return self
        return self

    def take(self, rows: Any) -> Column:
        return Column(self.kind, self.data[rows], self.values)

    def has_null(self) -> bool:
        if self._has_null is None:
            import numpy as np

            d = self.data
            self._has_null = bool(len(d)) and (
                bool(np.isnan(d).any()) if self.kind == "optfloat"
                else bool((d < 0).any()) if self.kind in ("optint", "optstr") else False)
        return self._has_null

    def value(self, i: int) -> Any:
        """Row ``i``'s value."""
        kind = self.kind
        if self._runs is None:
            v = self._data[i]
        else:
            import numpy as np

            firsts, lengths, step = self._runs
            ends = np.cumsum(lengths)
            run = int(np.searchsorted(ends, i, side="right"))
            v = firsts[run] + (i - (ends[run] - lengths[run]) if step else 0)
        if kind == "float" and self.values is not None:
            return float(self.values[v])
        if kind in ("str", "optstr"):
            return None if v < 0 else self.values[v]  # type: ignore[index]
        if kind == "obj":
            return v
        v = v.item()
        if kind == "optint" and v < 0 or kind == "optfloat" and v != v:
            return None
        return v

    def decode(self) -> list:
        """The column as a list of Python values (None where missing)."""
        kind, d = self.kind, self.data
        if kind == "float" and self.values is not None:
            return self.values[d].tolist()
        if kind in ("str", "optstr"):
            lookup = list(self.values or ()) + [None]  # code -1 -> None
            return list(map(lookup.__getitem__, d.tolist()))
        out = d.tolist()
        if kind == "optint" and self.has_null():
            return [None if v < 0 else v for v in out]
        if kind == "optfloat" and self.has_null():
            return [None if v != v else v for v in out]
        return out


def encode(kind: str, values: list) -> Column:
    """A column of ``kind`` from Python values, or an ``obj`` column when a value is
    not of the kind's exact type (so the values come back exactly as given)."""
    import numpy as np

    none = type(None)
    try:
        if kind in ("str", "optstr"):
            ok = (str, none) if kind == "optstr" else (str,)
            if all(type(v) in ok for v in values):
                index: dict[str, int] = {}
                codes = [-1 if v is None else index.setdefault(v, len(index)) for v in values]
                return Column(kind, compact(codes, null=True), list(index))
        elif kind in ("int", "optint"):
            if all(type(v) is int for v in values):
                return Column(kind, compact(values, null=kind == "optint"))
            if kind == "optint" and all(v is None or (type(v) is int and v >= 0)
                                        for v in values):
                return Column(kind, compact([-1 if v is None else v for v in values],
                                            null=True))
        elif kind in ("float", "optfloat"):
            ok = (float, none) if kind == "optfloat" else (float,)
            if all(type(v) in ok for v in values) and not any(v != v for v in values):
                a = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
                return float_column(a) if kind == "float" else Column(kind, a)
        elif kind == "bool":
            if all(type(v) is bool for v in values):
                return Column(kind, np.array(values, dtype=bool))
    except OverflowError:  # an int beyond int64: keep it as it is
        pass
    data = np.empty(len(values), dtype=object)
    data[:] = values
    return Column("obj", data)


def float_column(a: Any, codes: Any = None, values: Any = None) -> Column:
    """A ``float`` column of the float64 array ``a``, or (``codes``, ``values``) with
    ``values[codes]`` = ``a``: dictionary-encoded when it has few distinct values
    (a quarter of its length or fewer), as a task's submission time has.

    >>> import numpy as np
    >>> float_column(np.array([0.5] * 100)).data.dtype
    dtype('int8')
    """
    import numpy as np

    if codes is None:
        if len(a) < 64:
            return Column("float", a)
        values, codes = np.unique(a, return_inverse=True)
    if len(values) * 4 > max(len(codes), 1):
        return Column("float", np.asarray(values)[codes] if a is None else a)
    return Column("float", compact(np.asarray(codes).reshape(-1)),
                  np.asarray(values, dtype=np.float64))


class Table(Sequence):
    """A read-only sequence of records stored as columns; see the module docstring."""

    record: ClassVar[type]
    kinds: ClassVar[dict[str, str]]  # field name -> column kind, in the record's order
    noun: ClassVar[str] = "records"

    def __init__(self, columns: dict[str, Column], length: int | None = None):
        self._cols = {name: c.shrink() for name, c in columns.items()}
        self._len = len(next(iter(columns.values()))) if length is None else length

    # -- making ------------------------------------------------------------------------
    @classmethod
    def from_records(cls, records: Iterable) -> Table:
        """A table of the given records (each an instance of ``cls.record``)."""
        if isinstance(records, cls):
            return records
        rows = [astuple(r) if not isinstance(r, tuple) else r for r in records]
        names = list(cls.kinds)
        if any(len(r) != len(names) for r in rows):
            raise TypeError(f"each record needs {len(names)} fields: {names}")
        cols = list(zip(*rows)) if rows else [()] * len(names)
        return cls({n: encode(cls.kinds[n], list(c)) for n, c in zip(names, cols)}, len(rows))

    @classmethod
    def from_columns(cls, length: int, **columns: Column) -> Table:
        missing = set(cls.kinds) - set(columns)
        if missing:
            raise TypeError(f"missing columns: {sorted(missing)}")
        return cls({n: columns[n] for n in cls.kinds}, length)

    def take(self, rows: Any) -> Table:
        """The rows selected by an index array, a slice or a boolean mask, as a table."""
        cols = {n: c.take(rows) for n, c in self._cols.items()}
        return type(self)(cols)

    # -- reading columns ---------------------------------------------------------------
    def column(self, name: str) -> Column:
        return self._cols[name]

    def values(self, name: str) -> list:
        """The column ``name`` as a list of Python values."""
        return self._cols[name].decode()

    def floats(self, name: str) -> Any:
        """The column as a float64 array, NaN for None."""
        import numpy as np

        c = self._cols[name]
        if c.kind == "float" and c.values is not None:
            return c.values[c.data]
        if c.kind in ("float", "optfloat"):
            return c.data
        if c.kind == "optint":
            out = c.data.astype(np.float64)
            out[c.data < 0] = np.nan
            return out
        if c.kind in ("int", "bool"):
            return c.data.astype(np.float64)
        return np.array([np.nan if v is None else v for v in c.decode()], dtype=np.float64)

    def ints(self, name: str, none: int = -1) -> Any:
        """The column as an int64 array, ``none`` for None."""
        import numpy as np

        c = self._cols[name]
        if c.kind in ("int", "bool"):
            return c.data.astype(np.int64)
        if c.kind == "optint":
            out = c.data.astype(np.int64)
            if none != -1:
                out[out < 0] = none
            return out
        return np.array([none if v is None else v for v in c.decode()], dtype=np.int64)

    def codes(self, name: str) -> tuple[Any, list]:
        """A string column as (int64 codes, values): ``values[codes[i]]`` is row i's
        value (code -1: None); ``values`` may repeat a value."""
        import numpy as np

        c = self._cols[name]
        if c.kind in ("str", "optstr"):
            return c.data.astype(np.int64), list(c.values or ())
        col = encode("optstr" if c.kind != "str" else "str", c.decode())
        if col.kind == "obj":  # not strings: encode by equality all the same
            index: dict[Any, int] = {}
            codes = [-1 if v is None else index.setdefault(v, len(index)) for v in c.decode()]
            return np.array(codes, dtype=np.int64), list(index)
        return col.data.astype(np.int64), list(col.values or ())

    def mask(self, name: str, *wanted: Any) -> Any:
        """A bool array: is row i's value one of ``wanted``? (None may be wanted.)"""
        import numpy as np

        codes, values = self.codes(name)
        hit = [i for i, v in enumerate(values) if v in wanted]
        if None in wanted:
            hit.append(-1)
        return np.isin(codes, hit)

    def distinct(self, name: str) -> set:
        """The set of values of column ``name``."""
        import numpy as np

        c = self._cols[name]
        if c.kind in ("str", "optstr"):  # codes are small: count them
            lookup = list(c.values or ()) + [None]
            present = np.flatnonzero(np.bincount(c.data.astype(np.int64) + 1)) - 1
            return {lookup[i] for i in present.tolist()}
        if c.kind in ("int", "bool"):
            return set(np.unique(c.data).tolist())
        return set(c.decode())

    # -- the sequence ------------------------------------------------------------------
    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return self.take(i)
        if not isinstance(i, int):
            i = i.__index__()
        n = self._len
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"{type(self).__name__} index out of range")
        return self.record(*(c.value(i) for c in self._cols.values()))

    def __iter__(self) -> Iterator:
        make = self.record
        cols = [Column(c.kind, c.data, c.values) for c in self._cols.values()]  # runs made once
        for start in range(0, self._len, _BATCH):
            part = [c.take(slice(start, start + _BATCH)).decode() for c in cols]
            yield from map(make, *part)

    def __reversed__(self) -> Iterator:
        for i in range(self._len - 1, -1, -1):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Table):
            return (type(other) is type(self) and len(other) == len(self)
                    and all(self.values(n) == other.values(n) for n in self.kinds))
        if isinstance(other, (list, tuple)):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like a list

    def __add__(self, other: Any) -> list:
        return list(self) + list(other)

    def __radd__(self, other: Any) -> list:
        return list(other) + list(self)

    def __repr__(self) -> str:
        n = self._len
        if n <= _REPR_ALL:
            return repr(list(self))  # a short table reads like the list it stands for
        head = ", ".join(repr(self[i]) for i in range(3))
        return (f"<{type(self).__name__} of {n:,} {self.noun}: [{head}, ..., "
                f"{self[n - 1]!r}]>")

    def __reduce__(self):
        return (type(self), (self._cols, self._len))


def record_fields(record: type) -> list[str]:
    return [f.name for f in fields(record)]

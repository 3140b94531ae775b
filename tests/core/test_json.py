"""The trace file: exact round trips, files of the previous code, and every kind of bad
file rejected with a TraceFormatError that names the table, row and field."""

from __future__ import annotations

import json
import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.pool import ThreadPool
from pathlib import Path

import pytest
from proc_tasks import slow_square

import poolscope
from poolscope import Trace
from poolscope import trace as T
from poolscope._json import TABLES, TraceFormatError

DATA = Path(__file__).parent / "data"
# Written by poolscope before tasks became columns (see tests/core/data/README.md).
OLD_FILES = sorted(DATA.glob("trace-v1-*.json"))


def task(x):
    time.sleep(0.01)
    if x == 3:
        raise ValueError("three")
    return x


def slow(x):
    time.sleep(0.3)
    return x


@pytest.fixture(scope="module")
def recorded():
    """One recording with every kind of record: failed, never started (dropped by
    terminate(), cancelled), abandoned tasks; callbacks; a pool of each kind."""
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            pool.map_async(task, range(6), chunksize=2, error_callback=lambda e: None).wait()
            pool.apply_async(abs, (-1,), callback=lambda r: None).get()
            list(pool.imap(abs, range(3)))
        pool = ThreadPool(1)
        for i in range(3):
            pool.apply_async(slow, (i,))
        time.sleep(0.05)
        pool.terminate()
        pool.join()
        with ThreadPoolExecutor(1) as ex:
            futures = [ex.submit(slow, i) for i in range(3)]
            futures[2].cancel()
            list(ex.map(abs, [1, -2]))
    return trace


@pytest.fixture(scope="module")
def processes():
    """A process pool whose running tasks terminate() killed."""
    with poolscope.record() as trace:
        pool = multiprocessing.get_context("fork").Pool(2)
        pool.map(abs, [1, -2, 3], chunksize=1)
        for i in range(3):
            pool.apply_async(slow_square, (i, 2.0))
        time.sleep(0.3)
        pool.terminate()
        pool.join()
    return trace


def test_round_trip_is_exact(recorded, tmp_path):
    outcomes = {t.outcome for t in recorded.tasks}
    assert {T.FINISHED, T.FAILED, T.ABANDONED, T.NEVER_STARTED} <= outcomes
    assert {T.TERMINATED, T.CANCELLED} <= {t.note for t in recorded.tasks}
    assert {p.kind for p in recorded.pools} == {"ThreadPool", "ThreadPoolExecutor"}
    path = tmp_path / "trace.json"
    text = recorded.to_json(path)
    for loaded in (Trace.from_json(text), Trace.from_json(path), Trace.from_json(str(path)),
                   Trace.from_json(text.encode())):
        assert loaded.data() == recorded.data()
        assert list(loaded.tasks) == list(recorded.tasks)  # the records themselves
        assert loaded.summary() == recorded.summary()
        assert loaded.text() == recorded.text()
        assert loaded.to_json() == text
    assert json.loads(text)["version"] == 2


def test_round_trip_of_a_process_pool(processes):
    assert T.KILLED in {t.outcome for t in processes.tasks}
    loaded = Trace.from_json(processes.to_json())
    assert loaded.data() == processes.data()
    assert loaded.text() == processes.text()


@pytest.mark.parametrize("path", OLD_FILES, ids=lambda p: p.name)
def test_files_written_before_the_columns_still_load(path):
    trace = Trace.from_json(path)
    assert len(trace.tasks) > 0 and trace.text() and trace.summary().tasks == len(trace.tasks)
    # Written back as version 2, with the facts a version-1 file leaves to its kinds.
    again = Trace.from_json(trace.to_json())
    assert again.data() == trace.data() and json.loads(trace.to_json())["version"] == 2
    assert [p.process for p in trace.pools] == [p.kind == "Pool" for p in trace.pools]


def test_every_column_of_the_format_is_in_the_written_file(recorded):
    doc = json.loads(recorded.to_json())
    for name, columns in TABLES.items():
        assert doc[name]["columns"] == [c[0] for c in columns]


# -- bad files ----------------------------------------------------------------------------

def _doc(recorded) -> dict:
    return json.loads(recorded.to_json())


def _set(table: str, row: int, field: str, value):
    """A change to one value of the file: (table, row, field) set to ``value``."""
    def change(doc):
        names = doc[table]["columns"]
        doc[table]["rows"][row][names.index(field)] = value
    return change


BAD_VALUES = [
    # (table, row, field, value)
    ("tasks", 3, "started", "abc"),
    ("tasks", 3, "lane", -5),
    ("tasks", 2, "worker", {}),
    ("tasks", 1, "started", float("nan")),
    ("tasks", 1, "finished", float("inf")),
    ("tasks", 1, "finished", -float("inf")),
    ("tasks", 4, "submitted", 1e308),
    ("tasks", 4, "submitted", -0.5),
    ("tasks", 0, "index", 10**400),
    ("tasks", 0, "index", -1),
    ("tasks", 0, "index", 2**63),
    ("tasks", 0, "call_id", 1.5),
    ("tasks", 0, "pool", True),  # True == 1 in Python, but it is not a number here
    ("tasks", 5, "outcome", ["finished"]),  # unhashable
    ("tasks", 5, "outcome", "exploded"),
    ("tasks", 5, "outcome", None),
    ("tasks", 1, "note", 5),
    ("tasks", 1, "error", ["ValueError"]),
    ("tasks", 1, "chunk", "0"),
    ("tasks", 1, "caller", None),
    ("tasks", 1, "call", 7),
    ("tasks", 2, "measured", 1),
    ("tasks", 2, "measured", "yes"),
    ("events", 0, "start", None),
    ("events", 1, "status", "maybe"),
    ("events", 1, "kind", 9),
    ("events", 1, "call_id", -2),
    ("events", 2, "end", 10**400),
    ("workers", 0, "lane", None),
    ("workers", 0, "name", 3),
    ("workers", 1, "init_error", 1.0),
    ("workers", 1, "exited", "later"),
    ("pools", 0, "kind", "ProcessPool"),
    ("pools", 0, "size", 0),
    ("pools", 1, "created", "now"),
]


@pytest.mark.parametrize("table, row, field, value", BAD_VALUES,
                         ids=[f"{t}-{f}-{v!r:.20}" for t, _, f, v in BAD_VALUES])
def test_a_bad_value_is_named_by_row_and_field(recorded, table, row, field, value):
    doc = _doc(recorded)
    _set(table, row, field, value)(doc)
    with pytest.raises(TraceFormatError) as info:
        Trace.from_json(json.dumps(doc))
    assert f'{table} row {row}, field "{field}"' in str(info.value)


BAD_FILES = [
    # (what, change to the parsed document or the text itself, words the message holds)
    ("version 1.0", lambda d: d.update(version=1.0), "version 1.0"),
    ("version true", lambda d: d.update(version=True), "version True"),
    ("version '1'", lambda d: d.update(version="1"), "version '1'"),
    ("version 3", lambda d: d.update(version=3), "version 3"),
    ("no version", lambda d: d.pop("version"), "version None"),
    ("format", lambda d: d.update(format="chrome"), '"format": "poolscope-trace"'),
    ("duration NaN", lambda d: d.update(duration=float("nan")), '"duration"'),
    ("duration < 0", lambda d: d.update(duration=-1), '"duration"'),
    ("duration 1e308", lambda d: d.update(duration=1e308), '"duration"'),
    ("duration text", lambda d: d.update(duration="1 s"), '"duration"'),
    ("no duration", lambda d: d.pop("duration"), 'no "duration"'),
    ("no tasks", lambda d: d.pop("tasks"), 'no "tasks"'),
    ("columns", lambda d: d["tasks"]["columns"].reverse(), 'table "tasks" must have columns'),
    ("rows not a list", lambda d: d["events"].update(rows={}), 'table "events" has no list'),
    ("short row", lambda d: d["tasks"]["rows"][2].pop(), "tasks row 2: expected a list of 15"),
    ("row a dict", lambda d: d["pools"]["rows"].__setitem__(0, {}), "pools row 0: expected"),
    ("late time", lambda d: d.update(duration=0.5) or _set("tasks", 0, "finished", 1e6)(d),
     'tasks row 0, field "finished": 1000000.0 s is past the end of the trace'),
]


@pytest.mark.parametrize("what, change, words", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_get_clear_errors(recorded, what, change, words):
    doc = _doc(recorded)
    change(doc)
    with pytest.raises(TraceFormatError) as info:
        Trace.from_json(json.dumps(doc))
    assert words in str(info.value)


@pytest.mark.parametrize("text, words", [
    ("{not json", "invalid JSON"),
    ("[1, 2]", 'expected "format": "poolscope-trace"'),
    ('{"format": "poolscope-trace", "version": 99}', "unsupported poolscope trace version 99"),
    ('{"format": "poolscope-trace", "version": 1}', 'corrupt poolscope trace: no "duration"'),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),  # RecursionError in json
    ('{"format": "poolscope-trace", "version": 1, "duration": ' + "9" * 5000 + "}",
     "invalid JSON"),  # more digits than int() takes
])
def test_bad_text_gets_clear_errors(text, words):
    with pytest.raises(TraceFormatError, match=words):
        Trace.from_json(text)


def test_a_file_that_is_not_utf8(tmp_path, recorded):
    path = tmp_path / "latin1.json"
    path.write_bytes(recorded.to_json().replace("MainThread", "Main\xe9").encode("latin-1"))
    with pytest.raises(TraceFormatError, match="is not UTF-8 text"):
        Trace.from_json(path)


def test_missing_file(tmp_path):
    with pytest.raises(TraceFormatError, match="cannot read trace file"):
        Trace.from_json(tmp_path / "nope.json")
    assert issubclass(TraceFormatError, ValueError)


def test_times_a_little_after_the_duration_are_accepted(recorded):
    # A worker may log while the trace is being built (after its duration was read).
    doc = _doc(recorded)
    _set("tasks", 0, "finished", doc["duration"] + 1.0)(doc)
    assert Trace.from_json(json.dumps(doc)).tasks[0].finished == doc["duration"] + 1.0


def test_a_loaded_trace_of_synthetic_records():
    tasks = [T.Task(0, "map", 0, i, "w", 0, 0, 0.1 * i, 0.1 * i + 0.1, T.FINISHED)
             for i in range(3)]
    trace = Trace.from_records(tasks, pools=[T.PoolInfo(0, "ThreadPool", 1, 0.0)])
    loaded = Trace.from_json(trace.to_json())
    assert loaded.tasks == tasks and loaded.tasks[0].submitted == 0.0  # JSON's 0: a time


def test_the_written_description_names_every_column():
    # The module docstring documents TABLES, which alone drives the checks: keep in step.
    from poolscope import _json

    for name, columns in TABLES.items():
        assert name in _json.__doc__
        for column, kind, null in columns:
            assert column in _json.__doc__, column
            assert kind.describe  # every kind says what it wants, for the messages

"""trace.tasks and trace.events are columns that behave like the lists of records they
replace: indexing, slicing, iteration, equality, len, repr, pickling."""

from __future__ import annotations

import pickle
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope import trace as T
from poolscope.trace import Event, EventTable, Task, TaskTable, Trace, TraceData


def make(n: int) -> list[Task]:
    return [Task(0, "map", 0, i, f"w{i % 2}", i % 2, 0.0, 0.1 * i, None if i == 2 else 0.1 * i
                 + 0.1, T.RUNNING if i == 2 else T.FINISHED, chunk=i // 2, caller="MainThread",
                 measured=i % 3 != 0) for i in range(n)]


@pytest.fixture(scope="module")
def recorded():
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            pool.map(abs, range(-30, 30), chunksize=4)
    return trace


def test_a_table_is_the_sequence_of_its_records():
    tasks = make(5)
    table = TaskTable.from_records(tasks)
    assert len(table) == 5 and bool(table) and not TaskTable.from_records([])
    assert table[0] == tasks[0] and table[-1] == tasks[-1] and table[2].finished is None
    assert list(table) == tasks and list(reversed(table)) == tasks[::-1]
    assert table == tasks and tasks == table and table == tuple(tasks)
    assert table != tasks[:4] and table != tasks[::-1] and table != "tasks"
    assert table[1:3] == tasks[1:3] and isinstance(table[1:3], TaskTable)
    assert table[::2] == tasks[::2] and table[10:] == []
    assert tasks[3] in table and table.index(tasks[3]) == 3 and table.count(tasks[0]) == 1
    assert table + [tasks[0]] == tasks + [tasks[0]]
    with pytest.raises(IndexError):
        table[5]
    with pytest.raises(TypeError):
        hash(table)


def test_values_come_back_with_their_types():
    t = TaskTable.from_records(make(3))[2]
    assert (type(t.index), type(t.started), t.finished, type(t.measured)) == (
        int, float, None, bool)
    odd = Task(0, "map", 0, 0, None, None, 0, True, None, "strange", chunk=None)
    back = TaskTable.from_records([odd])[0]  # kept exactly, whatever was given
    assert back == odd and back.submitted == 0 and back.started is True


def test_repr_reads_like_the_list_when_short_and_summarises_when_long():
    assert repr(TaskTable.from_records([])) == "[]"
    assert repr(TaskTable.from_records(make(3))) == repr(make(3))
    text = repr(TaskTable.from_records(make(50)))
    assert text.startswith("<TaskTable of 50 tasks: [Task(") and "..., Task(" in text
    assert "index=49" in text and text.count("Task(") == 4


def test_columns_read_whole_arrays():
    table = TaskTable.from_records(make(4))
    assert table.floats("finished")[2] != table.floats("finished")[2]  # NaN for None
    assert table.ints("lane").tolist() == [0, 1, 0, 1]
    assert table.mask("outcome", T.RUNNING).tolist() == [False, False, True, False]
    assert table.values("worker") == ["w0", "w1", "w0", "w1"]
    assert table.distinct("chunk") == {0, 1}
    assert table.take([3, 0]) == [make(4)[3], make(4)[0]]


def test_trace_data_keeps_lists_as_tables():
    events = [Event("map", 0, "MainThread", 0.0, None, None, 0)]
    data = TraceData(make(3), events)
    assert isinstance(data.tasks, TaskTable) and isinstance(data.events, EventTable)
    assert data == TraceData(make(3), events) and data != TraceData(make(2), events)
    assert TraceData().tasks == [] and TraceData().events == []


def test_a_recorded_trace_is_columns(recorded):
    tasks = recorded.tasks
    assert isinstance(tasks, TaskTable) and len(tasks) == 60
    assert sorted(t.index for t in tasks) == list(range(60))
    assert {t.chunk for t in tasks} == set(range(15))
    assert recorded.count() == 60 and recorded.count(T.FINISHED, "map") == 60
    assert recorded.count(T.FAILED) == 0 and recorded.count(call="apply") == 0
    assert pickle.loads(pickle.dumps(tasks)) == tasks
    assert "60 tasks" in repr(recorded)


def test_from_records_takes_the_duration_from_the_records():
    trace = Trace.from_records(make(4))
    assert trace.duration == pytest.approx(0.4)
    assert Trace.from_records().duration == 0.0

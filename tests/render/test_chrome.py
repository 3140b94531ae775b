"""Chrome/Perfetto export: checked against the trace-event format's rules."""

from __future__ import annotations

import json
import time
from multiprocessing.pool import ThreadPool
from pathlib import Path

import pytest

import poolscope
from poolscope.render.chrome import chrome_trace
from poolscope.trace import (
    ABANDONED,
    FAILED,
    FINISHED,
    NEVER_STARTED,
    TERMINATED,
    Event,
    PoolInfo,
    Trace,
)

from render_samples import task, workers

PHASES = {"X", "i", "b", "e", "M"}


def validate(doc: dict) -> list[dict]:
    """Check the rules of the Trace Event Format that viewers rely on; return the
    events. Raises AssertionError naming the first offending event."""
    assert set(doc) >= {"traceEvents", "displayTimeUnit"}
    assert doc["displayTimeUnit"] in ("ms", "ns")
    json.dumps(doc)  # serialisable as it is
    events = doc["traceEvents"]
    assert isinstance(events, list)
    names: dict[tuple[int, int], str] = {}
    begun: dict[tuple, float] = {}
    for e in events:
        where = f"in event {e!r}"
        assert isinstance(e.get("name"), str) and e["name"], where
        assert e.get("ph") in PHASES, where
        for key in ("pid", "tid"):
            assert type(e.get(key)) is int and 0 <= e[key] < 2**31, where  # small ints
        if e["ph"] == "M":
            assert isinstance(e.get("args"), dict), where
            if e["name"] == "thread_name":
                assert (e["pid"], e["tid"]) not in names, f"thread named twice {where}"
                names[(e["pid"], e["tid"])] = e["args"]["name"]
            continue
        assert isinstance(e.get("ts"), (int, float)) and e["ts"] >= 0, where
        if e["ph"] == "X":
            assert isinstance(e.get("dur"), (int, float)) and e["dur"] >= 0, where
        if e["ph"] == "i":
            assert e.get("s") in ("g", "p", "t"), where
        if e["ph"] in ("b", "e"):
            assert isinstance(e.get("cat"), str) and "id" in e, where
            key = (e["pid"], e["cat"], e["id"], e["name"])
            if e["ph"] == "b":
                begun[key] = e["ts"]
            else:
                assert begun.pop(key) <= e["ts"], f"async end before begin {where}"
        if "args" in e:
            assert isinstance(e["args"], dict), where
    assert not begun, f"async events never ended: {begun}"
    for e in events:  # every thread that has events is named
        if e["ph"] != "M":
            assert (e["pid"], e["tid"]) in names, f"unnamed thread for {e!r}"
    return events


def sample() -> Trace:
    def map_async(i, lane, start, end, outcome=FINISHED, **kw):
        return task(i, lane, start, end, outcome, call="map_async", **kw)

    tasks = [map_async(0, 0, 0.0, 0.2),
             map_async(1, 1, 0.01, 0.1, FAILED, error="ValueError: 1"),
             map_async(2, 1, 0.1, None, ABANDONED),
             map_async(3, None, None, None, NEVER_STARTED, note=TERMINATED)]
    events = [Event("created", 0, "MainThread", 0.0, 0.001, "ok"),
              Event("map_async", 0, "MainThread", 0.0, 0.0, "ok", 0),
              Event("wait", 0, "MainThread", 0.0, 0.2, "ok", 0),
              Event("callback", 0, "Thread-5 (_handle_results)", 0.2, 0.21, "ok", 0),
              Event("terminate", 0, "MainThread", 0.25, 0.25, "ok"),
              Event("join", 0, "MainThread", 0.25, 0.3, "ok")]
    return Trace.from_records(tasks, events, workers(2), [PoolInfo(0, "ThreadPool", 2, 0.0)],
                              duration=0.4)


def test_sample_is_valid_and_complete():
    doc = chrome_trace(sample())
    events = validate(doc)
    tasks = {e["name"]: e for e in events if e["ph"] == "X" and e.get("cat") == "map_async"}
    assert set(tasks) == {"map_async[0]", "map_async[1]", "map_async[2]"}
    assert tasks["map_async[0]"]["ts"] == 0 and tasks["map_async[0]"]["dur"] == pytest.approx(2e5)
    assert tasks["map_async[1]"]["args"] == {"call": "map_async", "call_id": 0, "index": 1,
                                             "outcome": "failed", "error": "ValueError: 1"}
    assert tasks["map_async[2]"]["dur"] == pytest.approx(3e5)  # abandoned: to the end
    assert doc["otherData"]["never_started"] == ["map_async[3] (dropped by terminate())"]
    threads = {e["args"]["name"]: e["tid"] for e in events if e["name"] == "thread_name"}
    assert threads == {"Thread-1 (worker)": 1, "Thread-2 (worker)": 2,
                       "Thread-5 (_handle_results)": 3, "MainThread": 4, "queue": 5}
    kinds = {(e["ph"], e["name"]) for e in events}
    assert {("X", "wait"), ("X", "callback"), ("i", "terminate"), ("i", "join returned"),
            ("b", "queued map_async[1]"), ("e", "queued map_async[1]")} <= kinds
    process = [e["args"]["name"] for e in events if e["name"] == "process_name"]
    assert process == ["ThreadPool 0 (2 workers)"]


def test_written_to_path(tmp_path):
    path = tmp_path / "trace.json"
    doc = sample().to_chrome_trace(path)
    assert json.loads(path.read_text()) == doc


def test_empty_trace_is_valid():
    assert validate(chrome_trace(Trace.from_records())) == []


def test_recorded_run_is_valid():
    with poolscope.record() as trace:
        with ThreadPool(3) as pool:
            pool.map(time.sleep, [0.01] * 6)
            pool.apply_async(abs, (-1,), callback=lambda _: None).get()
            pool.close()
            pool.join()
    events = validate(chrome_trace(trace))
    assert len([e for e in events if e["ph"] == "X" and e.get("cat") == "map"]) == 6
    assert all(e["tid"] < 10 for e in events)  # small numbers, never thread idents


def test_validator_can_fail():
    doc = chrome_trace(sample())
    doc["traceEvents"].append({"name": "x", "ph": "X", "pid": 1, "tid": 2**40, "ts": 0,
                               "dur": 1})
    with pytest.raises(AssertionError):
        validate(doc)


# Chrome documents written by the export before it read columns (it built a Task and an
# Event per row), for recorded traces: a ThreadPool (map, apply_async with a callback,
# imap, imap_unordered, a failing map_async, starmap, terminate() with a task running),
# a ThreadPoolExecutor (submit, a cancel, a done-callback, map) and a process Pool
# (a version-1 file). The generator (poolscope's version) is left out.
DATA = Path(__file__).parent / "data"
GOLDEN = {"threadpool": DATA / "threadpool.trace.json",
          "executor": DATA / "executor.trace.json",
          "process-pool-v1": DATA.parent.parent / "core" / "data" / "trace-v1-process-pool.json"}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_output_unchanged_for_recorded_traces(name):
    doc = chrome_trace(Trace.from_json(GOLDEN[name]))
    assert doc["otherData"].pop("generator").startswith("poolscope ")
    want = json.loads((DATA / f"{name}.chrome.json").read_text())
    assert validate(doc) and json.loads(json.dumps(doc)) == want

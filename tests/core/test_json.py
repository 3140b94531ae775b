from __future__ import annotations

import json
import time
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope import Trace
from poolscope._json import TraceFormatError


@pytest.fixture(scope="module")
def recorded():
    def task(x):
        time.sleep(0.01)
        if x == 3:
            raise ValueError("three")
        return x

    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            pool.map_async(task, range(6), chunksize=2, error_callback=print).wait()
            pool.apply_async(abs, (1,)).get()
    return trace


def test_round_trip_is_exact(recorded, tmp_path):
    path = tmp_path / "trace.json"
    text = recorded.to_json(path)
    for loaded in (Trace.from_json(text), Trace.from_json(path), Trace.from_json(str(path))):
        assert loaded.data() == recorded.data()
        assert loaded.summary() == recorded.summary()
    assert json.loads(text)["version"] == 1


@pytest.mark.parametrize("text, message", [
    ("{not json", "invalid JSON"),
    ("[1, 2]", 'expected "format": "poolscope-trace"'),
    ('{"format": "poolscope-trace", "version": 99}', "unsupported poolscope trace version 99"),
    ('{"format": "poolscope-trace", "version": 1}', "corrupt poolscope trace"),
])
def test_bad_files_get_clear_errors(text, message):
    with pytest.raises(TraceFormatError, match=message):
        Trace.from_json(text)


def test_corrupt_rows_and_outcomes(recorded):
    doc = json.loads(recorded.to_json())
    doc["tasks"]["rows"][0] = doc["tasks"]["rows"][0][:3]
    with pytest.raises(TraceFormatError, match="each Task row must be a list of 15 values"):
        Trace.from_json(json.dumps(doc))
    doc = json.loads(recorded.to_json())
    doc["tasks"]["rows"][0][9] = "exploded"
    with pytest.raises(TraceFormatError, match="unknown task outcome 'exploded'"):
        Trace.from_json(json.dumps(doc))


def test_missing_file(tmp_path):
    with pytest.raises(TraceFormatError, match="cannot read trace file"):
        Trace.from_json(tmp_path / "nope.json")
    assert issubclass(TraceFormatError, ValueError)

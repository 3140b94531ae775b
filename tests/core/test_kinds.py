"""The pool-kind table (``_kinds.py``) and the facts the trace stores instead of kind names."""

from __future__ import annotations

import json
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing.pool import Pool, ThreadPool
from pathlib import Path

import pytest

import poolscope
from poolscope import _json, _kinds, _model, recording
from poolscope.trace import Event, PoolInfo, Trace

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*fork\\(\\) may lead to deadlocks:DeprecationWarning")

DATA = Path(__file__).parent / "data"
SRC = Path(poolscope.__file__).parent


def test_one_row_per_stdlib_pool_and_kind_of_finds_the_most_derived():
    assert [k.cls for k in _kinds.KINDS] == [ThreadPool, Pool, ThreadPoolExecutor,
                                              ProcessPoolExecutor]
    assert _kinds.kind_of(ThreadPool).name == "ThreadPool"  # though it is a Pool too
    assert _kinds.kind_of(type("Mine", (ThreadPoolExecutor,), {})).name == "ThreadPoolExecutor"
    assert _kinds.kind_of(Pool).process and not _kinds.kind_of(ThreadPool).process
    with pytest.raises(TypeError, match="not a pool poolscope records"):
        _kinds.kind_of(object)
    with pytest.raises(ValueError, match="unknown pool kind 'Pol'"):
        _kinds.by_name("Pol")
    assert _kinds.get("made up").name == "ThreadPool"


def test_every_kind_has_hooks_and_the_stdlib_size_attribute():
    for kind in _kinds.KINDS:
        hooks = __import__(kind.hooks, fromlist=["HOOKS"]).HOOKS
        assert hooks.subclasses.root is kind.cls and issubclass(
            hooks.recorded_class(kind.cls), kind.cls)
    # The size attribute is where the stdlib keeps the number of workers asked for.
    fork = multiprocessing.get_context("fork")
    made = [ThreadPool(1), fork.Pool(1), ThreadPoolExecutor(1), ProcessPoolExecutor(1, fork)]
    try:
        for kind, pool in zip(_kinds.KINDS, made):
            assert _kinds.kind_of(pool) is kind and getattr(pool, kind.size_attr) == 1
    finally:
        for pool in made:
            if isinstance(pool, Pool):
                pool.terminate()
                pool.join()
            else:
                pool.shutdown()
    # recording patches the constructor of each kind of the table, and nothing else.
    assert [cls for cls, _, _ in recording._PATCHES] == [k.cls for k in _kinds.KINDS]


def test_the_defaults_for_hand_made_records_agree_with_the_table():
    assert _model.PROCESS_KINDS == {k.name for k in _kinds.KINDS if k.process}
    assert PoolInfo(0, "Pool", 1, 0.0).process and not PoolInfo(0, "ThreadPool", 1, 0.0).process
    assert PoolInfo(0, "Pool", 1, 0.0, process=False).process is False  # stated: kept
    assert Event("map", 0, "t", 0.0, 0.1, "ok").blocking  # a ThreadPool's map
    assert not Event("map", 0, "t", 0.0, 0.0, "ok", blocking=False).blocking
    assert not Event("close", 0, "t", 0.0, 0.0, "ok").blocking


def test_a_recorded_trace_states_the_facts():
    with poolscope.record() as trace:
        with ThreadPool(1) as pool:
            pool.map(abs, [1])
        with ThreadPoolExecutor(1) as ex:
            list(ex.map(abs, [1]))
    maps = {e.pool: e.blocking for e in trace.events if e.kind == "map"}
    assert maps == {0: True, 1: False}  # ThreadPool.map waits; Executor.map submits
    assert [p.process for p in trace.pools] == [False, False]
    # The text timeline shows the caller waiting in the first map only.
    assert Trace.from_json(trace.to_json()).data() == trace.data()


def test_a_version_1_file_loads_with_facts_derived_from_its_kinds():
    path = DATA / "trace-v1-before-columns.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["version"] == 1 and "blocking" not in doc["events"]["columns"]
    trace = Trace.from_json(path)
    kinds = {p.index: p.kind for p in trace.pools}
    maps = [(kinds[e.pool], e.blocking) for e in trace.events if e.kind == "map"]
    assert ("ThreadPoolExecutor", False) in maps
    assert all(blocking == (kind != "ThreadPoolExecutor") for kind, blocking in maps)
    waits = [e for e in trace.events if e.kind in ("get", "join", "result")]
    assert waits and all(e.blocking for e in waits)
    process = Trace.from_json(DATA / "trace-v1-process-pool.json")
    assert [p.process for p in process.pools] == [True]
    # Written back as version 2: the facts are columns now.
    doc = json.loads(trace.to_json())
    assert doc["version"] == 2 and doc["events"]["columns"][-1] == "blocking"
    assert doc["pools"]["columns"][-1] == "process"


def test_a_version_2_file_must_have_the_fact_columns():
    doc = json.loads(Trace.from_records(pools=[PoolInfo(0, "Pool", 1, 0.0)]).to_json())
    doc["pools"]["columns"].pop()
    doc["pools"]["rows"] = [row[:-1] for row in doc["pools"]["rows"]]
    with pytest.raises(_json.TraceFormatError, match='table "pools" must have columns'):
        Trace.from_json(json.dumps(doc))


def test_renderers_and_the_builder_compare_no_pool_kind_names():
    names = "|".join(re.escape(f'"{k.name}"') for k in _kinds.KINDS)
    for path in [SRC / "_build.py", *sorted((SRC / "render").glob("*.py"))]:
        code = path.read_text(encoding="utf-8")
        hits = [line for line in code.splitlines() if re.search(f"==\\s*({names})", line)
                or re.search(f"({names})\\s*==", line)]
        assert not hits, f"{path.name} compares kind names: {hits}"

"""The playground: experiment validation, the runner, the explanations, the widget.

Durations are multiples of 0.05 s on 2-4 workers, so the whole file runs in seconds; no
assertion depends on wall-clock speed (frame rates are measured by the benchmark).
"""

from __future__ import annotations

import re
import sys
import threading
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
import poolscope.tutorial._explain
from poolscope.tutorial._experiment import MAX_TASKS, Experiment, run
from poolscope.tutorial.playground import code, explain, explore
from poolscope.trace import (ABANDONED, FINISHED, NEVER_STARTED, TERMINATED, Event, PoolInfo,
                             Task, Trace, Worker)
from poolscope.tutorial.workloads import METHODS

ASYNC = ("apply_async", "map_async", "starmap_async")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def no_figures():
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    yield
    assert set(plt.get_fignums()) == before, "a pyplot figure was left open"


def numbers_out(text: str) -> str:
    """The sentence with its measured times replaced (they vary from run to run)."""
    return re.sub(r"\d+\.\d+ s\b", "T s", text)


# -- validation ------------------------------------------------------------------------

@pytest.mark.parametrize("settings, message", [
    (dict(workers=0), "workers must be a whole number from 1 to 64 (got 0)"),
    (dict(workers=1000), "workers must be a whole number from 1 to 64 (got 1,000)"),
    (dict(workers=2.5), "workers must be a whole number from 1 to 64 (got 2.5)"),
    (dict(tasks=0), "tasks must be a whole number from 1 to 1,000 (got 0)"),
    (dict(tasks=MAX_TASKS + 1), "tasks must be a whole number from 1 to 1,000 (got 1,001)"),
    (dict(duration=-0.1), "duration must be a number of seconds >= 0 (got -0.1)"),
    (dict(duration=float("nan")), "duration must be a number of seconds >= 0 (got nan)"),
    (dict(jitter=1.5), "jitter must be a number from 0 to 1 (got 1.5)"),
    (dict(work="gpu"), "work must be one of 'io', 'cpu' (got 'gpu')"),
    (dict(method="submit"), "method must be one of 'map', 'map_async', 'imap'"),
    (dict(shutdown="shutdown"), "shutdown must be one of 'close-join', 'terminate', 'with' (got 'shutdown')"),
    (dict(method="apply", chunksize=2), "chunksize cannot be used with apply: it submits one "
                                        "task per call"),
    (dict(method="apply_async", chunksize=2), "chunksize cannot be used with apply_async"),
    (dict(chunksize=0), "chunksize must be a whole number >= 1, or None (got 0)"),
    (dict(method="map", callbacks=True), "map takes no callback: callbacks need apply_async, "
                                         "map_async or starmap_async"),
    (dict(method="apply", tasks=1000, duration=1.0), "this would take about 1000 s; keep it "
                                                      "under 60 s"),
    (dict(work="cpu", tasks=1000, duration=0.1), "this would take about 100 s"),
])
def test_invalid_experiments_say_why(settings, message):
    problems = Experiment(**settings).validate()
    assert any(p.startswith(message) for p in problems), problems
    with pytest.raises(ValueError, match=re.escape(message)):
        run(Experiment(**settings))


def test_every_problem_is_listed_and_a_good_experiment_has_none():
    assert len(Experiment(workers=0, tasks=0, duration=-1).validate()) == 3
    for method in METHODS:
        assert Experiment(method=method, callbacks=method in ASYNC).validate() == []


@pytest.mark.parametrize("settings, chunk, waves", [
    (dict(workers=4, tasks=12), 1, 3),
    (dict(workers=4, tasks=10), 1, 3),
    (dict(workers=4, tasks=17), 2, 5),  # the stdlib's default: divmod(17, 16) -> 2
    (dict(workers=4, tasks=20, chunksize=3), 3, 6),  # 7 chunks: the last round has 3
    (dict(workers=2, tasks=7, chunksize=3), 3, 4),  # chunks 3, 3, 1
    (dict(workers=4, tasks=8, chunksize=4), 4, 4),
    (dict(workers=4, tasks=17, method="imap"), 1, 5),  # imap's default is 1
    (dict(workers=4, tasks=5, method="apply"), 1, 5),  # one at a time
    (dict(workers=4, tasks=5, method="apply_async"), 1, 2),
])
def test_expected_chunks_and_waves(settings, chunk, waves):
    e = Experiment(**settings)
    assert (e.chunk, e.waves) == (chunk, waves)


def test_jitter_is_seeded_and_bounded():
    e = Experiment(tasks=50, duration=0.2, jitter=0.5)
    assert e.durations() == e.durations()
    assert e.durations() != Experiment(tasks=50, duration=0.2, jitter=0.5, seed=1).durations()
    assert all(0.1 <= d <= 0.3 for d in e.durations())
    assert Experiment(tasks=3, duration=0.2).durations() == [0.2, 0.2, 0.2]


# -- the runner ------------------------------------------------------------------------

@pytest.mark.parametrize("shutdown", ["close-join", "terminate", "with"])
@pytest.mark.parametrize("method", METHODS)
def test_each_method_and_shutdown(method, shutdown):
    e = Experiment(workers=2, tasks=4, duration=0.05, method=method, shutdown=shutdown,
                   callbacks=method in ASYNC)
    trace = run(e)
    assert not trace.live
    assert {t.call for t in trace.tasks} == {method} and len(trace.tasks) == 4
    kinds = [ev.kind for ev in trace.events]
    if e.drops:  # async work pending at shutdown: the first wave runs, the rest is dropped
        assert trace.count(ABANDONED) == 2 and trace.count(NEVER_STARTED) == 2
        assert all(t.note == TERMINATED for t in trace.tasks if t.outcome == NEVER_STARTED)
        assert "callback" not in kinds  # discarded results get no callback
    else:
        assert trace.count(FINISHED) == 4
        if method in ASYNC:
            assert kinds.count("callback") == (4 if method == "apply_async" else 1)
    expected = {"close-join": ["close", "join"], "terminate": ["terminate", "join"],
                "with": ["exit", "terminate"]}[shutdown]
    assert [k for k in kinds if k in ("close", "join", "terminate", "exit")] == expected


def test_chunks_and_cpu_work():
    trace = run(Experiment(workers=2, tasks=6, duration=0.05, chunksize=3))
    assert sorted({t.chunk for t in trace.tasks}) == [0, 1]
    assert len({t.worker for t in trace.tasks}) == 2
    trace = run(Experiment(workers=2, tasks=2, duration=0.02, work="cpu"))
    assert trace.count(FINISHED) == 2


def test_runs_are_recorded_only_by_their_own_recording():
    with poolscope.record() as mine:
        trace = run(Experiment(workers=2, tasks=2, duration=0.05))
        with ThreadPool(1) as pool:
            pool.map(abs, [1])
    assert len(trace.tasks) == 2 and len(trace.pools) == 1
    assert len(mine.tasks) == 1 and len(mine.pools) == 1


def test_on_update_sees_the_live_trace_then_the_finished_one():
    seen = []
    trace = run(Experiment(workers=2, tasks=4, duration=0.1),
                on_update=lambda t: seen.append(t.live), interval=0.02)
    assert seen[0] is True and seen[-1] is False and seen.count(False) == 1
    assert trace.count(FINISHED) == 4


def test_an_error_in_on_update_is_raised_after_the_run():
    def broken(trace):
        raise RuntimeError("drawing failed")

    with pytest.raises(RuntimeError, match="drawing failed"):
        run(Experiment(workers=2, tasks=2, duration=0.05), on_update=broken)


def test_a_stop_event_ends_the_run_early():
    stop = threading.Event()
    timer = threading.Timer(0.1, stop.set)
    timer.start()
    trace = run(Experiment(workers=2, tasks=6, duration=5.0), stop_event=stop)
    timer.join()
    assert trace.count(FINISHED) == 6
    assert max(t.duration for t in trace.tasks) < 5.0  # the 5 s waits were cut short


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shutdown", ["close-join", "terminate", "with"])
def test_the_code_shown_is_the_code_run(method, shutdown):
    e = Experiment(workers=2, tasks=3, duration=0.01, method=method, shutdown=shutdown,
                   callbacks=method in ASYNC, chunksize=None if "apply" in method else 2)
    source = code(e)
    assert f"pool.{method}(" in source and f"ThreadPool({e.workers})" in source
    namespace: dict = {}
    with poolscope.record() as trace:
        exec(compile(source, "<playground code>", "exec"), namespace)
    ours = run(e)
    assert sorted(t.outcome for t in trace.tasks) == sorted(t.outcome for t in ours.tasks) \
        or e.drops  # what terminate drops depends on timing in the plain code


@pytest.mark.parametrize("interval, message", [
    (0, "interval must be a number of seconds from 0.01 to 60 (got 0)"),  # was a busy loop
    (-1, "interval must be a number of seconds from 0.01 to 60 (got -1)"),
    (1e-6, "interval must be a number of seconds from 0.01 to 60 (got 1e-06)"),
    (1e6, "interval must be a number of seconds from 0.01 to 60 (got 1e+06)"),
    ("x", "interval must be a number of seconds from 0.01 to 60 (got 'x')"),  # was a thread's traceback
    (None, "interval must be a number of seconds from 0.01 to 60 (got None)"),
    (float("nan"), "interval must be a number of seconds from 0.01 to 60 (got nan)"),
    (True, "interval must be a number of seconds from 0.01 to 60 (got True)"),
])
def test_a_bad_interval_is_refused_before_anything_runs(interval, message):
    frames = []
    with pytest.raises(ValueError) as info:
        run(Experiment(workers=1, tasks=2, duration=0), on_update=frames.append,
            interval=interval)
    assert str(info.value) == message and frames == []


@pytest.mark.parametrize("args, message", [
    (("x",), "run() needs an Experiment, e.g. run(Experiment(workers=4)) (got 'x')"),
    ((Experiment(), "draw"), "on_update must be a function of the trace or None (got 'draw')"),
    ((Experiment(), None, True), "stop_event must be a threading.Event or None (got True)"),
])
def test_bad_arguments_to_run_are_type_errors_before_anything_runs(args, message):
    with pytest.raises(TypeError) as info:
        run(*args)
    assert str(info.value) == message


# -- explain ---------------------------------------------------------------------------

def synthetic(e: Experiment, outcome_of=lambda i: FINISHED, finish=None,
              events=()) -> Trace:
    """A trace of ``e`` as if its tasks ran in perfect waves (no threads involved)."""
    tasks = []
    for i in range(e.tasks):
        wave, lane = divmod(i, e.workers)
        outcome = outcome_of(i)
        start = None if outcome == NEVER_STARTED else wave * e.duration
        end = None if start is None else (finish or start + e.duration)
        tasks.append(Task(0, e.method, 0, i, None if start is None else f"w{lane}",
                          None if start is None else lane, 0.0, start, end, outcome,
                          note=TERMINATED if outcome == NEVER_STARTED else None,
                          caller="MainThread"))
    return Trace.from_records(tasks, events, [Worker(0, n, f"w{n}", 0.0)
                                              for n in range(e.workers)],
                              [PoolInfo(0, "ThreadPool", e.workers, 0.0)])


def blocked(kind: str, seconds: float) -> Event:
    return Event(kind, 0, "MainThread", 0.0, seconds, "ok")


def test_explain_equal_io_tasks_in_waves():
    e = Experiment(workers=4, tasks=12, duration=0.2)
    assert explain(e, synthetic(e, events=[blocked("map", 0.6)])) == (
        "4 workers, 12 IO tasks of 0.2 s: 3 waves; the caller was blocked in map() for 0.6 s.")


def test_explain_apply_runs_one_at_a_time():
    e = Experiment(workers=4, tasks=3, duration=0.1, method="apply")
    events = [Event("apply", 0, "MainThread", 0.1 * i, 0.1 * i + 0.1, "ok") for i in range(3)]
    assert explain(e, synthetic(e, events=events)) == (
        "4 workers, 3 IO tasks of 0.1 s: one task at a time, because apply() waits for each "
        "task to finish; the caller was blocked in apply() for 0.3 s.")


def test_explain_terminate_and_the_with_block():
    e = Experiment(workers=4, tasks=12, duration=0.2, method="map_async", shutdown="terminate")
    trace = synthetic(e, lambda i: ABANDONED if i < 4 else NEVER_STARTED,
                      events=[blocked("join", 0.2)])
    assert explain(e, trace) == (
        "4 workers, 12 IO tasks of 0.2 s: terminate() came while work was pending: 8 queued "
        "tasks never ran and the results of 4 running tasks were discarded; the caller was "
        "blocked in join() for 0.2 s.")
    e = Experiment(workers=4, tasks=5, duration=0.2, method="apply_async", shutdown="with")
    trace = synthetic(e, lambda i: ABANDONED if i < 4 else NEVER_STARTED)
    assert explain(e, trace) == (
        "4 workers, 5 IO tasks of 0.2 s: leaving the with-block called terminate(): 1 queued "
        "task never ran and the results of 4 running tasks were discarded; the caller was "
        "never blocked (leaving a with-block does not wait).")


def test_explain_terminate_after_a_blocking_call_drops_nothing():
    e = Experiment(workers=2, tasks=4, duration=0.1, shutdown="terminate")
    assert explain(e, synthetic(e, events=[blocked("map", 0.2)])) == (
        "2 workers, 4 IO tasks of 0.1 s: 2 waves, and terminate() came after every result "
        "was in, so it dropped nothing; the caller was blocked in map() for 0.2 s.")


def test_explain_chunks_idle_workers_jitter_and_callbacks():
    e = Experiment(workers=4, tasks=8, duration=0.1, chunksize=4)
    tasks = [Task(0, "map", 0, i, f"w{i // 4}", i // 4, 0.0, 0.1 * (i % 4), 0.1 * (i % 4) + 0.1,
                  FINISHED, chunk=i // 4, caller="MainThread") for i in range(8)]
    trace = Trace.from_records(tasks, [blocked("map", 0.4)],
                               pools=[PoolInfo(0, "ThreadPool", 4, 0.0)])
    assert explain(e, trace) == (
        "4 workers, 8 IO tasks of 0.1 s: 2 chunks of up to 4 tasks, so the busiest worker ran "
        "4 tasks in a row while 2 workers had nothing to do; the caller was blocked in map() "
        "for 0.4 s.")
    e = Experiment(workers=2, tasks=4, duration=0.1, jitter=0.5, method="apply_async",
                   callbacks=True)
    events = [blocked("join", 0.2), blocked("get", 0.0)] + [
        Event("callback", 0, "handler", 0.1 * i, 0.1 * i, "ok") for i in range(4)]
    assert explain(e, synthetic(e, events=events)) == (
        "2 workers, 4 IO tasks of 0.1 s +/- 50%: about 2 waves; the caller was blocked in "
        "join() for 0.2 s; 4 callbacks ran one at a time in the pool's result-handler thread.")


def test_explain_cpu_tasks_under_the_gil(monkeypatch):
    monkeypatch.setattr(poolscope.tutorial._explain, "_gil", lambda: True)
    e = Experiment(workers=4, tasks=4, duration=0.1, work="cpu")
    serial = synthetic(e, finish=0.4, events=[blocked("map", 0.4)])  # all end together
    assert explain(e, serial) == (
        "4 workers, 4 CPU tasks of 0.1 s: the GIL let only one task compute at a time, so "
        "they took 0.4 s, where 1 wave of IO tasks takes 0.1 s; the caller was blocked in "
        "map() for 0.4 s.")
    monkeypatch.setattr(poolscope.tutorial._explain, "_gil", lambda: False)  # free-threaded
    parallel = synthetic(e, events=[blocked("map", 0.1)])
    assert explain(e, parallel).startswith("4 workers, 4 CPU tasks of 0.1 s: 1 wave;")


def test_explain_a_stopped_run():
    e = Experiment(workers=2, tasks=4, duration=1.0)
    assert "stopped early: the tasks still to run returned at once" in explain(
        e, synthetic(e, events=[blocked("map", 0.3)]), stopped=True)


def test_explain_real_runs():
    e = Experiment(workers=4, tasks=8, duration=0.05)
    assert numbers_out(explain(e, run(e))) == (
        "4 workers, 8 IO tasks of T s: 2 waves; the caller was blocked in map() for T s.")
    e = Experiment(workers=2, tasks=6, duration=0.05, method="map_async", shutdown="with")
    assert numbers_out(explain(e, run(e))) == (
        "2 workers, 6 IO tasks of T s: leaving the with-block called terminate(): 4 queued "
        "tasks never ran and the results of 2 running tasks were discarded; the caller was "
        "never blocked (leaving a with-block does not wait).")


@pytest.mark.skipif(not getattr(sys, "_is_gil_enabled", lambda: True)(),
                    reason="a free-threaded build runs CPU tasks in parallel")
def test_explain_a_real_cpu_run_names_the_gil():
    e = Experiment(workers=2, tasks=2, duration=0.1, work="cpu")
    assert "the GIL let only one task compute at a time" in explain(e, run(e))


# -- the widget ------------------------------------------------------------------------

@pytest.fixture
def playground():
    made = []

    def make(**settings):
        made.append(explore(**settings))
        return made[-1]

    yield make
    for pg in made:
        pg.close()


def test_explore_is_a_vbox_of_controls_for_every_setting(playground):
    import ipywidgets

    pg = playground(workers=3, chunksize=7)
    assert isinstance(pg, ipywidgets.VBox)
    assert set(pg.controls) == set(Experiment.__dataclass_fields__)
    assert pg.controls["workers"].value == 3 and pg.controls["chunksize"].value == 7
    assert pg.experiment == Experiment(workers=3, chunksize=7)
    with pytest.raises(TypeError, match="not both"):
        explore(Experiment(), workers=2)
    with pytest.raises(ValueError, match="method must be one of"):
        explore(method="submit")


@pytest.mark.parametrize("args, settings, error, message", [
    (("x",), {}, TypeError, "explore() takes an Experiment or settings such as "
                            "explore(workers=4, tasks=12) (got 'x')"),
    ((), dict(bogus=1), TypeError, "explore() has no setting 'bogus'; the settings are "
                                   "workers, tasks, duration, jitter, work, method, "
                                   "chunksize, callbacks, shutdown, seed"),
    ((), dict(workers="x"), ValueError, "workers must be a whole number from 1 to 64 "
                                        "(got 'x')"),
])
def test_explore_says_what_is_wrong_with_its_arguments(args, settings, error, message):
    for explore_ in (explore, poolscope.explore):
        with pytest.raises(error) as info:
            explore_(*args, **settings)
        assert str(info.value) == message


def test_the_widget_refuses_a_bad_interval_or_experiment_up_front():
    from poolscope.tutorial._widget import Playground

    with pytest.raises(ValueError, match=r"interval must be a number of seconds from 0\.01 to 60"):
        Playground(Experiment(), interval=0)
    with pytest.raises(TypeError, match="needs an Experiment"):
        Playground("x")


def test_run_updates_the_image_progress_and_status(playground):
    pg = playground(workers=2, tasks=4, duration=0.1)
    formats = []
    pg.image.observe(lambda change: formats.append(change["new"]), names="format")
    assert pg.image.value == b""
    assert pg.run(wait=True) is True
    first = bytes(pg.image.value)  # ipywidgets keeps bytes as a memoryview
    assert first.startswith(PNG) and pg.image.format == "png"
    assert pg.frames >= 2 and "jpeg" in formats  # live frames, then the final PNG
    assert (pg.progress.value, pg.progress.max, pg.count.value) == (4, 4, "4 / 4 tasks")
    assert pg.last_trace.count(FINISHED) == 4
    assert explain(pg.experiment, pg.last_trace) in pg.status.value.replace("&#x27;", "'")
    assert "makespan" in pg.summary.value and "pool.map(task, items)" in pg.summary.value
    assert not pg.run_button.disabled and pg.stop_button.disabled

    pg.controls["workers"].value = 4
    pg.controls["method"].value = "imap_unordered"
    assert pg.run(wait=True)
    assert bytes(pg.image.value).startswith(PNG) and bytes(pg.image.value) != first
    assert pg.last_trace.tasks[0].call == "imap_unordered"
    assert "1 wave;" in pg.status.value


def test_a_second_run_while_running_is_refused(playground):
    pg = playground(workers=2, tasks=4, duration=0.3)
    assert pg.run() is True
    assert pg.running and pg.run_button.disabled
    assert pg.run() is False
    assert "still going on" in pg.status.value
    pg.wait()
    assert not pg.running and not pg.run_button.disabled
    assert pg.last_trace.count(FINISHED) == 4


def test_controls_prevent_or_explain_invalid_settings(playground):
    pg = playground()
    pg.controls["method"].value = "apply"
    pg.controls["chunksize"].value = 4
    pg.controls["callbacks"].value = True
    assert pg.controls["chunksize"].disabled and pg.controls["callbacks"].disabled
    assert "nothing to chunk" in pg.notes.value and "apply takes none" in pg.notes.value
    assert pg.experiment.chunksize is None and pg.experiment.callbacks is False  # ignored
    pg.controls["tasks"].value = 1000
    pg.controls["duration"].value = 1.0
    assert pg.run_button.disabled and "cannot run" in pg.notes.value
    assert pg.run() is False  # what a headless caller gets: a message, not a traceback
    assert "Cannot run: this would take about 1000 s" in pg.status.value
    pg.controls["method"].value = "map_async"
    assert not pg.controls["chunksize"].disabled and pg.run_button.disabled  # 250 s still
    pg.controls["tasks"].value = 12
    assert not pg.run_button.disabled and "cannot run" not in pg.notes.value
    assert pg.experiment.chunksize == 4 and pg.experiment.callbacks is True


def test_stop_ends_a_run_and_says_so(playground):
    pg = playground(workers=2, tasks=4, duration=2.0)
    pg.run()
    threading.Timer(0.1, pg.stop).start()
    pg.wait(timeout=30)
    assert not pg.running
    assert "stopped early" in pg.status.value and pg.progress.bar_style == "warning"


def test_a_failing_frame_is_reported_not_raised(playground, monkeypatch):
    pg = playground(workers=2, tasks=2, duration=0.05)

    def broken(trace):
        raise RuntimeError("no canvas")

    monkeypatch.setattr(pg, "_frame", broken)
    assert pg.run(wait=True)
    assert "The run failed: RuntimeError: no canvas" in pg.status.value
    assert not pg.running and not pg.run_button.disabled


def test_close_stops_a_run_and_leaves_nothing(playground):
    pg = playground(workers=2, tasks=4, duration=2.0)
    pg.run()
    pg.close()
    assert not pg.running and pg.comm is None
    pg.close()  # twice is harmless


def test_a_pool_made_elsewhere_during_a_run_stays_out_of_its_trace():
    results, going = {}, threading.Event()

    def watch(trace):
        if trace.tasks:
            going.set()

    runner = threading.Thread(target=lambda: results.setdefault("trace", run(
        Experiment(workers=2, tasks=4, duration=0.2), on_update=watch, interval=0.01)))
    runner.start()
    assert going.wait(10)
    with ThreadPool(3) as pool:  # made by "another cell" while the run goes on
        pool.map(abs, [1, 2, 3])
    runner.join()
    assert len(results["trace"].pools) == 1 and results["trace"].count() == 4


def test_the_default_chunksize_is_shown_as_selected(playground):
    pg = playground(workers=2, tasks=4, duration=0.1)
    dropdown = pg.controls["chunksize"]
    assert dropdown.label == "default" and dropdown.index == 0
    assert pg.experiment.chunksize is None

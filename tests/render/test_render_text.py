"""The text timeline: exact output for synthetic traces, structure for a real run."""

from __future__ import annotations

import time
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope.render.text import text_timeline
from poolscope.trace import (
    ABANDONED,
    FAILED,
    NEVER_STARTED,
    RUNNING,
    TERMINATED,
    Event,
    PoolInfo,
    Trace,
)

from render_samples import task, workers


def four_on_two(shift=0.0, swap=False):
    """map(sleep(0.2), 4 items) on 2 workers, every time shifted by ``shift``."""
    lanes = [0, 1, 1, 0] if swap else [0, 1, 0, 1]
    tasks = [task(i, lanes[i], 0.2 * (i // 2) + shift, 0.2 * (i // 2) + 0.2 + shift)
             for i in range(4)]
    events = [Event("map", 0, "MainThread", 0.0, 0.4 + shift, "ok", 0),
              Event("terminate", 0, "MainThread", 0.41 + shift, 0.41 + shift, "ok")]
    return Trace.from_records(tasks, events, workers(2), [PoolInfo(0, "ThreadPool", 2, 0.0)])


FOUR_ON_TWO = """\
time (s)  0
          |....
worker 0  0022
worker 1  1133
caller    ====
pool          T
legend: 1 char = 0.1 s from the first submission, 0-9a-z item index,
        = caller blocked, T terminate()"""


def test_map_on_two_workers_exact():
    assert text_timeline(four_on_two()) == FOUR_ON_TWO
    assert four_on_two().text() == FOUR_ON_TWO  # Trace.text delegates here


@pytest.mark.parametrize("shift", [-0.045, -0.01, 0.003, 0.02, 0.035])
def test_jitter_under_half_a_tick_changes_nothing(shift):
    assert text_timeline(four_on_two(shift)) == FOUR_ON_TWO


def test_rows_do_not_depend_on_which_thread_took_which_task():
    assert text_timeline(four_on_two(swap=True)) == FOUR_ON_TWO
    actual = text_timeline(four_on_two(swap=True), order="actual")
    assert "worker 0  0033" in actual and "worker 1  1122" in actual


def test_failed_abandoned_and_never_started():
    tasks = [task(0, 0, 0.0, 0.2), task(1, 1, 0.0, 0.1, FAILED, error="ValueError: bad"),
             task(2, 1, 0.1, None, ABANDONED), task(3, 0, 0.2, None, ABANDONED),
             task(4, None, None, None, NEVER_STARTED, note=TERMINATED),
             task(5, None, None, None, NEVER_STARTED, note=TERMINATED)]
    events = [Event("terminate", 0, "MainThread", 0.3, 0.3, "ok")]
    trace = Trace.from_records(tasks, events, workers(2), duration=0.5)
    assert text_timeline(trace) == """\
time (s)  0
          |....
worker 0  00!!!
worker 1  X!!!!
pool         T
failed: item 1 (ValueError: bad)
abandoned: items 2, 3 (running at terminate(); results discarded)
never started: items 4, 5 (dropped by terminate())
legend: 1 char = 0.1 s from the first submission, 0-9a-z item index, X failed,
        ! abandoned (running at terminate()), T terminate()"""


def test_several_calls_callbacks_and_queue():
    tasks = [task(0, 0, 0.0, 0.2, call="apply_async"),
             task(0, 0, 0.2, 0.4, call="map_async", call_id=1, submitted=0.0),
             task(1, 1, 0.0, 0.2, call="map_async", call_id=1, submitted=0.0),
             task(2, 1, 0.2, 0.4, call="map_async", call_id=1, submitted=0.0,
                  outcome=FAILED, error="KeyError: 2")]
    events = [Event("callback", 0, "Thread-5 (_handle_results)", 0.2, 0.2001, "ok", 0),
              Event("error_callback", 0, "Thread-5 (_handle_results)", 0.4, 0.4001, "ok", 1),
              Event("get", 0, "MainThread", 0.0, 0.4, "raised", 1),
              Event("close", 0, "MainThread", 0.4, 0.4, "ok"),
              Event("join", 0, "MainThread", 0.4, 0.4, "ok")]
    trace = Trace.from_records(tasks, events, workers(2))
    assert text_timeline(trace, show_wait=True, cells="call") == """\
time (s)   0    0.5
           |....|
worker 0   0011
worker 1   11XX
callbacks    c E
caller     ====
queued     22
pool           CJ
failed: call 1 (map_async) item 2 (KeyError: 2)
legend: 1 char = 0.1 s from the first submission, 0-9a-z call number, X failed,
        = caller blocked, c callback, E error_callback,
        1-9 tasks queued (+ 10 or more), C close(), J join() returned"""


def test_apply_loop_shows_call_numbers():
    tasks = [task(0, 0, 0.1 * i, 0.1 * i + 0.1, call="apply", call_id=i) for i in range(3)]
    text = text_timeline(Trace.from_records(tasks, [], workers(2)), lanes="workers")
    assert "worker 0  012" in text and "0-9a-z call number" in text
    assert "worker 0  000" in text_timeline(Trace.from_records(tasks), cells="index")


def test_several_pools_and_threads_get_stable_labels():
    tasks = [task(0, 0, 0.0, 0.1, caller="Thread-9"),
             task(0, 0, 0.0, 0.1, pool=1, call_id=1, caller="producer")]
    events = [Event("map", 0, "Thread-9", 0.0, 0.1, "ok", 0),
              Event("map", 1, "producer", 0.0, 0.1, "ok", 1)]
    pools = [PoolInfo(0, "ThreadPool", 1, 0.0), PoolInfo(1, "ThreadPool", 1, 0.0)]
    text = text_timeline(Trace.from_records(tasks, events, workers(1) + workers(1, 1), pools))
    labels = [line[:17].rstrip() for line in text.splitlines()[2:6]]
    assert labels == ["pool 0 worker 0", "pool 1 worker 0", "caller 1", "producer"]
    assert "Thread-" not in text


def test_short_tasks_items_after_z_and_running():
    # 12 tasks of 10 ms on one thread: they stay on one row, several per cell ("+").
    tasks = [task(i, 0, 0.01 * i, 0.01 * i + 0.01) for i in range(12)]
    tasks += [task(40, 1, 0.0, 0.2), task(41, 1, 0.3, None, RUNNING)]
    text = text_timeline(Trace.from_records(tasks, [], workers(2), duration=0.5), tick=0.1)
    assert text == """\
time (s)  0
          |....
worker 0  ++ ##
worker 1  ##
still running: item 41
legend: 1 char = 0.1 s from the first submission, 0-9a-z item index,
        # item after z, + several tasks in one cell"""
    # the running task reaches "now", the end of the trace
    actual = text_timeline(Trace.from_records(tasks, [], workers(2), duration=0.5),
                           order="actual", lanes="workers")
    assert "worker 1  ## ##" in actual


def test_width_cuts_and_tick_none_fits():
    trace = Trace.from_records([task(0, 0, 0.0, 3.0)], [], workers(1))
    cut = text_timeline(trace, width=10)
    assert "worker 0  " + "0" * 10 in cut and "(cut at 1 s of 3 s" in cut
    fitted = text_timeline(trace, tick=None, width=20)
    assert "1 char = 0.2 s" in fitted and "worker 0  " + "0" * 15 in fitted


def test_empty_trace():
    assert text_timeline(Trace.from_records()) == "no tasks recorded"


@pytest.mark.parametrize("option, value, allowed", [
    ("lanes", "callers", "'all', 'workers'"), ("cells", "item", "'auto', 'index', 'call'"),
    ("order", "random", "'stable', 'actual'"), ("show_wait", "yes", "True, False"),
])
def test_bad_option_values_name_the_option(option, value, allowed):
    with pytest.raises(ValueError, match=f"{option} must be one of {allowed} \\(got '{value}'\\)"):
        text_timeline(four_on_two(), **{option: value})


@pytest.mark.parametrize("tick", [0, -0.1, "0.1", float("nan"), True])
def test_bad_tick(tick):
    with pytest.raises(ValueError, match="tick must be a number of seconds > 0, or None"):
        text_timeline(four_on_two(), tick=tick)


def test_bad_width():
    with pytest.raises(ValueError, match="width must be a whole number >= 10, or None"):
        text_timeline(four_on_two(), width=3)


def test_json_round_trip_renders_the_same():
    trace = four_on_two()
    assert Trace.from_json(trace.to_json()).text() == trace.text()


def test_recorded_run_structure():
    with poolscope.record() as trace:
        with ThreadPool(4) as pool:
            pool.map(time.sleep, [0.1] * 8)
            pool.apply_async(abs, (-1,), callback=lambda _: None).get()
    text = trace.text(tick=0.05)
    rows = {line[:10].rstrip(): line[10:] for line in text.splitlines()}
    assert [k for k in rows if k.startswith("worker")] == [f"worker {i}" for i in range(4)]
    cells = "".join(v for k, v in rows.items() if k.startswith("worker"))
    # Items on worker rows ("+" only if a task was delayed by over 25 ms under load).
    assert set(cells) <= set("01234567+ ") and len(set(cells) & set("01234567")) >= 4
    assert "=" in rows["caller"] and "T" in rows["pool"] and "c" in rows["callbacks"]
    assert "Thread-" not in text and "never started" not in text


def test_item_letters_are_not_taken_for_legend_symbols():
    # Items 12 ("c") and 14 ("e") on worker rows: no callback in the legend.
    tasks = [task(i, 0, 0.1 * (i - 12), 0.1 * (i - 11)) for i in range(12, 15)]
    text = text_timeline(Trace.from_records(tasks, [], workers(1)))
    assert "worker 0  cde" in text and "callback" not in text

"""The matplotlib timeline: lanes, bars per style, PNG output, live view."""

from __future__ import annotations

import io
import time
from multiprocessing.pool import ThreadPool

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")  # no display in tests
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

import poolscope  # noqa: E402
from poolscope.render.mpl import TimelineView, plot_timeline  # noqa: E402
from poolscope.trace import (  # noqa: E402
    ABANDONED,
    FAILED,
    FINISHED,
    NEVER_STARTED,
    TERMINATED,
    Event,
    PoolInfo,
    Task,
    Trace,
)

from render_samples import task, workers  # noqa: E402

HANDLER = "Thread-5 (_handle_results)"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def sample() -> Trace:
    """6 tasks on 2 workers: 3 finished, 1 failed, 1 abandoned, 1 never started."""
    tasks = [task(0, 0, 0.0, 0.2), task(1, 1, 0.0, 0.2), task(2, 0, 0.2, 0.4),
             task(3, 1, 0.2, 0.3, FAILED, error="ValueError: 3"),
             task(0, 1, 0.3, None, ABANDONED, call_id=1, call="apply_async"),
             task(4, None, None, None, NEVER_STARTED, note=TERMINATED)]
    events = [Event("map", 0, "MainThread", 0.0, 0.3, "raised", 0),
              Event("callback", 0, HANDLER, 0.3, 0.3001, "ok", 0),
              Event("terminate", 0, "MainThread", 0.35, 0.351, "ok")]
    return Trace.from_records(tasks, events, workers(2), [PoolInfo(0, "ThreadPool", 2, 0.0)],
                              duration=0.5)


def polys(ax) -> dict[str, int]:
    """Number of polygons per style, telling the styles apart by how they look."""
    out: dict[str, int] = {}
    for c in ax.collections:
        if not isinstance(c, PolyCollection) or not len(c.get_paths()):
            continue
        style = ("failed" if c.get_hatch() else
                 "abandoned" if c.get_linestyle()[0][1] is not None and
                 c.get_linewidth()[0] == 1.0 else "other")
        out[style] = out.get(style, 0) + len(c.get_paths())
    return out


def test_one_lane_per_thread_with_thread_names():
    ax = plot_timeline(sample())
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Thread-1 (worker)", "Thread-2 (worker)", HANDLER, "MainThread"]
    stable = sample().plot(lane_names="stable")
    assert [t.get_text() for t in stable.get_yticklabels()] == [
        "worker 0", "worker 1", "callbacks", "caller"]


def test_bars_per_style():
    ax = plot_timeline(sample())
    # 5 started tasks: 1 failed, 1 abandoned; plus the blocked map and the callback.
    assert polys(ax) == {"failed": 1, "abandoned": 1, "other": 5}
    failed = next(c for c in ax.collections if isinstance(c, PolyCollection) and c.get_hatch())
    assert matplotlib.colors.to_hex(failed.get_edgecolor()[0]) == "#d55e00"  # red edge


def test_abandoned_bar_runs_to_the_end_of_the_trace():
    ax = plot_timeline(sample())
    dashed = [c for c in ax.collections if isinstance(c, PolyCollection)
              and c.get_linestyle()[0][1] is not None and c.get_linewidth()[0] == 1.0]
    (path,) = dashed[0].get_paths()
    assert path.vertices[:, 0].min() == pytest.approx(0.3)
    assert path.vertices[:, 0].max() == pytest.approx(0.5)  # no finish: up to "now"


def test_texts_name_never_started_marks_and_labels():
    ax = plot_timeline(sample())
    texts = [t.get_text() for t in ax.texts]
    assert any("never started" in t and "items" not in t and "item 4" in t for t in texts)
    assert "terminate()" in texts and "created" in texts
    assert {"0", "1", "2", "3 X"} <= set(texts)  # item labels on bars with room
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "failed (X)" in legend and "abandoned by terminate()" in legend


def test_labels_dropped_when_too_many():
    tasks = [task(i, i % 4, (i // 4) * 0.01, (i // 4) * 0.01 + 0.009) for i in range(400)]
    ax = plot_timeline(Trace.from_records(tasks))
    assert not any(t.get_text().isdigit() for t in ax.texts)
    assert polys(ax) == {"other": 400}


def test_png_has_the_expected_size():
    ax = plot_timeline(sample())
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", dpi=50)
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(io.BytesIO(buf.getvalue()))
    assert image.shape[:2] == (150, 450)  # figsize (9, 3) at 50 dpi


def test_empty_trace_says_so():
    ax = plot_timeline(Trace.from_records())
    assert [t.get_text() for t in ax.texts] == ["no tasks recorded"]


def test_given_axes_is_used_and_returned():
    fig, ax = plt.subplots()
    assert plot_timeline(sample(), ax=ax) is ax
    assert len(fig.axes) == 1


def test_json_round_trip_draws_the_same_png():
    def png(trace):
        buf = io.BytesIO()
        trace.plot().figure.savefig(buf, format="png", dpi=40)
        return buf.getvalue()

    trace = sample()
    assert png(Trace.from_json(trace.to_json())) == png(trace)


def test_color_by_outcome():
    ax = plot_timeline(sample(), color_by="outcome")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:3] == ["finished", "failed", "abandoned"]


@pytest.mark.parametrize("option, value", [("color_by", "thread"), ("labels", "some"),
                                           ("lane_names", "short"), ("show_wait", 1.5)])
def test_bad_options(option, value):
    with pytest.raises(ValueError, match=f"{option} must be one of"):
        plot_timeline(sample(), **{option: value})


def test_live_view_replaces_data_in_the_same_collections():
    view = TimelineView(figsize=(6, 2))
    try:
        view.update(sample()).draw()
        collections = list(view.ax.collections)
        more = Trace.from_records([task(i, i % 3, 0.0, 0.1) for i in range(9)])
        view.update(more).draw()
        assert list(view.ax.collections) == collections  # same artists, new data
        assert len(view.collections["task"].get_paths()) == 9
        assert not view.collections["failed"].get_paths()
        assert [t.get_text() for t in view.ax.get_yticklabels()][:3] == [
            "Thread-1 (worker)", "Thread-2 (worker)", "Thread-3 (worker)"]
        assert view.png()[:4] == b"\x89PNG"
    finally:
        view.close()


def test_recorded_live_trace_draws_running_task_to_now():
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            result = pool.apply_async(time.sleep, (0.5,))
            deadline = time.monotonic() + 5  # until the task has started, even under load
            while trace.tasks[0].started is None and time.monotonic() < deadline:
                time.sleep(0.01)
            ax = trace.plot()  # while the task runs
            result.get()
    running = [c for c in ax.collections if isinstance(c, PolyCollection)
               and c.get_linestyle()[0][1] is not None and c.get_linewidth()[0] < 1.0]
    (path,) = running[0].get_paths()
    assert path.vertices[:, 0].max() > path.vertices[:, 0].min()
    assert "now" in [t.get_text() for t in ax.texts]


def test_notebook_bundle_png_and_summary_without_times():
    import base64

    plt.close("all")
    bundle = sample()._repr_mimebundle_()
    assert set(bundle) == {"image/png", "text/plain"}
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert bundle["text/plain"] == ("<poolscope.Trace: 6 tasks (3 finished, 1 failed, "
                                    "1 abandoned, 1 never started) on 2 workers>")
    assert plt.get_fignums() == []  # drawn off pyplot: nothing to show twice, nothing left


def test_notebook_bundle_of_empty_trace_is_text_only():
    assert Trace.from_records()._repr_mimebundle_() == {
        "text/plain": "<poolscope.Trace: no tasks recorded>"}


def test_several_pools_are_told_apart():
    tasks = [task(0, 0, 0.0, 0.1), Task(1, "map", 1, 0, "Thread-9 (worker)", 0, 0.0, 0.0, 0.1,
                                        FINISHED, caller="MainThread")]
    events = [Event("close", 1, "MainThread", 0.1, 0.1, "ok")]
    pools = [PoolInfo(0, "ThreadPool", 1, 0.0), PoolInfo(1, "ThreadPool", 1, 0.0)]
    ax = plot_timeline(Trace.from_records(tasks, events, [], pools))
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "pool 0: Thread-1 (worker)", "pool 1: Thread-9 (worker)", "MainThread"]
    assert "pool 1 close()" in [t.get_text() for t in ax.texts]

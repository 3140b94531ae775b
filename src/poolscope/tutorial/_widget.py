"""The playground widget behind ``poolscope.explore()`` (imports ipywidgets: load lazily).

    >>> pg = Playground(Experiment(tasks=4, duration=0.01))
    >>> pg.run(wait=True), pg.last_trace.count("finished")
    (True, 4)
    >>> pg.close()

Threads: Run starts the experiment in a thread named "caller" (it is the caller lane
of the timeline), and :func:`~poolscope.tutorial._experiment.run` refreshes the view from a
thread of its own, so the kernel stays free while an experiment runs. Only that
refresh thread draws during a run; ``_lock`` guards ``_busy`` (one run at a time).
"""

from __future__ import annotations

import html
import threading
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from ._experiment import (APPLY, ASYNC, MAX_TASKS, MAX_WORKERS, Experiment, check_experiment,
                          check_interval, run)
from ._explain import code, explain
from ..render import snapshot
from ..trace import ABANDONED, NEVER_STARTED
from .workloads import METHODS

if TYPE_CHECKING:
    from ..render.mpl import TimelineView
    from ..trace import Trace

# "default" is 0, not None: a Dropdown shows the value None as "nothing selected".
_CHUNKSIZES = [("default", 0)] + [(str(n), n) for n in (1, 2, 3, 4, 5, 8, 10, 20, 50, 100)]
_SHUTDOWNS = [("close() + join()", "close-join"), ("terminate() + join()", "terminate"),
              ("with ThreadPool(...)", "with")]
_WIDE = {"style": {"description_width": "90px"}, "layout": w.Layout(width="340px")}


def _controls(e: Experiment) -> dict[str, w.ValueWidget]:
    """One widget per :class:`Experiment` field, set to ``e``'s values."""
    chunks = list(_CHUNKSIZES)
    if (e.chunksize or 0) not in [v for _, v in chunks]:
        chunks.append((str(e.chunksize), e.chunksize))
    return {
        "workers": w.IntSlider(e.workers, 1, MAX_WORKERS, description="workers", **_WIDE),
        "tasks": w.IntSlider(e.tasks, 1, MAX_TASKS, description="tasks", **_WIDE),
        "duration": w.FloatSlider(e.duration, min=0, max=2, step=0.05, readout_format=".2f",
                                  description="seconds each", **_WIDE),
        "jitter": w.FloatSlider(e.jitter, min=0, max=1, step=0.1, readout_format=".0%",
                                description="jitter +/-", **_WIDE),
        "work": w.ToggleButtons(options=[("IO (sleep)", "io"), ("CPU", "cpu")], value=e.work,
                                description="work", style={"description_width": "90px",
                                                           "button_width": "100px"}),
        "method": w.Dropdown(options=list(METHODS), value=e.method, description="method",
                             **_WIDE),
        "chunksize": w.Dropdown(options=chunks, value=e.chunksize or 0, description="chunksize",
                                **_WIDE),
        "callbacks": w.Checkbox(e.callbacks, description="callbacks", indent=True),
        "shutdown": w.Dropdown(options=_SHUTDOWNS, value=e.shutdown, description="shut down",
                               **_WIDE),
        "seed": w.IntText(e.seed, description="jitter seed", **_WIDE),
    }


class Playground(w.VBox):
    """Controls, Run/Stop, a progress bar, a live timeline, the summary and the code."""

    def __init__(self, experiment: Experiment | None = None, interval: float = 1 / 12):
        # Checked before any widget exists: a bad argument leaves nothing half-built,
        # and never fails later in the run's thread.
        if experiment is not None:
            check_experiment(experiment, "Playground()")
        check_interval(interval)
        self.controls = _controls(experiment or Experiment())
        self.interval = interval  # seconds between live frames (12 a second)
        self.run_button = w.Button(description="Run", button_style="primary", icon="play")
        self.stop_button = w.Button(description="Stop", icon="stop", disabled=True)
        self.progress = w.IntProgress(0, 0, 1, description="finished")
        self.count = w.Label("")
        self.notes = w.HTML()
        self.status = w.HTML("Set the controls and press Run.")
        self.image = w.Image(format="png")
        self.summary = w.HTML()
        self.last_trace: Trace | None = None
        self.frames = 0  # frames drawn in the last run
        self._view: TimelineView | None = None
        self._shown = experiment or Experiment()  # the experiment the view is drawn for
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._busy = False  # a run is going on (set by run(), cleared by its thread)
        self._lock = threading.Lock()  # guards _busy: one run at a time
        c = self.controls
        super().__init__([
            w.HBox([w.VBox([c[k] for k in ("workers", "tasks", "duration", "jitter", "work")]),
                    w.VBox([c[k] for k in ("method", "chunksize", "callbacks", "shutdown",
                                           "seed")])]),
            self.notes,
            w.HBox([self.run_button, self.stop_button, self.progress, self.count]),
            self.status, self.image, self.summary])
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        for control in c.values():
            control.observe(self._changed, names="value")
        self._changed()

    # -- the controls ---------------------------------------------------------------
    @property
    def experiment(self) -> Experiment:
        """The experiment the controls describe (ignored settings left out)."""
        v = {name: control.value for name, control in self.controls.items()}
        v["chunksize"] = None if v["method"] in APPLY else (v["chunksize"] or None)
        v["callbacks"] = v["callbacks"] and v["method"] in ASYNC
        return Experiment(**v)

    @property
    def running(self) -> bool:
        """True from Run until the run's results are shown."""
        return self._busy

    def _changed(self, change: Any = None) -> None:
        """Disable what the method ignores, say why, and check the rest."""
        c, method = self.controls, self.controls["method"].value
        c["chunksize"].disabled = method in APPLY
        c["callbacks"].disabled = method not in ASYNC
        c["seed"].disabled = not c["jitter"].value
        e = self.experiment
        notes = []
        if method in APPLY:
            notes.append(f"chunksize: {method} submits one task per call, so there is "
                         "nothing to chunk.")
        elif e.chunksize is None:
            rule = "1" if method.startswith("imap") else "ceil(tasks / (4 x workers))"
            notes.append(f"chunksize: the default for {method} is {rule}, here {e.chunk}.")
        if method not in ASYNC:
            notes.append(f"callbacks: {method} takes none (apply_async, map_async and "
                         "starmap_async do).")
        if e.drops:
            notes.append("shut down: it comes once the first tasks have started, while "
                         "the rest still wait in the queue.")
        problems = e.validate()
        notes += [f"<b>cannot run</b>: {html.escape(p)}" for p in problems]
        self.notes.value = "<br>".join(notes)
        self.run_button.disabled = bool(problems) or self.running

    # -- running --------------------------------------------------------------------
    def run(self, wait: bool = False) -> bool:
        """Start the experiment the controls describe (what Run does); False if
        refused (invalid, or a run still going on). ``wait``: return when done."""
        e = self.experiment
        problems = e.validate()
        with self._lock:
            if self._busy:
                self._say("A run is still going on: wait for it to finish (or press Stop) "
                          "before running again.")
                return False
            if problems:
                self._say("Cannot run: " + "; ".join(problems) + ".")
                return False
            self._busy = True
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._work, args=(e,), name="caller",
                                            daemon=True)
            self.run_button.disabled, self.stop_button.disabled = True, False
            self.progress.max, self.progress.value, self.progress.bar_style = e.tasks, 0, ""
            self.count.value = f"0 / {e.tasks} tasks"
            self._say(f"Running {e.tasks} tasks on {e.workers} workers ...")
            self.frames = 0
            self._thread.start()
        if wait:
            self.wait()
        return True

    def wait(self, timeout: float | None = None) -> None:
        """Return when the current run (if any) has finished."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def stop(self) -> None:
        """End the current run early: the tasks still to run return at once."""
        self._stop.set()

    def close(self) -> None:
        """Stop any run, close the figure, then close the widgets."""
        if getattr(self, "_closed", True):  # closed, or __init__ failed (__del__ calls it)
            return super().close()
        self._closed = True
        self.stop()
        self.wait()
        self._view = None  # a bare Figure, not pyplot's: nothing to unregister
        for control in self.controls.values():
            control.close()
        for part in (self.run_button, self.stop_button, self.progress, self.count,
                     self.notes, self.status, self.image, self.summary):
            part.close()
        super().close()

    def _work(self, e: Experiment) -> None:
        try:
            self._new_view(e)
            trace = run(e, on_update=self._frame, stop_event=self._stop,
                        interval=self.interval)
            self.last_trace = trace
            self._done(e, trace)
        except Exception as exc:  # never a traceback in the notebook: say what failed
            self._say(f"The run failed: {type(exc).__name__}: {exc}")
            self.progress.bar_style = "danger"
        finally:
            with self._lock:
                self._busy = False
            self.stop_button.disabled = True
            self._changed()  # re-enables Run, unless the controls are invalid now

    def _new_view(self, e: Experiment, xlim: str = "grow") -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from ..render.mpl import TimelineView

        # A bare Figure (not pyplot's): the inline backend never shows it by itself.
        # Fixed margins in inches (lane names left, legend right, marks on top): the
        # live view blits onto a cached background, so no layout engine runs per frame.
        width, height = 10.0, min(12.0, 0.22 * (e.workers + 3) + 1.2)
        figure = Figure(figsize=(width, height), dpi=100)
        FigureCanvasAgg(figure)
        figure.subplots_adjust(left=0.9 / width, right=1 - 2.0 / width, bottom=0.5 / height,
                               top=1 - 0.4 / height)
        # Colour by outcome: what shutdown dropped shows; apply* items are all index 0.
        self._view = TimelineView(figure.add_subplot(), color_by="outcome",
                                  lane_names="stable",
                                  labels="never" if e.method in APPLY else "auto", xlim=xlim)
        self._shown = e

    def _frame(self, trace: Trace) -> None:
        """Draw one frame (called from the refresh thread, then once at the end).

        Live frames are JPEG (ten times faster to encode than PNG here, and smaller on
        the wire); the last frame, the one that stays, is PNG, drawn afresh with the
        x axis fitted to the run (the live one only grows, in 1-2-5 steps).
        """
        snap = snapshot(trace)  # one consistent look for the picture and the count
        done = sum(1 for t in snap.tasks if t.finished is not None)
        if not snap.live:
            self._new_view(self._shown, xlim="fit")
        view = self._view
        assert view is not None
        view.update(snap)
        if snap.live:
            view.draw()
            picture, kind = _jpeg(view.figure.canvas), "jpeg"
        else:
            picture, kind = view.png(), "png"
        with self.image.hold_sync():  # bytes and format reach the browser together
            self.image.value, self.image.format = picture, kind
        self.progress.value = done
        self.count.value = f"{done} / {self.progress.max} tasks"
        self.frames += 1

    def _done(self, e: Experiment, trace: Trace) -> None:
        stopped = self._stop.is_set()
        lost = trace.count(ABANDONED) + trace.count(NEVER_STARTED)
        self.progress.bar_style = "warning" if stopped or lost else "success"
        self._say(explain(e, trace, stopped=stopped))
        self.summary.value = (f"<pre>{html.escape(str(trace.summary()))}</pre>"
                              f"<details><summary>the code this ran</summary>"
                              f"<pre>{html.escape(code(e))}</pre></details>")

    def _say(self, text: str) -> None:
        self.status.value = f"<p>{html.escape(text)}</p>"


def _jpeg(canvas: Any) -> bytes:
    """The Agg canvas as JPEG bytes."""
    import io

    from PIL import Image

    width, height = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="jpeg", quality=90)
    return out.getvalue()

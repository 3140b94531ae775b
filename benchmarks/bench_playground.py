"""What the playground's live view costs: per frame, and on the experiment it watches.

    python benchmarks/bench_playground.py           # 1,000 tasks, 5 repeats
    python benchmarks/bench_playground.py --quick   # 300 tasks, 2 repeats (a smoke test)

(a) Frame time. Snapshots of a real live run of 1,000 IO tasks are replayed through the
playground's frame (``TimelineView.update`` + blitted ``draw`` + JPEG, as during a run)
and through a bare ``PolyCollection`` of the same rectangles (``set_verts`` +
``set_facecolor`` + ``canvas.draw()``), on figures of the same size: once without and
once with the image encoding. Best of R, per frame. Target: ratio <= 2.
Also measured live (not a ratio): frames per second in the widget during that run, and
what one look at the live trace (``trace.data()``) costs.
(b) Overhead. The same experiment run through the widget (live refresh on) and with
``run()`` alone (recorded, no refresh), alternately; best makespan of R each.
Target: <= 5 %. The CPU-bound row is for information: there the refresh thread takes
its share of the GIL from the tasks themselves.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable


def best(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Best time of each function, run alternately so drift hits both alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: min(ts) for name, ts in times.items()}


def live_run(exp):
    """Run ``exp`` in the widget; returns (snapshots, frames/s, mean look at the trace)."""
    from poolscope.tutorial._widget import Playground
    from poolscope.render import snapshot

    pg = Playground(exp)
    frame, snaps, looks, times = pg._frame, [], [], []

    def recording_frame(trace):
        t0 = time.perf_counter()
        snap = snapshot(trace)
        looks.append(time.perf_counter() - t0)
        frame(snap)
        if snap.live:  # the last frame, of the finished trace, is not a live one
            snaps.append(snap)
            times.append(time.perf_counter())

    pg._frame = recording_frame
    pg._new_view(exp)  # the first figure (and matplotlib's import) outside the timing
    pg.run(wait=True)
    pg.close()
    fps = (len(times) - 1) / (times[-1] - times[0])  # while the experiment ran
    return snaps, fps, sum(looks) / len(looks)


def bench_frames(snaps, exp, repeats: int) -> dict[str, float]:
    import numpy as np
    from matplotlib.collections import PolyCollection

    from poolscope.tutorial._widget import Playground, _jpeg
    from poolscope.render._geometry import layout

    pg = Playground(exp)
    pg._new_view(exp)
    ours = pg._view
    pg._new_view(exp)  # a second figure of the same size for the bare collection
    bare_ax = pg._view.ax
    bare_ax.set_xlim(0, max(s.duration for s in snaps))
    bare_ax.set_ylim(-0.5, exp.workers + 2.5)
    for c in [*pg._view.collections.values(), pg._view.waits]:
        c.remove()  # leave only the bare collection on this figure
    pc = PolyCollection([], facecolors="C0")
    bare_ax.add_collection(pc)
    geos = [layout(s.data(), "outcome", True) for s in snaps]
    arrays = [(np.concatenate([b.verts for b in g.bars.values()]),
               np.concatenate([b.colours for b in g.bars.values()])) for g in geos]

    def bare(encode: bool):
        for verts, colours in arrays:
            pc.set_verts(verts)
            pc.set_facecolor(colours)
            bare_ax.figure.canvas.draw()
            if encode:
                _jpeg(bare_ax.figure.canvas)

    def playground(encode: bool):
        for snap in snaps:
            ours.update(snap).draw()
            if encode:
                _jpeg(ours.figure.canvas)

    result = best({"bare": lambda: bare(False), "ours": lambda: playground(False),
                   "bare+jpeg": lambda: bare(True), "ours+jpeg": lambda: playground(True)},
                  repeats)
    size = ours.figure.canvas.get_width_height()
    pg.close()
    return {k: v / len(snaps) for k, v in result.items()}, size


def bench_overhead(exp, repeats: int) -> dict[str, float]:
    from poolscope.tutorial._experiment import run
    from poolscope.tutorial._widget import Playground

    pg = Playground(exp)
    pg._new_view(exp)  # import matplotlib before timing
    makespans: dict[str, list[float]] = {"recorded": [], "live": []}
    for _ in range(repeats):
        makespans["recorded"].append(run(exp).summary().makespan)
        pg.run(wait=True)
        makespans["live"].append(pg.last_trace.summary().makespan)
    pg.close()
    return {k: min(v) for k, v in makespans.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 tasks, 2 repeats")
    args = parser.parse_args(argv)
    from poolscope.tutorial._experiment import Experiment

    tasks, repeats = (300, 2) if args.quick else (1000, 5)
    io_exp = Experiment(workers=20, tasks=tasks, duration=0.05)
    snaps, fps, look = live_run(io_exp)
    frames, (width, height) = bench_frames(snaps, io_exp, repeats)
    print(f"(a) frame time, {tasks:,} IO tasks on 20 workers: {len(snaps)} live snapshots "
          f"replayed on {width} x {height} px")
    print(f"    {'per frame':<28}{'bare (ms)':>10}{'playground (ms)':>17}{'ratio':>7}{'target':>8}")
    for label, a, b in (("render", "bare", "ours"), ("render + JPEG", "bare+jpeg", "ours+jpeg")):
        ratio = frames[b] / frames[a]
        print(f"    {label:<28}{frames[a] * 1e3:>10.1f}{frames[b] * 1e3:>17.1f}{ratio:>7.2f}"
              f"{2.0:>8}")
    print(f"    live in the widget: {fps:.1f} frames/s (target >= 10); "
          f"one look at the live trace {look * 1e3:.1f} ms")
    print(f"(b) overhead of the live view on the run (best makespan of {repeats})")
    print(f"    {'experiment':<40}{'recorded (s)':>13}{'live (s)':>10}{'overhead':>10}"
          f"{'target':>8}")
    cpu_exp = Experiment(workers=4, tasks=8 if args.quick else 20, duration=0.1, work="cpu")
    for label, exp, target in ((f"{tasks:,} IO tasks of 0.05 s, 20 workers", io_exp, "5%"),
                               (f"{cpu_exp.tasks} CPU tasks of 0.1 s, 4 workers", cpu_exp, "-")):
        r = bench_overhead(exp, repeats)
        over = r["live"] / r["recorded"] - 1
        print(f"    {label:<40}{r['recorded']:>13.3f}{r['live']:>10.3f}{over:>10.1%}{target:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

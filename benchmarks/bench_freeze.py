"""Freezing a big recording, its memory, and rendering the frozen trace.

    python benchmarks/bench_freeze.py                    # 2,000,000 tasks, 3 runs a workload
    python benchmarks/bench_freeze.py --n 200000 --runs 1   # a quick look

Workloads (4 workers, trivial tasks): ``imap`` (chunksize 1: one task per item, one
``next()`` event per item too) and ``map`` with the default chunksize. Each run is a
fresh process, in two phases:

1. timing, no tracemalloc: the loop, leaving the ``record()`` block (the freeze: logs
   to columns), then ``trace.text()``, ``trace.summary()`` and ``trace.plot()``
   (drawn to PNG with the Agg backend) on the frozen trace. numpy is imported before
   (its import, about 0.2 s once per process, is reported apart).
2. memory, under tracemalloc, the same workload again: bytes held by the recording's
   logs after the loop, by logs plus frozen trace after the freeze, and the peak
   during the freeze; each per task. Results are discarded as they come, so only
   poolscope's memory is counted.

Targets: freeze <= 2 s, recording + frozen trace <= 120 bytes a task, and text,
summary and plot working. Each figure is given as median (min-max) over runs: the
machine is shared, and wall-clock times vary with its load (the freeze's process CPU
time, printed too, varies much less; the load average is printed at the start and
the end).
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc

WORKLOADS = ("imap", "map")
TARGET_FREEZE_S = 2.0
TARGET_BYTES = 120


def identity(x):
    return x


def _run(pool, workload: str, n: int) -> None:
    if workload == "imap":
        for _ in pool.imap(identity, range(n)):
            pass
    else:
        pool.map(identity, range(n))  # the result list is dropped at once


def timing(workload: str, n: int) -> dict:
    from multiprocessing.pool import ThreadPool

    t = time.perf_counter()
    import numpy  # noqa: F401  # imported once per process; reported apart

    import_s = time.perf_counter() - t
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import poolscope

    rec = poolscope.record()
    trace = rec.start()
    pool = ThreadPool(4)
    t = time.perf_counter()
    _run(pool, workload, n)
    loop = time.perf_counter() - t
    pool.close()
    pool.join()
    t, cpu = time.perf_counter(), time.process_time()
    rec.stop()
    freeze, freeze_cpu = time.perf_counter() - t, time.process_time() - cpu
    assert len(trace.tasks) == n, (len(trace.tasks), n)
    out = dict(import_numpy_s=import_s, loop_s=loop, freeze_s=freeze, freeze_cpu_s=freeze_cpu,
               load=os.getloadavg()[0])
    t = time.perf_counter()
    text = trace.text()
    out["text_s"] = time.perf_counter() - t
    t = time.perf_counter()
    summary = trace.summary()
    out["summary_s"] = time.perf_counter() - t
    t = time.perf_counter()
    ax = trace.plot()
    ax.figure.savefig(io.BytesIO(), format="png")
    plt.close(ax.figure)
    out["plot_s"] = time.perf_counter() - t
    out["text_lines"] = len(text.splitlines())
    out["summary_tasks"] = summary.tasks
    return out


def memory(workload: str, n: int) -> dict:
    from multiprocessing.pool import ThreadPool

    import numpy  # noqa: F401

    import poolscope

    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    rec = poolscope.record()
    trace = rec.start()
    pool = ThreadPool(4)
    _run(pool, workload, n)
    pool.close()
    pool.join()
    gc.collect()
    logs = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.reset_peak()
    rec.stop()
    gc.collect()
    held, peak = (m - base for m in tracemalloc.get_traced_memory())
    del rec, pool  # the logs go with them; the frozen trace stays
    gc.collect()
    alone = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert len(trace.tasks) == n
    return dict(logs_b=logs / n, total_b=held / n, peak_b=peak / n, trace_b=alone / n)


def one(workload: str, n: int) -> None:
    """One run, in this process: prints a JSON line."""
    out = timing(workload, n)
    gc.collect()
    out.update(memory(workload, n))
    print(json.dumps(out))


def spread(values: list[float], fmt: str) -> str:
    med = statistics.median(values)
    if len(values) == 1:
        return format(med, fmt)
    return f"{format(med, fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000_000, help="tasks per workload")
    parser.add_argument("--runs", type=int, default=3, help="runs per workload")
    parser.add_argument("--one", choices=WORKLOADS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        one(args.one, args.n)
        return 0
    load = os.getloadavg()[0]
    print(f"CPython {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M')}, "
          f"{args.n:,} tasks, {args.runs} runs, load average {load:.1f} at the start")
    ok = True
    for workload in WORKLOADS:
        runs = []
        for _ in range(args.runs):
            got = subprocess.run([sys.executable, __file__, "--one", workload, "--n",
                                  str(args.n)], capture_output=True, text=True)
            if got.returncode:
                print(got.stderr)
                return 1
            runs.append(json.loads(got.stdout.strip().splitlines()[-1]))

        def col(key: str) -> list[float]:
            return [r[key] for r in runs]

        freeze, total = statistics.median(col("freeze_s")), statistics.median(col("total_b"))
        ok &= freeze <= TARGET_FREEZE_S and total <= TARGET_BYTES
        print(f"\n{workload} of {args.n:,} trivial items on 4 workers")
        print(f"  loop (recorded)         {spread(col('loop_s'), '.2f')} s")
        print(f"  freeze                  {spread(col('freeze_s'), '.2f')} s "
              f"(target <= {TARGET_FREEZE_S:g}){'' if freeze <= TARGET_FREEZE_S else '  MISSED'}")
        print(f"  freeze, CPU time        {spread(col('freeze_cpu_s'), '.2f')} s (what load "
              "does not stretch)")
        print("  freeze, each run        " + ", ".join(
            f"{r['freeze_s']:.2f} s ({r['freeze_cpu_s']:.2f} CPU, load {r['load']:.1f})"
            for r in runs))
        print(f"  numpy import (apart)    {spread(col('import_numpy_s'), '.2f')} s")
        print(f"  memory: logs            {spread(col('logs_b'), '.1f')} B a task")
        print(f"  memory: logs + trace    {spread(col('total_b'), '.1f')} B a task "
              f"(target <= {TARGET_BYTES}){'' if total <= TARGET_BYTES else '  MISSED'}")
        print(f"  memory: trace alone     {spread(col('trace_b'), '.1f')} B a task")
        print(f"  memory: peak in freeze  {spread(col('peak_b'), '.1f')} B a task")
        print(f"  text()                  {spread(col('text_s'), '.2f')} s "
              f"({runs[0]['text_lines']} lines)")
        print(f"  summary()               {spread(col('summary_s'), '.2f')} s")
        print(f"  plot() + savefig PNG    {spread(col('plot_s'), '.2f')} s")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

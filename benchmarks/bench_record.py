"""Recording overhead, measured side by side: plain ThreadPool vs recorded.

    python benchmarks/bench_record.py            # the issue's workloads, 7 rounds
    python benchmarks/bench_record.py --quick    # fewer rounds, smaller memory run

Each round runs the plain and the recorded version of a workload back to back (in
alternating order), and the ratio reported is the median over rounds of
recorded/plain, so background load hits both sides alike. Only the workload is
timed (submit -> all results); building the trace afterwards is reported apart.
Memory: tracemalloc's peak while recording N tasks, divided by N.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import timeit
import tracemalloc
from multiprocessing.pool import ThreadPool

import poolscope


def sleep_1ms(_):
    time.sleep(0.001)


def identity(x):
    return x


def apply_async_get(fn, n):
    def run(pool):
        results = [pool.apply_async(fn, (i,)) for i in range(n)]
        for r in results:
            r.get()
    return run


def map_chunks(n, chunksize):
    def run(pool):
        pool.map(identity, range(n), chunksize)
    return run


WORKLOADS = [
    # name, run, target ratio
    ("2,000 x sleep(1 ms), apply_async + get, 4 workers", apply_async_get(sleep_1ms, 2000), 1.02),
    ("10,000 trivial, apply_async + get", apply_async_get(identity, 10_000), 1.05),
    ("100,000 trivial, map(chunksize=1)", map_chunks(100_000, 1), 1.15),
    ("100,000 trivial, map (default chunksize)", map_chunks(100_000, None), 2.0),
]


def timed(run, recorded: bool) -> tuple[float, float]:
    """Seconds for the workload, and seconds to build the trace afterwards."""
    gc.collect()
    rec = poolscope.record()
    if recorded:
        rec.start()
    pool = ThreadPool(4)
    try:
        t0 = time.perf_counter()
        run(pool)
        elapsed = time.perf_counter() - t0
    finally:
        pool.close()
        pool.join()
    build = 0.0
    if recorded:
        t0 = time.perf_counter()
        rec.stop()
        _ = rec.trace.tasks
        build = time.perf_counter() - t0
    return elapsed, build


def overhead(rounds: int) -> bool:
    ok = True
    print(f"{'workload':52} {'plain s':>8} {'recorded s':>10} {'ratio':>6} {'target':>7} "
          f"{'build s':>7}")
    for name, run, target in WORKLOADS:
        ratios, plains, recs, builds = [], [], [], []
        for i in range(rounds):
            order = (False, True) if i % 2 == 0 else (True, False)
            got = {flag: timed(run, flag) for flag in order}
            plains.append(got[False][0])
            recs.append(got[True][0])
            builds.append(got[True][1])
            ratios.append(got[True][0] / got[False][0])
        ratio = statistics.median(ratios)
        ok &= ratio <= target
        print(f"{name:52} {statistics.median(plains):8.3f} {statistics.median(recs):10.3f} "
              f"{ratio:6.3f} {'<= ' + str(target):>7} {statistics.median(builds):7.3f}"
              f"{'' if ratio <= target else '  MISSED'}")
    return ok


def memory(n: int) -> float:
    """Bytes per task held by a recording of ``n`` trivial tasks (map, chunksize=1)."""
    with poolscope.record():
        with ThreadPool(4) as pool:
            tracemalloc.start()
            try:
                base = tracemalloc.get_traced_memory()[0]
                pool.map(identity, range(n), 1)
                held = tracemalloc.get_traced_memory()[0] - base
            finally:
                tracemalloc.stop()
    return held / n


def _burn(k: int = 20) -> None:
    for _ in range(k):
        pass


def _busy_worker(inqueue, outqueue, initializer=None, initargs=(), maxtasks=None,
                 wrap_exception=False):
    """CPython's ThreadPool worker loop plus a do-nothing loop (~350 ns) per task."""
    put, get = outqueue.put, inqueue.get
    while True:
        task = get()
        if task is None:
            break
        job, i, func, args, kwds = task
        _burn()
        try:
            result = (True, func(*args, **kwds))
        except Exception as e:
            result = (False, e)
        put((job, i, result))
        task = job = result = func = args = kwds = None


def floor(rounds: int) -> None:
    """Reference, not a target: what ~350 ns of extra work per task costs a plain,
    unrecorded pool on map(chunksize=1) (about what recording adds: two clock reads
    and one record). GIL hand-offs amplify any per-task work in the worker."""
    from multiprocessing import pool as mp_pool

    burn_ns = min(timeit.repeat(_burn, number=100_000, repeat=5)) / 100_000 * 1e9
    run = map_chunks(100_000, 1)
    ratios = []
    for i in range(rounds):
        times = {}
        for busy in ((False, True) if i % 2 == 0 else (True, False)):
            gc.collect()
            saved = mp_pool.worker
            mp_pool.worker = _busy_worker if busy else saved  # read when workers start
            try:
                pool = ThreadPool(4)
            finally:
                mp_pool.worker = saved
            t0 = time.perf_counter()
            run(pool)
            times[busy] = time.perf_counter() - t0
            pool.close()
            pool.join()
        ratios.append(times[True] / times[False])
    print(f"reference: plain pool, worker + {burn_ns:.0f} ns of no-op per task, "
          f"map(chunksize=1) of 100,000: {statistics.median(ratios):.3f}x (no recording)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds, 100,000-task memory run")
    args = parser.parse_args(argv)
    print(f"CPython {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M')}")
    ok = overhead(3 if args.quick else 7)
    floor(3 if args.quick else 7)
    n = 100_000 if args.quick else 1_000_000
    per_task = memory(n)
    print(f"memory: {per_task:.1f} bytes per recorded task at {n:,} tasks "
          f"(target <= 120){'' if per_task <= 120 else '  MISSED'}")
    return 0 if ok and per_task <= 120 else 1


if __name__ == "__main__":
    sys.exit(main())
